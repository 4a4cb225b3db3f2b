"""Readers written from the documented grammars of drivers whose runtime these machines do not
have (.NET's Npgsql, Go's pgx, Ruby's pg gem through libpq, Prisma's engines). A test reads
neon-sync's string back with them and checks each value arrives as written."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit


def npgsql_parse(text: str) -> dict[str, str]:
    """DbConnectionStringBuilder's grammar (Npgsql's NpgsqlConnectionStringBuilder):
    `key=value` pairs separated by `;`; keys case-insensitive; a value may be quoted with " or
    ' (the quote doubled inside); unquoted values end at `;` and are trimmed."""
    out: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] == ";"):
            i += 1
        if i >= n:
            break
        eq = text.index("=", i)
        key = " ".join(text[i:eq].split()).lower()
        i = eq + 1
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] in "\"'":
            quote, i, value = text[i], i + 1, []
            while True:
                if text[i] == quote:
                    if i + 1 < n and text[i + 1] == quote:
                        value.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            while i < n and text[i] == " ":
                i += 1
            assert i == n or text[i] == ";", f"junk after a quoted value at {i}"
            out[key] = "".join(value)
        else:
            end = text.find(";", i)
            end = n if end < 0 else end
            raw = text[i:end].strip()
            assert not raw or raw[0] not in "\"'", "an unquoted value cannot start with a quote"
            assert not any(ord(c) < 32 for c in raw), "control character in an unquoted value"
            out[key] = raw
            i = end
    return out


def url_parse(text: str, schemes: tuple[str, ...]) -> dict[str, str]:
    """A postgres URL the way pgx's ParseConfig, Prisma's connector and Rails' (libpq's) URL
    handling read it: scheme, percent-decoded userinfo, host, port, path as database, query
    parameters percent-decoded (a `+` stays a plus, unlike form encoding)."""
    parts = urlsplit(text)
    assert parts.scheme in schemes, parts.scheme
    out = {
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "host": parts.hostname or "",
        "port": str(parts.port or 5432),
        "database": unquote(parts.path.removeprefix("/")),
    }
    query = parts.query.replace("+", "%2B")
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        assert key not in out, f"{key} given twice"
        out[key] = value
    return out


# pgx v5 (pgconn.ParseConfig) consumes these URL parameters itself; any other is sent to the
# server as a run-time parameter, where an unknown one fails the connection.
PGX_KNOWN = frozenset(
    {
        "host", "port", "database", "user", "password", "passfile", "connect_timeout",
        "sslmode", "sslkey", "sslcert", "sslrootcert", "sslpassword", "sslsni",
        "krbspn", "krbsrvname", "target_session_attrs", "service", "servicefile",
        "min_read_buffer_size", "options", "application_name",
    }
)  # fmt: skip
