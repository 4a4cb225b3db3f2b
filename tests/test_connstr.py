from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from neon_sync.errors import ConfigError
from neon_sync.neon.connstr import (
    FORMATS,
    ConnectionInfo,
    Format,
    UrlOptions,
    build,
    masked,
    parts,
    pooled_host,
)
from neon_sync.secret import Secret, scrub
from tests.grammars import npgsql_parse

HOST = "ep-holy-night-ad39jkqj.c-2.us-east-2.aws.neon.tech"
POOLED = "ep-holy-night-ad39jkqj-pooler.c-2.us-east-2.aws.neon.tech"
EP = "ep-holy-night-ad39jkqj"
PW = "npg_Z9qLx2RvT4mK"


def info(
    role: str = "neondb_owner",
    password: str = PW,
    database: str = "neondb",
    host: str = HOST,
    port: int = 5432,
) -> ConnectionInfo:
    return ConnectionInfo(host, EP, role, Secret(password), database, port)


def text_of(opts: UrlOptions, conn: ConnectionInfo | None = None) -> str:
    return build(conn or info(), opts).reveal()


def libpq_parse(conn_string: str) -> dict[str, str]:
    # libpq refuses query parameters it does not know; pgbouncer=true is Prisma's own.
    if conn_string.startswith("postgresql://") and "?" in conn_string:
        head, query = conn_string.split("?", 1)
        kept = [p for p in query.split("&") if not p.startswith("pgbouncer=")]
        conn_string = head + ("?" + "&".join(kept) if kept else "")
    return {k: str(v) for k, v in conninfo_to_dict(conn_string).items()}


def jdbc_parse(conn_string: str) -> tuple[str, str, dict[str, str]]:
    """(netloc, database, params) decoded as pgJDBC does (URLDecoder: "+" is a space)."""
    assert conn_string.startswith("jdbc:postgresql://")
    split = urlsplit(conn_string.removeprefix("jdbc:"))
    pairs = parse_qsl(split.query, keep_blank_values=True, strict_parsing=bool(split.query))
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "a repeated parameter"
    return split.netloc, unquote_plus(split.path[1:]), dict(pairs)


# --- exact strings for a sample --------------------------------------------------------


def test_default_uri_matches_neons_connection_uri() -> None:
    assert text_of(UrlOptions()) == (
        f"postgresql://neondb_owner:{PW}@{HOST}/neondb?sslmode=require&channel_binding=require"
    )


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize(
    ("role", "password", "database"),
    [("neondb_owner", PW, "neondb"), ("app user@x", "p:w/d?#%", "my db/日本")],
)
def test_default_uri_equals_the_neon_emulators_connection_uri(
    pooled: bool, role: str, password: str, database: str
) -> None:
    # The emulator's GET /connection_uri is the team's stand-in for Neon's: drift between
    # the two would make every sync against it look like a change.
    from neon_sync.emulators.neon_state import connection_uri, pooler_host

    host = pooler_host(HOST) if pooled else HOST
    conn = info(role=role, password=password, database=database)
    expected = connection_uri(role, password, host, database)
    assert text_of(UrlOptions(pooled=pooled), conn) == expected


def test_pooled_uri_uses_the_pooler_host() -> None:
    assert text_of(UrlOptions(pooled=True)) == (
        f"postgresql://neondb_owner:{PW}@{POOLED}/neondb?sslmode=require&channel_binding=require"
    )


def test_pooled_prisma_adds_pgbouncer_and_connect_timeout() -> None:
    assert text_of(UrlOptions(pooled=True, format="prisma")) == (
        f"postgresql://neondb_owner:{PW}@{POOLED}/neondb"
        "?sslmode=require&channel_binding=require&pgbouncer=true&connect_timeout=15"
    )


def test_direct_prisma_is_the_plain_uri() -> None:
    assert text_of(UrlOptions(format="prisma")) == text_of(UrlOptions())


