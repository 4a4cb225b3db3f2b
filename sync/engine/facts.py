"""The Neon facts one run's values are built from, gathered so that a problem of one branch
(no compute of the needed type, a role Neon will not reveal, a malformed answer) stays that
branch's problem: each lookup answers a fact or the reason there is none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from neon_sync.neon import checks
from neon_sync.neon.client import Branch, Endpoint, NeonClient
from neon_sync.secret import Secret

Pair = tuple[str, str]  # (branch id, role)


@dataclass
class Facts:
    endpoints: Mapping[tuple[str, str], Endpoint]  # (branch id, type) -> endpoint
    passwords: Mapping[Pair, Secret]
    broken: Mapping[Pair, str]  # pairs whose password could not be had, and why
    endpoints_route: str

    def endpoint(self, branch: Branch, kind: str) -> Endpoint | str:
        """The branch's endpoint of `kind`, or why it cannot be used."""
        found = self.endpoints.get((branch.id, kind))
        if found is None:
            what = "read replica" if kind == "read_only" else "read_write compute"
            return f"has no {what}; add one in Neon"
        problem = checks.host_problem(found.host)
        if problem:
            return f"{problem} (from {self.endpoints_route}); nothing was written with it"
        return found

    def password(self, branch_id: str, role: str) -> Secret | str:
        pair = (branch_id, role)
        return self.passwords.get(pair) or self.broken.get(pair, "no password")


def gather(
    neon: NeonClient, endpoints: Mapping[tuple[str, str], Endpoint], needed: Iterable[Pair]
) -> Facts:
    """Reveal every needed password; each failure (after the HTTP layer's retries) is
    pinned on its own pair, and no pair is asked twice."""
    found: dict[Pair, Secret] = {}
    broken: dict[Pair, str] = {}
    for pair, result in neon.reveal_each(sorted(set(needed))).items():
        if isinstance(result, Secret):
            found[pair] = result
        else:
            broken[pair] = str(result)
    return Facts(endpoints, found, broken, f"GET /projects/{neon.project_id}/endpoints")


def branch_problem(branch: Branch) -> str | None:
    return checks.name_problem(branch.name)
