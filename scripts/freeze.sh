#!/usr/bin/env bash
# Re-pin both environments after a deliberate dependency change.
set -euo pipefail
cd "$(dirname "$0")/.."
{ echo "# Pinned stack of .venv (Python 3.11). Regenerate with scripts/freeze.sh."
  .venv/bin/pip freeze --exclude-editable | grep -v -i '^jiuye' | sed -E 's/^torch==([0-9.]+)\+cpu$/torch==\1/'
} > requirements/main.txt
{ echo "# Pinned stack of .venv-rasa (Python 3.10, Rasa 3.6.21). Regenerate with scripts/freeze.sh."
  .venv-rasa/bin/pip freeze --exclude-editable
} > requirements/rasa.txt