def test_jdbc_carries_credentials_in_the_query() -> None:
    assert text_of(UrlOptions(pooled=True, format="jdbc")) == (
        f"jdbc:postgresql://{POOLED}/neondb?user=neondb_owner&password={PW}"
        "&sslmode=require&channelBinding=require"
    )


def test_dsn_is_libpq_keyword_value() -> None:
    assert text_of(UrlOptions(format="dsn")) == (
        f"host={HOST} dbname=neondb user=neondb_owner password={PW}"
        " sslmode=require channel_binding=require"
    )


def test_sni_workaround_adds_endpoint_option_in_every_format() -> None:
    sni = f"options=endpoint%3D{EP}"
    assert text_of(UrlOptions(sni_workaround=True)).endswith(f"&channel_binding=require&{sni}")
    assert text_of(UrlOptions(format="jdbc", sni_workaround=True)).endswith(
        f"&channelBinding=require&{sni}"
    )
    assert text_of(UrlOptions(format="prisma", pooled=True, sni_workaround=True)).endswith(
        f"&channel_binding=require&{sni}&pgbouncer=true&connect_timeout=15"
    )
    assert text_of(UrlOptions(format="dsn", sni_workaround=True)).endswith(
        f"channel_binding=require options='endpoint={EP}'"
    )


def test_params_come_last_in_their_given_order() -> None:
    opts = UrlOptions(
        format="prisma", pooled=True, params={"schema": "app/v1", "application_name": "a b"}
    )
    assert text_of(opts).endswith("&connect_timeout=15&schema=app%2Fv1&application_name=a%20b")
    dsn = text_of(UrlOptions(format="dsn", params={"application_name": "a b"}))
    assert dsn.endswith("channel_binding=require application_name='a b'")


def test_channel_binding_none_is_omitted() -> None:
    for fmt in FORMATS:
        text = text_of(UrlOptions(format=fmt, channel_binding=None))
        assert "channel" not in text.lower(), fmt
        assert ("SSL Mode=Require" if fmt == "npgsql" else "sslmode=require") in text


def test_bare_has_no_query_parameters() -> None:
    opts = UrlOptions(bare=True, sni_workaround=True, params={"x": "y"})
    assert text_of(opts) == f"postgresql://neondb_owner:{PW}@{HOST}/neondb"
    assert text_of(UrlOptions(format="prisma", pooled=True, bare=True)) == (
        f"postgresql://neondb_owner:{PW}@{POOLED}/neondb"
    )
    assert text_of(UrlOptions(format="dsn", bare=True)) == (
        f"host={HOST} dbname=neondb user=neondb_owner password={PW}"
    )
    # pgJDBC has nowhere else for the credentials.
    assert text_of(UrlOptions(format="jdbc", bare=True)) == (
        f"jdbc:postgresql://{HOST}/neondb?user=neondb_owner&password={PW}"
    )


def test_non_default_port_is_written_and_default_is_not() -> None:
    conn = info(port=6543)
    assert text_of(UrlOptions(), conn).startswith(f"postgresql://neondb_owner:{PW}@{HOST}:6543/")
    assert text_of(UrlOptions(format="jdbc"), conn).startswith(f"jdbc:postgresql://{HOST}:6543/")
    assert f"host={HOST} port=6543 dbname=" in text_of(UrlOptions(format="dsn"), conn)
    assert ":5432" not in text_of(UrlOptions()) and "port=" not in text_of(UrlOptions(format="dsn"))


def test_ipv6_host_is_bracketed_in_uri_and_plain_in_dsn() -> None:
    conn = info(host="::1", port=5433)
    assert libpq_parse(text_of(UrlOptions(), conn))["host"] == "::1"
    assert "@[::1]:5433/" in text_of(UrlOptions(), conn)
    assert libpq_parse(text_of(UrlOptions(format="dsn"), conn))["host"] == "::1"


