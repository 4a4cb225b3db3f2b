#!/usr/bin/env bash
# The neon-sync action's step (see action.yml): install neon-sync from the action's own
# checkout once per job, run the command with --json, hand its outputs to the workflow through
# $GITHUB_OUTPUT, and exit with the command's status. Runs under bash on Linux, macOS and
# Windows runners (Git Bash there: venvs keep their programs in Scripts/, not bin/).
#
# Inputs arrive as INPUT_COMMAND, INPUT_CONFIG, INPUT_BRANCH (or INPUT_BRANCH_NAME, the name
# Neon's create-branch-action uses), INPUT_ARGS, INPUT_API_KEY, INPUT_PROJECT_ID,
# INPUT_PARENT_BRANCH, INPUT_EXPIRES_AT, INPUT_ROLE. Also read:
#   NEON_SYNC_ACTION_PATH  the action's checkout (default: this script's parent folder)
#   NEON_SYNC_PYTHON       the Python that makes the venv (action.yml passes setup-python's)
#   NEON_SYNC_VENV         the venv (default $RUNNER_TEMP/neon-sync-venv); one that already
#                          holds neon-sync is used as is, so a second use in a job installs nothing
set -euo pipefail

unix_path() {  # Git Bash on Windows: D:\a\_temp -> /d/a/_temp; elsewhere unchanged
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

action_path=$(unix_path "${NEON_SYNC_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}")
venv=$(unix_path "${NEON_SYNC_VENV:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/neon-sync-venv}")
python=${NEON_SYNC_PYTHON:-python3}

# A program of the venv: Scripts/NAME.exe on Windows, bin/NAME elsewhere.
venv_program() {
  local name=$1
  if [[ -e $venv/Scripts/$name.exe ]]; then
    printf '%s\n' "$venv/Scripts/$name.exe"
  elif [[ -e $venv/Scripts/$name ]]; then
    printf '%s\n' "$venv/Scripts/$name"
  else
    printf '%s\n' "$venv/bin/$name"
  fi
}

fail() {
  echo "::error title=neon-sync action::$1"
  exit 2
}

# Neon's create-branch-action takes the key and project as inputs: the same, as environment.
if [[ -n ${INPUT_API_KEY:-} ]]; then
  echo "::add-mask::$INPUT_API_KEY"
  export NEON_API_KEY=$INPUT_API_KEY
fi
if [[ -n ${INPUT_PROJECT_ID:-} ]]; then
  export NEON_PROJECT_ID=$INPUT_PROJECT_ID
fi

if [[ ! -x $(venv_program neon-sync) ]]; then
  echo "::group::Install neon-sync from $action_path"
  "$python" -m venv "$venv"
  # pip's cache lives where action.yml's actions/cache step saves and restores it.
  PIP_CACHE_DIR=${PIP_CACHE_DIR:-$(unix_path "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/neon-sync-pip} \
    "$(venv_program python)" -m pip install --quiet --disable-pip-version-check "$action_path[github]"
  echo "::endgroup::"
fi
neon_sync=$(venv_program neon-sync)
venv_python=$(venv_program python)

read -r -a words <<<"${INPUT_COMMAND:-sync}"
read -r -a extra <<<"${INPUT_ARGS:-}"
# ${a[@]+"${a[@]}"}: an empty array under `set -u` even in macOS's bash 3.2
command="${words[*]+"${words[*]}"}"
branch=${INPUT_BRANCH:-${INPUT_BRANCH_NAME:-}}
if [[ -n ${INPUT_BRANCH:-} && -n ${INPUT_BRANCH_NAME:-} && $INPUT_BRANCH != "$INPUT_BRANCH_NAME" ]]; then
  fail "inputs 'branch' and 'branch_name' differ; give one of them"
fi

config=()
if [[ -n ${INPUT_CONFIG:-} ]]; then
  config=(--config "$INPUT_CONFIG")
fi
args=(${words[@]+"${words[@]}"} ${config[@]+"${config[@]}"})
case $command in
  plan | sync | "branch create" | "branch delete" | rotate | branches | url) args+=(--json) ;;
  validate) ;;
  *) fail "unknown command '$command': use plan, sync, branch create, branch delete, rotate, url, branches or validate" ;;
esac
if [[ -n ${INPUT_PARENT_BRANCH:-} || -n ${INPUT_EXPIRES_AT:-} ]] && [[ $command != "branch create" ]]; then
  fail "inputs 'parent_branch' and 'expires_at' are for 'branch create'"
fi
if [[ -n ${INPUT_PARENT_BRANCH:-} ]]; then
  args+=(--parent "$INPUT_PARENT_BRANCH")
fi
if [[ -n ${INPUT_EXPIRES_AT:-} ]]; then
  # Neon's action takes a moment (RFC 3339); neon-sync a duration from now.
  seconds=$("$venv_python" - "$INPUT_EXPIRES_AT" <<'PY'
import sys
from datetime import datetime, timezone

try:
    when = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
except ValueError:
    sys.exit(f"expires_at {sys.argv[1]!r} is not an RFC 3339 time like 2030-01-31T12:00:00Z")
if when.tzinfo is None:
    when = when.replace(tzinfo=timezone.utc)
left = int((when - datetime.now(timezone.utc)).total_seconds())
if left <= 0:
    sys.exit(f"expires_at {sys.argv[1]} is in the past")
print(left)
PY
) || fail "expires_at must be a future RFC 3339 time, e.g. 2030-01-31T12:00:00Z"
  args+=(--expires-in "${seconds}s")
fi
if [[ -n ${INPUT_ROLE:-} ]]; then
  case $command in
    url | rotate) args+=(--role "$INPUT_ROLE") ;;
    "branch create") ;;  # for the db_* outputs below
    *) fail "input 'role' means nothing to '$command'" ;;
  esac
fi
args+=(${extra[@]+"${extra[@]}"})
if [[ -n $branch ]]; then
  case $command in
    plan | sync) args+=(--branch "$branch") ;;
    # after `--`, so a name cannot be read as an option
    "branch create" | "branch delete" | rotate | url) args+=(-- "$branch") ;;
    *) fail "input 'branch' means nothing to '$command'" ;;
  esac
elif [[ $command == "branch create" || $command == "branch delete" || $command == rotate ]]; then
  fail "'$command' needs the input 'branch' (or 'branch_name')"
fi

stdout=$(mktemp)
connection=$(mktemp)
trap 'rm -f "$stdout" "$connection"' EXIT
status=0
"$neon_sync" "${args[@]}" >"$stdout" || status=$?

# The JSON documents hold masked values only: show them. `url`'s holds the secret itself.
if [[ $command != url ]]; then
  cat "$stdout"
fi
if [[ $command == url ]]; then
  cp "$stdout" "$connection"
elif [[ $command == "branch create" && $status == 0 ]]; then
  # The strings of the branch just made, for the outputs Neon's create-branch-action has.
  role=()
  if [[ -n ${INPUT_ROLE:-} ]]; then role=(--role "$INPUT_ROLE"); fi
  "$neon_sync" url --json ${config[@]+"${config[@]}"} ${role[@]+"${role[@]}"} -- "$branch" \
    >"$connection" || status=$?
fi

if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  "$venv_python" "$action_path/action/outputs.py" "$stdout" "$connection" "$command" >>"$GITHUB_OUTPUT"
fi

exit "$status"
