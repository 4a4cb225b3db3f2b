// Open one connection string with a Node driver, exactly as an app would, and print the row
// of the query as JSON. Usage: node connect.js pg|postgres; the string is in $DATABASE_URL.
// Neon's host names do not resolve here: $NEON_SYNC_RESOLVE ({"host": ["addr", port]})
// swaps host:port at the socket, below the driver, so the driver still sends the Neon host
// as TLS SNI and verifies the certificate against it.
"use strict";
const net = require("net");

const resolve = JSON.parse(process.env.NEON_SYNC_RESOLVE || "{}");
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  if (typeof args[0] === "object" && args[0] !== null && resolve[args[0].host]) {
    const [host, port] = resolve[args[0].host];
    args[0] = { ...args[0], host, port };
  } else if (typeof args[1] === "string" && resolve[args[1]]) {
    const [host, port] = resolve[args[1]];
    args[0] = port;
    args[1] = host;
  }
  return connect.apply(this, args);
};

const QUERY = "select current_user as user, current_database() as db";

async function viaPg(url) {
  const { Client } = require("pg");
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(QUERY);
    const tls = client.connection.stream.getProtocol ? client.connection.stream.getProtocol() : null;
    return { ...rows[0], tls };
  } finally {
    await client.end();
  }
}

async function viaPostgres(url) {
  const postgres = require("postgres");
  const sql = postgres(url, { max: 1, connect_timeout: 10 });
  try {
    const rows = await sql.unsafe(QUERY);
    return { ...rows[0], tls: null };
  } finally {
    await sql.end();
  }
}

const drivers = { pg: viaPg, postgres: viaPostgres };
drivers[process.argv[2]](process.env.DATABASE_URL).then(
  (row) => console.log(JSON.stringify(row)),
  (err) => {
    console.error(String(err && err.message));
    process.exit(1);
  },
);