def test_empty_password_leaves_password_out() -> None:
    conn = info(password="")
    assert text_of(UrlOptions(), conn).startswith(f"postgresql://neondb_owner@{HOST}/")
    assert "password" not in libpq_parse(text_of(UrlOptions(), conn))
    assert "password" not in text_of(UrlOptions(format="dsn"), conn)
    assert "password" not in text_of(UrlOptions(format="jdbc"), conn)
    assert (
        masked(conn, UrlOptions()) == "postgresql://neondb_owner@ep-holy-night-ad39jkqj.../neondb"
    )


# --- masked forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        (
            UrlOptions(pooled=True),
            "postgresql://neondb_owner:****@ep-holy-night-ad39jkqj-pooler.../neondb",
        ),
        (UrlOptions(), "postgresql://neondb_owner:****@ep-holy-night-ad39jkqj.../neondb"),
        (
            UrlOptions(format="prisma", pooled=True),
            "postgresql://neondb_owner:****@ep-holy-night-ad39jkqj-pooler.../neondb",
        ),
        (
            UrlOptions(format="jdbc"),
            "jdbc:postgresql://ep-holy-night-ad39jkqj.../neondb?user=neondb_owner&password=****",
        ),
        (
            UrlOptions(format="dsn", pooled=True),
            "host=ep-holy-night-ad39jkqj-pooler... dbname=neondb user=neondb_owner password=****",
        ),
    ],
)
def test_masked_form_shows_role_first_label_and_database(opts: UrlOptions, expected: str) -> None:
    secret = build(info(), opts)
    assert secret.masked == expected == masked(info(), opts)
    assert str(secret) == expected
    assert PW not in repr(secret)


