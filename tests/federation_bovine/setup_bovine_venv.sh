#!/usr/bin/env bash
# Creates the bovine peer's own virtualenv (.venv-bovine at the repo root) and installs
# tests/federation_bovine/bovine_peer/requirements.txt into it. Idempotent: a stamp file holds the
# requirements' checksum, so a second run with unchanged requirements returns at once.
# Network: PyPI at install time only. Usage: bash tests/federation_bovine/setup_bovine_venv.sh
# Environment: PYTHON (default python3, must be 3.11+), BOVINE_VENV (default .venv-bovine).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${BOVINE_VENV:-$root/.venv-bovine}"
requirements="$here/bovine_peer/requirements.txt"
stamp="$venv/.bovine-installed"
python="${PYTHON:-python3}"

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

# Serialise concurrent callers (e.g. parallel test workers) on one lock file.
mkdir -p "$venv"
exec 9>"$venv/.setup.lock"
flock 9
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

test -x "$venv/bin/python" || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$requirements"
"$venv/bin/python" -c "import bovine, quart, hypercorn" # fail here, not in a test
echo "$wanted" >"$stamp"
