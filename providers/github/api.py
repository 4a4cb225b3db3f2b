"""The GitHub REST client of the github provider: token and headers, rate-limit waits, write
pacing, pagination, sealed-box encryption and error messages that say what to do."""

from __future__ import annotations

import base64
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from neon_sync import http
from neon_sync.errors import ApiError
from neon_sync.http import (
    Retry,
    RetryPolicy,
    Settings,
    Sleep,
    call,
    json_message,
    make_client,
    retry_after,
)
from neon_sync.providers.github.scope import Holder
from neon_sync.secret import Secret

SERVICE = "GitHub"
DEFAULT_URL = "https://api.github.com"
HEADERS = {"accept": "application/vnd.github+json", "x-github-api-version": "2022-11-28"}
# Long enough to sit out GitHub's secondary limit (it asks for a minute), short enough that a
# primary limit resetting in an hour fails with a message instead of hanging CI.
RETRY = Retry(attempts=4, cap=120.0)
MAX_PAGES = 100
SCOPES_HINT = (
    "A workflow's own GITHUB_TOKEN cannot manage secrets or variables: use a fine-grained token "
    "with Secrets, Variables and Environments read/write (Administration write to create "
    "environments) or a classic token with the `repo` scope (`admin:org` for organisations)"
)
Clock = Callable[[], float]
HOURLY_WRITES = 500  # GitHub: content-creating requests an hour
MINUTE_WRITES = 80  # ...and a minute


def status_in(*codes: int) -> Callable[[httpx.Response], bool]:
    """An `ok=` for call(): accept exactly these statuses (e.g. a 404 we handle ourselves)."""
    return lambda response: response.status_code in codes


def rate_limit_wait(response: httpx.Response, clock: Clock) -> float | None:
    """Seconds GitHub asks us to wait, if this response is a rate limit."""
    if response.status_code not in (403, 429):
        return None
    after = retry_after(response)
    if after is not None:
        return after
    if response.headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(0.0, float(response.headers["x-ratelimit-reset"]) - clock()) + 1.0
        except (KeyError, ValueError):
            return 60.0
    if response.status_code == 429:
        return 60.0  # a secondary limit without headers: GitHub says wait a minute
    return None  # a 403 without rate-limit headers is a permission problem


def github_policy(retry: Retry, clock: Clock) -> RetryPolicy:
    def policy(response: httpx.Response, attempt: int) -> float | None:
        wait = rate_limit_wait(response, clock)
        if wait is not None:
            return wait
        if response.status_code in (500, 502, 503, 504):
            return retry_after(response) or retry.backoff(attempt)
        return None

    return policy


SETTINGS = Settings(
    tokens=("GITHUB_TOKEN", "GH_TOKEN"),
    url_setting="GITHUB_API_URL",
    default_url=DEFAULT_URL,
    missing="GitHub needs a token: set GITHUB_TOKEN or GH_TOKEN to a token that may read and "
    "write Actions secrets, variables and environments (see the README, target github)",
)


class Pacer:
    """GitHub's limits on content-creating requests, kept on our side: a token bucket (bursts
    of `burst`, then `rate` a second; 10 + 60 a minute stays under 80 a minute) and a sliding
    hour of at most `hourly` writes (GitHub allows 500). `plan` warns before a run would need
    more than an hour's budget (providers/github/budget.py), so the hourly wait is for long
    runs such as `watch`, not for one sync."""

    def __init__(
        self,
        clock: Clock,
        sleep: Sleep,
        rate: float = 1.0,
        burst: float = 10.0,
        hourly: int = HOURLY_WRITES,
    ):
        self._clock, self._sleep = clock, sleep
        self._rate, self._burst = rate, burst
        self._tokens = burst
        self._last: float | None = None
        self._hourly = hourly
        self._hour: deque[float] = deque()  # when each write of the last hour went out
        # The engine applies targets in threads on one provider; the limit is per token.
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            self._take()
            self._take_hourly()

    def _take(self) -> None:
        now = self._clock() if self._last is None else max(self._clock(), self._last)
        if self._last is not None:
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / self._rate
            self._sleep(wait)
            self._last = now + wait  # a fake clock may not move; our bookkeeping does
            self._tokens = 1
        self._tokens -= 1

    def _take_hourly(self) -> None:
        now = max(self._clock(), self._last or 0.0)
        while self._hour and self._hour[0] <= now - 3600:
            self._hour.popleft()
        if len(self._hour) >= self._hourly:
            wait = self._hour[0] + 3600 - now
            self._sleep(wait)
            now += wait
            self._last = max(self._last or 0.0, now)
            self._hour.popleft()
        self._hour.append(now)


def seal(public_key_b64: str, plaintext: str) -> str:
    """A libsodium sealed box of `plaintext` for GitHub's public key, base64."""
    from nacl.public import PublicKey, SealedBox  # lazily: only runs that write secrets need it

    key = PublicKey(base64.b64decode(public_key_b64))
    return base64.b64encode(SealedBox(key).encrypt(plaintext.encode("utf-8"))).decode("ascii")