def test_masked_single_label_host_is_not_shortened() -> None:
    assert masked(info(host="localhost"), UrlOptions()) == (
        "postgresql://neondb_owner:****@localhost/neondb"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_password_is_scrubbed_from_output_in_every_format(fmt: Format) -> None:
    # Made with a custom mask, so it is not remembered on creation: build() must do it.
    password = "it's a \\ p@ss"
    conn = ConnectionInfo(HOST, EP, "neondb_owner", Secret(password, masked="x"), "neondb")
    text = build(conn, UrlOptions(format=fmt)).reveal()
    scrubbed = scrub(f"failed: {text}")
    assert "p@ss" not in scrubbed and "p%40ss" not in scrubbed
    assert "****" in scrubbed


# Role and database never contain the marker, so any trace of it in a masked form would be
# the password leaking, in whatever encoding.
MARK = "\u00a7"
_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_nasty = st.sampled_from([*"@:/?#% '\\\"=&+;\t\n", "é", "日", "\u00a0", "%25", "%00"])
names = st.lists(st.one_of(_nasty, _chars), min_size=1, max_size=10).map("".join)
options = st.builds(
    UrlOptions,
    pooled=st.booleans(),
    format=st.sampled_from(FORMATS),
    sslmode=st.sampled_from(["require", "verify-full", "prefer"]),
    channel_binding=st.sampled_from(["require", None]),
    sni_workaround=st.booleans(),
    bare=st.booleans(),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    role=names.filter(lambda s: MARK not in s),
    database=names.filter(lambda s: MARK not in s),
    pw1=names,
    pw2=names,
    opts=options,
)
def test_masked_form_never_depends_on_or_shows_the_password(
    role: str, database: str, pw1: str, pw2: str, opts: UrlOptions
) -> None:
    password = MARK + pw1
    secret = build(info(role=role, password=password, database=database), opts)
    other = build(info(role=role, password=MARK + pw2, database=database), opts)
    assert secret.masked == other.masked
    for shown in (secret.masked, str(secret), repr(secret)):
        for form in (password, quote(password, safe=""), quote_plus(password), MARK, "%C2%A7"):
            assert form not in shown
            assert form.lower() not in shown.lower()


# --- round trips through real parsers ----------------------------------------------------

ADVERSARIAL = [
    ("user@corp", "p@ss:w/rd?#x", "db name"),
    ("a:b/c", "100%", "q?uery#frag"),
    ("o'brien", "back\\slash'quote\"", "equals=sign&amp"),
    ("日本語ロール", "pässwörd ✓", "データ"),
    ("sp ace", " leading and trailing ", "tab\there"),
    ("plus+sign", "a+b c", "semi;colon"),
    ("%25", "%41%", "%2F"),
    ("=", "=", "="),
    ("'quoted'", "'", "'db"),
]


@pytest.mark.parametrize("fmt", ["uri", "dsn", "prisma"])
@pytest.mark.parametrize(("role", "password", "database"), ADVERSARIAL)
def test_libpq_reads_back_adversarial_names(
    fmt: Format, role: str, password: str, database: str
) -> None:
    conn = info(role=role, password=password, database=database)
    got = libpq_parse(text_of(UrlOptions(format=fmt, pooled=True, sni_workaround=True), conn))
    assert got["user"] == role
    assert got["password"] == password
    assert got["dbname"] == database
    assert got["host"] == POOLED
    assert got["sslmode"] == "require"
    assert got["channel_binding"] == "require"
    assert got["options"] == f"endpoint={EP}"


@pytest.mark.parametrize(("role", "password", "database"), ADVERSARIAL)
def test_jdbc_query_decodes_back_to_adversarial_names(
    role: str, password: str, database: str
) -> None:
    conn = info(role=role, password=password, database=database)
    netloc, db, params = jdbc_parse(text_of(UrlOptions(format="jdbc", sni_workaround=True), conn))
    assert (netloc, db) == (HOST, database)
    assert params == {
        "user": role,
        "password": password,
        "sslmode": "require",
        "channelBinding": "require",
        "options": f"endpoint={EP}",
    }


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(role=names, password=st.one_of(st.just(""), names), database=names, opts=options)
def test_every_format_parses_back_to_the_same_values(
    role: str, password: str, database: str, opts: UrlOptions
) -> None:
    conn = info(role=role, password=password, database=database, port=6543)
    text = text_of(opts, conn)
    host = POOLED if opts.pooled else HOST
    if opts.format == "jdbc":
        netloc, db, params = jdbc_parse(text)
        got = {"host": netloc, "dbname": db, **params}
        assert got.pop("host") == f"{host}:6543"
    elif opts.format == "npgsql":
        names = {"database": "dbname", "username": "user", "ssl mode": "sslmode"}
        got = {names.get(k, k): v for k, v in npgsql_parse(text).items()}
        if "sslmode" in got:
            got["sslmode"] = got["sslmode"].lower().replace("verifyfull", "verify-full")
        assert got.pop("host") == host
        assert got.pop("port") == "6543"
        got.pop("channel binding", None)
        got.pop("options", None)
    else:
        # SQLAlchemy's dialect hands psycopg the same URL minus "+psycopg".
        got = libpq_parse(text.replace("postgresql+psycopg://", "postgresql://", 1))
        assert got.pop("host") == host
        assert got.pop("port") == "6543"
    assert got.pop("user") == role
    assert got.pop("dbname") == database
    assert got.pop("password", "") == password
    if opts.bare:
        assert got == {}
    else:
        assert got.pop("sslmode") == opts.sslmode
    if opts.format == "prisma" and opts.pooled and not opts.bare:
        query = dict(parse_qsl(urlsplit(text).query))
        assert (query["pgbouncer"], query["connect_timeout"]) == ("true", "15")


# --- pooled host ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (HOST, POOLED),
        ("ep-y.eastus2.azure.neon.tech", "ep-y-pooler.eastus2.azure.neon.tech"),
        ("ep-z.us-east-2.aws.neon.tech", "ep-z-pooler.us-east-2.aws.neon.tech"),
        ("ep-a.neon.tech", "ep-a-pooler.neon.tech"),
        ("ep-b.example", "ep-b-pooler.example"),
        ("localhost", "localhost-pooler"),
        ("ep-c.neon.tech.", "ep-c-pooler.neon.tech."),
    ],
)
def test_pooled_host_suffixes_the_first_label(host: str, expected: str) -> None:
    assert pooled_host(host) == expected
    assert pooled_host(expected) == expected


