"""A throwaway local Postgres with PgBouncer in front: the same direct/pooled split Neon has,
TLS on (a self-signed certificate), SCRAM-SHA-256 passwords, PgBouncer in transaction mode.
For the real-driver tests and `neon-sync demo --postgres`; needs the server binaries
(initdb, pg_ctl, postgres) and pgbouncer on PATH or in Debian's usual folders."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from neon_sync.errors import NeonSyncError

# The superuser that sets up roles; it logs in over the Unix socket only (trust there).
ADMIN = "cloud_admin"
ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class LocalPostgres:
    """Where the throwaway server listens: `direct_port` is Postgres, `pooled_port` PgBouncer."""

    folder: Path
    direct_port: int
    pooled_port: int
    cert: Path  # the self-signed certificate, which is its own CA
    address: str = ADDRESS

    def resolve_for(self, direct_host: str, pooled_host: str) -> dict[str, tuple[str, int]]:
        """`check --resolve`-style entries sending a Neon endpoint's two hosts here."""
        return {
            direct_host: (self.address, self.direct_port),
            pooled_host: (self.address, self.pooled_port),
        }


def stop_server(pg: LocalPostgres) -> None:
    """Stop the Postgres server (PgBouncer stays up), as a suspended or crashed compute."""
    _run([binary("pg_ctl") or "pg_ctl", "-D", str(pg.folder / "data"), "-m", "fast", "-w",
          "stop"], _runas())  # fmt: skip


def binary(name: str) -> str | None:
    """`name` on PATH, else in Debian's versioned server folder (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name, path="/usr/sbin:/usr/bin")


def missing_binaries() -> list[str]:
    return [name for name in ("initdb", "pg_ctl", "pgbouncer", "openssl") if binary(name) is None]


@contextmanager
def local_postgres(
    roles: Mapping[str, str],
    databases: Mapping[str, str],
    cert_names: Sequence[str] = (),
) -> Iterator[LocalPostgres]:
    """Start Postgres and PgBouncer with these roles (name -> password) and databases
    (name -> owner); the certificate also names `cert_names` (DNS names, wildcards allowed).
    Everything is stopped and removed on exit."""
    missing = missing_binaries()
    if missing:
        raise NeonSyncError(
            f"a local Postgres needs {', '.join(missing)}; install the postgresql and "
            "pgbouncer packages (Debian: apt-get install postgresql pgbouncer)"
        )
    folder = Path(tempfile.mkdtemp(prefix="neon-sync-pg-"))
    # initdb and pgbouncer refuse to run as root: run them as the postgres user then.
    runas = _runas()
    try:
        folder.chmod(0o755)
        cert = _certificate(folder, cert_names)
        direct, pooled = _free_port(), _free_port()
        _init(folder, direct, runas)
        _run([binary("pg_ctl") or "pg_ctl", "-D", str(folder / "data"), "-w", "-t", "30",
              "-l", str(folder / "postgres.log"), "start"], runas)  # fmt: skip
        try:
            _create(folder, direct, roles, databases)
            _pgbouncer(folder, direct, pooled, roles, runas)
            try:
                yield LocalPostgres(folder, direct, pooled, cert)
            finally:
                _stop_pgbouncer(folder)
        finally:
            _run([binary("pg_ctl") or "pg_ctl", "-D", str(folder / "data"), "-m", "immediate",
                  "-w", "stop"], runas, check=False)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _runas() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _run(argv: list[str], runas: list[str], *, check: bool = True) -> None:
    done = subprocess.run(  # noqa: S603 - fixed binaries, arguments built here
        runas + argv, capture_output=True, text=True, timeout=60, check=False
    )
    if check and done.returncode != 0:
        raise NeonSyncError(f"{Path(argv[0]).name} failed: {done.stderr.strip()[-500:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port: int = sock.getsockname()[1]
        return port


def _certificate(folder: Path, names: Sequence[str]) -> Path:
    san = ",".join(["DNS:localhost", f"IP:{ADDRESS}", *(f"DNS:{name}" for name in names)])
    key, cert = folder / "server.key", folder / "server.crt"
    _run([binary("openssl") or "openssl", "req", "-x509", "-newkey", "ec",
          "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
          "-subj", "/CN=localhost", "-addext", f"subjectAltName={san}",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-keyout", str(key), "-out", str(cert)], [])  # fmt: skip
    key.chmod(0o600)
    _own(folder)
    return cert


def _own(folder: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        for path in folder.rglob("*"):
            shutil.chown(path, "postgres", "postgres")


def _init(folder: Path, port: int, runas: list[str]) -> None:
    data = folder / "data"
    _run([binary("initdb") or "initdb", "-D", str(data), "-U", ADMIN, "-E", "UTF8",
          "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"], runas)  # fmt: skip
    settings = {
        "listen_addresses": f"'{ADDRESS}'",
        "port": str(port),
        "unix_socket_directories": f"'{folder}'",
        "ssl": "on",
        "ssl_cert_file": f"'{folder / 'server.crt'}'",
        "ssl_key_file": f"'{folder / 'server.key'}'",
        "password_encryption": "'scram-sha-256'",
        # A throwaway cluster: durability only costs time here.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "50",
    }
    with (data / "postgresql.conf").open("a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    # TLS or nothing over TCP, as on Neon; the Unix socket is for setup and PgBouncer.
    (data / "pg_hba.conf").write_text(
        f"local all all trust\nhostssl all all {ADDRESS}/32 scram-sha-256\n"
    )


def _create(
    folder: Path, port: int, roles: Mapping[str, str], databases: Mapping[str, str]
) -> None:
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise NeonSyncError(
            "a local Postgres is set up with psycopg 3: pip install 'neon-sync[check]'"
        ) from None
    with psycopg.connect(
        host=str(folder), port=port, user=ADMIN, dbname="postgres", autocommit=True
    ) as conn:
        for role, password in roles.items():
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        for database, owner in databases.items():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )


def _pgbouncer(
    folder: Path, server_port: int, port: int, roles: Mapping[str, str], runas: list[str]
) -> None:
    users = "".join(f'"{_q(role)}" "{_q(password)}"\n' for role, password in roles.items())
    (folder / "userlist.txt").write_text(users)
    (folder / "userlist.txt").chmod(0o600)
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={folder} port={server_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = {ADDRESS}\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = scram-sha-256\n"
        f"auth_file = {folder / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        "client_tls_sslmode = require\n"
        f"client_tls_cert_file = {folder / 'server.crt'}\n"
        f"client_tls_key_file = {folder / 'server.key'}\n"
        # Drivers send these at startup; Neon's pooler accepts them too.
        "ignore_startup_parameters = extra_float_digits,options,search_path\n"
        f"pidfile = {folder / 'pgbouncer.pid'}\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    _own(folder)
    _run([binary("pgbouncer") or "pgbouncer", "-d", str(folder / "pgbouncer.ini")], runas)
    _wait_for(port)


def _q(text: str) -> str:
    # PgBouncer's auth_file: double-quoted fields, a " inside doubled.
    return text.replace('"', '""')


def _wait_for(port: int) -> None:
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection((ADDRESS, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise NeonSyncError(f"pgbouncer did not listen on port {port} within 15 s")


def _stop_pgbouncer(folder: Path) -> None:
    import signal

    try:
        pid = int((folder / "pgbouncer.pid").read_text().strip())
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError):
        pass
