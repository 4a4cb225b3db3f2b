from __future__ import annotations

import httpx
import pytest

from neon_sync.errors import ApiError, ConfigError
from neon_sync.http import call, check_base_url, make_client


def client_for(
    answers: list[httpx.Response | Exception], waits: list[float]
) -> tuple[httpx.Client, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = make_client(
        "https://api.test",
        what="TEST_URL",
        transport=httpx.MockTransport(handle),
        sleep=waits.append,
    )
    return client, seen


def test_retry_after_is_honoured_then_success() -> None:
    waits: list[float] = []
    client, seen = client_for(
        [httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(200)], waits
    )
    assert call(client, "GET", "/x", service="T", action="get x").status_code == 200
    assert waits == [2.0] and seen == ["GET", "GET"]


def test_retries_are_bounded_and_end_in_one_clear_error() -> None:
    waits: list[float] = []
    answers: list[httpx.Response | Exception] = [
        httpx.Response(503, json={"message": "busy"}, headers={"x-request-id": "r-1"})
        for _ in range(10)
    ]
    client, seen = client_for(answers, waits)
    with pytest.raises(ApiError) as err:
        call(client, "GET", "/x", service="Neon", action="list things")
    assert len(seen) == 5 and len(waits) == 4
    assert all(0 < w <= 30 for w in waits)
    assert str(err.value) == "Neon API: list things failed (503): busy [request_id r-1]"


def test_a_post_is_not_repeated_after_an_ambiguous_gateway_error() -> None:
    client, seen = client_for([httpx.Response(502), httpx.Response(201)], [])
    with pytest.raises(ApiError):
        call(client, "POST", "/x", service="T", action="create x")
    assert seen == ["POST"]


def test_a_post_refused_as_locked_is_repeated() -> None:
    client, seen = client_for([httpx.Response(423), httpx.Response(201)], [])
    assert call(client, "POST", "/x", service="T", action="create x").status_code == 201
    assert seen == ["POST", "POST"]


def test_connection_errors_are_retried_then_reported_without_a_traceback() -> None:
    request = httpx.Request("GET", "https://api.test/x")
    answers: list[httpx.Response | Exception] = [httpx.ConnectError("refused", request=request)] * 5
    client, seen = client_for(list(answers), [])
    with pytest.raises(ApiError, match="network error"):
        call(client, "GET", "/x", service="T", action="get x")
    assert len(seen) == 5


def test_plain_http_only_for_loopback() -> None:
    assert check_base_url("http://127.0.0.1:8080/api/", "X") == "http://127.0.0.1:8080/api"
    assert check_base_url("http://localhost:1", "X") == "http://localhost:1"
    with pytest.raises(ConfigError, match="must be an https:// URL"):
        check_base_url("http://api.example.com", "NEON_API_HOST")


def test_scrub_masks_in_one_pass_so_overlapping_secrets_do_not_mangle_output() -> None:
    from neon_sync.secret import remember, scrub

    remember("hunter2-long-password")
    remember("** *")  # a value that a mask followed by a space and a mask would contain
    assert scrub("a hunter2-long-password hunter2-long-password b") == "a **** **** b"


def test_a_read_timeout_or_500_on_a_read_is_retried() -> None:
    waits: list[float] = []
    timeout = httpx.ReadTimeout("slow")
    client, seen = client_for([timeout, httpx.Response(500), httpx.Response(200)], waits)
    assert call(client, "GET", "/x", service="T", action="get x").status_code == 200
    assert seen == ["GET", "GET", "GET"] and len(waits) == 2


def test_a_write_is_not_repeated_after_a_read_timeout_or_500() -> None:
    client, seen = client_for([httpx.ReadTimeout("slow")], [])
    with pytest.raises(ApiError, match="timed out"):
        call(client, "POST", "/x", service="T", action="post x")
    client, seen_500 = client_for([httpx.Response(500)], [])
    with pytest.raises(ApiError, match=r"\(500\)"):
        call(client, "PATCH", "/x", service="T", action="patch x")
    assert seen == ["POST"] and seen_500 == ["PATCH"]


def test_a_rate_limit_past_the_bound_stops_the_service_for_the_run() -> None:
    client, seen = client_for([httpx.Response(429, headers={"retry-after": "900"})], [])
    with pytest.raises(ApiError, match=r"\(429\)"):
        call(client, "GET", "/x", service="T", action="get x")
    with pytest.raises(ApiError, match="not sent: T asked this run to wait"):
        call(client, "GET", "/y", service="T", action="get y")
    other, other_seen = client_for([httpx.Response(200)], [])  # a second client, same service
    with pytest.raises(ApiError, match="not sent"):
        call(other, "GET", "/z", service="T", action="get z")
    assert seen == ["GET"] and other_seen == []  # nothing more left the process