def test_pooled_host_refuses_ip_addresses_and_junk() -> None:
    for host in ("127.0.0.1", "::1", "", "a b.neon.tech", "user@host", ".neon.tech"):
        with pytest.raises(ConfigError):
            pooled_host(host)


# --- parts (libpq environment) ----------------------------------------------------------


def test_parts_gives_libpq_variables_with_only_the_password_masked() -> None:
    got = parts(info(database="parts_db_name"), UrlOptions(pooled=True, sslmode="verify-full"))
    assert {k: v.reveal() for k, v in got.items()} == {
        "PGHOST": POOLED,
        "PGPORT": "5432",
        "PGUSER": "neondb_owner",
        "PGPASSWORD": PW,
        "PGDATABASE": "parts_db_name",
        "PGSSLMODE": "verify-full",
    }
    assert {k: v.masked for k, v in got.items()}["PGPASSWORD"] == "****"
    assert got["PGHOST"].masked == POOLED and got["PGDATABASE"].masked == "parts_db_name"
    # Plain values must not join the scrub list, or every later "5432" would be masked.
    assert scrub("parts_db_name on 5432") == "parts_db_name on 5432"


# --- refused input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sslmode": "required"},
        {"channel_binding": "yes"},
        {"format": "odbc"},
        {"sslmode": "disable", "channel_binding": "require"},
        {"params": {"bad key": "x"}},
        {"params": {"": "x"}},
        {"params": {"k": "a\x00b"}},
    ],
)
def test_invalid_options_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        UrlOptions(**kwargs)


@pytest.mark.parametrize(
    ("fmt", "key", "extra"),
    [
        ("uri", "sslmode", {}),
        ("uri", "options", {"sni_workaround": True}),
        ("prisma", "pgbouncer", {"pooled": True}),
        ("jdbc", "password", {}),
        ("jdbc", "channelBinding", {}),
        ("dsn", "host", {}),
        ("dsn", "user", {}),
    ],
)
def test_params_that_repeat_a_generated_keyword_are_refused(
    fmt: Format, key: str, extra: dict[str, Any]
) -> None:
    opts = UrlOptions(format=fmt, params={key: "x"}, **extra)
    with pytest.raises(ConfigError, match=key):
        build(info(), opts)


def test_params_without_a_clash_are_accepted_where_other_formats_would_clash() -> None:
    # "options" is free when the sni workaround is off; "user" is free outside jdbc/dsn.
    assert text_of(UrlOptions(params={"options": "-c search_path=app"})).endswith(
        "&options=-c%20search_path%3Dapp"
    )
    assert libpq_parse(text_of(UrlOptions(params={"options": "-c x=1"})))["options"] == "-c x=1"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role": ""},
        {"database": ""},
        {"host": ""},
        {"host": "ep-x.neon.tech/evil"},
        {"port": 0},
        {"port": 70000},
        {"role": "a\x00b"},
    ],
)
def test_invalid_connection_info_is_a_config_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        info(**kwargs)


def test_nul_in_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        info(password="hunter2-secret\x00x")
    assert "hunter2" not in str(caught.value)


def test_options_are_immutable_and_hashable() -> None:
    source = {"application_name": "app"}
    opts = UrlOptions(params=source)
    source["application_name"] = "changed"
    assert opts.params == {"application_name": "app"}
    assert hash(opts) == hash(UrlOptions(params={"application_name": "app"}))
    assert opts == UrlOptions(params={"application_name": "app"})
    with pytest.raises(TypeError):
        opts.params["x"] = "y"  # type: ignore[index]
