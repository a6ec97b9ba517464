#!/usr/bin/env bash
# Install missing system packages (scripts/system_packages.sh), then create both virtual
# environments where missing and install the pinned stacks.
#   .venv       Python 3.11: action server, knowledge, connectors, tests
#   .venv-rasa  Python 3.10: Rasa Open Source 3.6.21 (runs only on 3.8-3.10)
# Re-running is cheap: a stamp file records the requirements hash of each env.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  if command -v pyenv >/dev/null 2>&1; then
    candidate="$(pyenv root)/versions/3.10.13/bin/python"
    [ -x "$candidate" ] && { echo "$candidate"; return; }
    for candidate in "$(pyenv root)"/versions/3.10.*/bin/python; do
      [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
  fi
  command -v python3.10 && return
  if command -v uv >/dev/null 2>&1; then
    uv python find 3.10 2>/dev/null && return
  fi
  echo "ERROR: Python 3.10 not found (Rasa 3.6 needs 3.8-3.10). Install it with 'pyenv install 3.10' or 'uv python install 3.10'." >&2
  exit 1
}

find_python311() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
      command -v "$candidate"; return
    fi
  done
  echo "ERROR: Python >= 3.11 not found." >&2
  exit 1
}

ensure_env() {  # ensure_env <dir> <python> <requirements> <extra pip args...>
  local dir=$1 python=$2 reqs=$3; shift 3
  local stamp="$dir/.requirements.sha256"
  local want; want=$(cat "$reqs" pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  echo "Installing $reqs into $dir …"
  "$dir/bin/python" -m pip install -q --upgrade pip
  "$dir/bin/python" -m pip install -q -r "$reqs" "$@"
  echo "$want" > "$stamp"
}

scripts/system_packages.sh
ensure_env .venv "$(find_python311)" requirements/main.txt
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . >/dev/null
ensure_env .venv-rasa "$(find_python310)" requirements/rasa.txt
echo "Environments ready: .venv ($(.venv/bin/python -V)), .venv-rasa ($(.venv-rasa/bin/python -V))"
