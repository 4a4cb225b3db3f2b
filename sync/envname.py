"""The one rule for an environment variable name, shared by the config, .env files, GitHub
and Vercel: letters, digits and _, not starting with a digit (POSIX's portable names, which
every shell, dotenv parser and CI service accepts)."""

from __future__ import annotations

import re

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RULE = "use letters, digits and _, not starting with a digit"


def is_env_name(name: str) -> bool:
    return ENV_NAME.fullmatch(name) is not None
