"""What reaches the terminal when an API echoes a secret or answers at length: every encoding
of a known secret is masked, and an error is one line of reasonable length (`--verbose`
prints it whole, still masked)."""

from __future__ import annotations

import json

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.secret import MASK, remember, scrub
from tests.conftest import SeededNeon
from tests.test_lifecycle import (
    NAME,
    Cli,
    cli,
    github,
    sleeper,
    unsettled,
    vercel,
)

__all__ = ["cli", "github", "sleeper", "unsettled", "vercel"]
HOSTILE = 'np"g\\s3cr/t w0rd\u00e9'


def test_every_encoding_of_a_secret_is_masked() -> None:
    remember(HOSTILE)
    from urllib.parse import quote, quote_plus

    shown = [
        HOSTILE,
        quote(HOSTILE, safe=""),
        quote_plus(HOSTILE),
        json.dumps(HOSTILE)[1:-1],
        json.dumps(HOSTILE, ensure_ascii=False)[1:-1],
        json.dumps(HOSTILE)[1:-1].replace("/", "\\/"),
        repr(HOSTILE)[1:-1],
    ]
    for form in shown:
        assert scrub(f"before {form} after") == f"before {MASK} after", form


def test_an_api_error_echoing_a_json_escaped_password_is_masked(
    cli: Cli, neon: SeededNeon, vercel: VercelEmulator
) -> None:
    cli("branch", "create", NAME, "--no-sync")
    neon.set_password(neon.project_id, NAME, "neondb_owner", HOSTILE)
    echoed = json.dumps({"password": HOSTILE})  # the body it was sent, quoted in the message
    vercel.inject(
        400,
        method="POST",
        body={"error": {"code": "bad_request", "message": f"invalid body {echoed}"}},
    )
    result = cli("sync", "-b", NAME, expect=1)
    assert "invalid body" in result.output
    for form in (HOSTILE, json.dumps(HOSTILE)[1:-1], "s3cr"):
        assert form not in result.output


def test_a_long_api_error_is_one_capped_line_and_verbose_shows_it_masked(
    cli: Cli, neon: SeededNeon, github: GitHubEmulator
) -> None:
    password = neon.password(neon.project_id, "main", "neondb_owner")
    long = "GitHub says: " + "details " * 320 + f"(it saw {password})"
    github.inject(500, body={"message": long}, times=100)
    short = cli("branch", "create", NAME, expect=1)
    lines = [line for line in short.stderr.splitlines() if "GitHub API" in line]
    assert lines and all(len(line) <= 540 for line in lines), lines
    full = cli("--verbose", "sync", "-b", NAME, expect=1)
    assert "details " * 300 in full.output
    assert password not in full.output and f"(it saw {MASK})" in full.output
