#!/usr/bin/env bash
# The neon-sync action's step (see action.yml): install neon-sync from the action's own
# checkout once per job, run the command with --json, hand `branch_id` and `changes` (or `url`)
# to the workflow through $GITHUB_OUTPUT, and exit with the command's status.
#
# Inputs arrive as INPUT_COMMAND, INPUT_CONFIG, INPUT_BRANCH, INPUT_ARGS. Also read:
#   NEON_SYNC_ACTION_PATH  the action's checkout (default: this script's parent folder)
#   NEON_SYNC_PYTHON       the Python that makes the venv (action.yml passes setup-python's)
#   NEON_SYNC_VENV         the venv (default $RUNNER_TEMP/neon-sync-venv); one that already
#                          holds neon-sync is used as is, so a second use in a job installs nothing
set -euo pipefail

action_path=${NEON_SYNC_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
venv=${NEON_SYNC_VENV:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/neon-sync-venv}
python=${NEON_SYNC_PYTHON:-python3}

fail() {
  echo "::error title=neon-sync action::$1"
  exit 2
}

if [[ ! -x $venv/bin/neon-sync ]]; then
  echo "::group::Install neon-sync from $action_path"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$action_path[github]"
  echo "::endgroup::"
fi

read -r -a words <<<"${INPUT_COMMAND:-sync}"
read -r -a extra <<<"${INPUT_ARGS:-}"
# ${a[@]+"${a[@]}"}: an empty array under `set -u` even in macOS's bash 3.2
command="${words[*]+"${words[*]}"}"
branch=${INPUT_BRANCH:-}

args=(${words[@]+"${words[@]}"})
if [[ -n ${INPUT_CONFIG:-} ]]; then
  args+=(--config "$INPUT_CONFIG")
fi
case $command in
  plan | sync | "branch create" | "branch delete" | branches) args+=(--json) ;;
  # a workflow that asks for rotate has said yes: a runner has no terminal to confirm on
  rotate) args+=(--json --yes) ;;
  url | validate) ;;
  *) fail "unknown command '$command': use plan, sync, branch create, branch delete, rotate, url, branches or validate" ;;
esac
args+=(${extra[@]+"${extra[@]}"})
if [[ -n $branch ]]; then
  case $command in
    plan | sync) args+=(--branch "$branch") ;;
    # after `--`, so a name cannot be read as an option
    "branch create" | "branch delete" | rotate | url) args+=(-- "$branch") ;;
    *) fail "input 'branch' means nothing to '$command'" ;;
  esac
elif [[ $command == "branch create" || $command == "branch delete" || $command == rotate ]]; then
  fail "'$command' needs the input 'branch'"
fi

stdout=$(mktemp)
trap 'rm -f "$stdout"' EXIT
status=0
"$venv/bin/neon-sync" "${args[@]}" >"$stdout" || status=$?

# The JSON document holds masked values only: show it. `url`'s answer is the secret itself.
if [[ $command != url ]]; then
  cat "$stdout"
fi

if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  "$venv/bin/python" - "$stdout" "$command" >>"$GITHUB_OUTPUT" <<'PY'
import json
import sys
import uuid

path, command = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
outputs = {}
if command == "url":
    # Inside Actions neon-sync may put its ::add-mask:: lines on stdout: they belong in the
    # log (stderr reaches it too), the connection string is the last other line.
    lines = text.splitlines()
    for line in lines:
        if line.startswith("::add-mask::"):
            print(line, file=sys.stderr, flush=True)
    found = [line for line in lines if line and not line.startswith("::")]
    outputs["url"] = found[-1] if found else ""
else:
    try:
        doc = json.loads(text)
    except ValueError:  # a usage or config error printed no document
        doc = None
    if isinstance(doc, dict):
        outputs["branch_id"] = str((doc.get("branch") or {}).get("id") or "")
        if "changes" in doc:
            outputs["changes"] = json.dumps(doc["changes"], separators=(",", ":"))
for name, value in outputs.items():
    # The delimiter form is safe for any value, newlines included.
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    print(f"{name}<<{delimiter}\n{value}\n{delimiter}")
PY
fi

exit "$status"