def _hint(holder: Holder, clock: Clock) -> Callable[[httpx.Response], str | None]:
    def hint(response: httpx.Response) -> str | None:
        status = response.status_code
        message = json_message(response)[0].lower()
        if rate_limit_wait(response, clock) is not None:
            reset = response.headers.get("x-ratelimit-reset", "")
            when = (
                datetime.fromtimestamp(int(reset), UTC).strftime("%H:%M:%S UTC")
                if reset.isdigit()
                else "in a few minutes"
            )
            return f"GitHub's rate limit is spent; run again after it resets ({when})"
        if status == 401:
            return "GITHUB_TOKEN (or GH_TOKEN) is wrong or expired: set a valid token"
        if status == 403 and "not accessible by integration" in message:
            return SCOPES_HINT
        if status == 403:
            return f"The token may not do this on {holder.label}. {SCOPES_HINT}"
        if status == 404:
            what = f"organisation {holder.owner}" if holder.kind == "org" else holder.repository
            return (
                f"Check that {what} exists and that the token can see it "
                "(GitHub answers 404 when it cannot)"
            )
        return None

    return hint


class GitHubApi:
    """One client per run. Nothing touches the network, or needs a token, until a request."""

    def __init__(
        self,
        env: Mapping[str, str],
        transport: httpx.BaseTransport | None,
        sleep: Sleep,
        clock: Clock,
    ) -> None:
        self._env, self._transport, self._sleep, self._clock = env, transport, sleep, clock
        self._client: httpx.Client | None = None
        self._making = threading.Lock()  # reads run on several threads: make one client
        self.pacer = Pacer(clock, sleep)

    def client(self) -> httpx.Client:
        with self._making:
            if self._client is None:
                self._client = self._make()
            return self._client

    def _make(self) -> httpx.Client:
        token = Secret(SETTINGS.token(self._env))  # remembered: output echoing it is masked
        return make_client(
            SETTINGS.url(self._env),
            what=SETTINGS.url_setting,
            headers={**HEADERS, "authorization": f"Bearer {token.reveal()}"},
            transport=self._transport,
            retry=RETRY,
            policy=github_policy(RETRY, self._clock),
            sleep=self._sleep,
        )

    def request(
        self,
        method: str,
        path: str,
        holder: Holder,
        action: str,
        ok: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        client = self.client()
        if method != "GET":
            self.pacer.take()
        return call(
            client,
            method,
            path,
            service=SERVICE,
            action=action,
            ok=ok,
            hint=_hint(holder, self._clock),
            **kwargs,
        )

    def put_variable(
        self, holder: Holder, name: str, body: Mapping[str, Any], action: str, exists: bool | None
    ) -> None:
        """Create or update one Actions variable: PATCH when it likely `exists`, else POST;
        the other call covers a variable made or removed meanwhile (POST 409 -> PATCH).
        The one upsert the provider and the state store share."""
        collection = f"{holder.prefix}/variables"
        one = f"{collection}/{name}"
        if exists is not False:
            patched = self.request(
                "PATCH", one, holder, action, ok=status_in(204, 404), json=dict(body)
            )
            if patched.status_code == 204:
                return
        created = self.request(
            "POST", collection, holder, action, ok=status_in(201, 409), json=dict(body)
        )
        if created.status_code == 409:
            self.request("PATCH", one, holder, action, json=dict(body))

    def pages(
        self, path: str, field: str, per_page: int, holder: Holder, action: str, **kwargs: Any
    ) -> list[dict[str, Any]] | None:
        """Every item of a listing, following Link rel="next". None if the first page is 404
        and `ok` allowed it."""
        items: list[dict[str, Any]] = []
        url: str = path
        params: dict[str, Any] | None = {"per_page": per_page}
        for _ in range(MAX_PAGES):
            response = self.request("GET", url, holder, action, params=params, **kwargs)
            if response.status_code == 404:
                return None
            body = http.json_body(response, service=SERVICE, action=action)
            listed = body.get(field) or []
            if not isinstance(listed, list) or not all(
                isinstance(item, dict) and isinstance(item.get("name"), str) for item in listed
            ):
                raise http.shape_error(SERVICE, action, response, TypeError(field))
            items.extend(listed)
            following = response.links.get("next", {}).get("url")
            if not following:
                return items
            url, params = self._same_origin(following), None
        raise ApiError(SERVICE, action, f"more than {MAX_PAGES} pages; giving up")

    def _same_origin(self, url: str) -> str:
        # The token goes wherever we follow; follow only links back to the API we were given.
        base = str(self.client().base_url).rstrip("/")
        if not url.startswith(base + "/"):
            raise ApiError(SERVICE, "follow a page link", f"it leads outside {base}; not following")
        return url

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
