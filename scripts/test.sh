#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh clone: the system packages the real-window and real-browser tests
# need (Xvfb, chromium, python3-tk), lint and type checks, then pytest twice, each in a virtualenv with every extra:
#   1. .venv-test, made from $PYTHON (default: the python3 on PATH);
#   2. .venv-test-system, made from the system's own Python ($SYSTEM_PYTHON, default /usr/bin/python3): on Debian 12
#      that is 3.11.2, the oldest patch release `requires-python` admits that CI proves (older than 3.11.4, where
#      TarFile.extract gained filter=), as the Debian user of issue #31 had it. Skipped, saying why, where that
#      Python is absent, older than 3.10, has no venv module, or is the Python of the first pass.
# Neither touches .venv, so an app running from it is never disturbed. Arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS='.[train,web,dev,batch,scale]'

# make_venv FOLDER PYTHON: FOLDER as a virtualenv of PYTHON with the project (editable) and every extra.
make_venv() {
    [ -x "$1/bin/python" ] || "$2" -m venv "$1"
    "$1/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$1/bin/python" -m pip install -q -e "$EXTRAS"
}

make_venv .venv-test "${PYTHON:-python3}"
bash scripts/install-system-deps.sh || echo "test.sh: system packages not installed; tests that need them will skip" >&2
.venv-test/bin/python -m ruff check src tests benchmarks scripts research training
.venv-test/bin/python -m ruff format --check src tests benchmarks scripts research training
.venv-test/bin/python -m mypy  # files and strictness: [tool.mypy] in pyproject.toml
set +e
.venv-test/bin/python -m pytest "$@"
rc=$?
set -e

SYSTEM_PYTHON=${SYSTEM_PYTHON:-/usr/bin/python3}
# The interpreter behind a Python (a venv's base), to tell whether the second pass would repeat the first.
base_of() { "$1" -c 'import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))'; }
rc_system=0
if [ ! -x "$SYSTEM_PYTHON" ]; then
    echo "test.sh: no $SYSTEM_PYTHON here: the second pass (the system's own Python) is skipped" >&2
elif ! "$SYSTEM_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "test.sh: $SYSTEM_PYTHON is $("$SYSTEM_PYTHON" -V 2>&1), older than 3.10: the second pass is skipped" >&2
elif ! "$SYSTEM_PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "test.sh: $SYSTEM_PYTHON has no venv module (Debian: apt install python3-venv): the second pass is skipped" >&2
elif [ "$(base_of "$SYSTEM_PYTHON")" = "$(base_of .venv-test/bin/python)" ]; then
    echo "test.sh: $SYSTEM_PYTHON is the Python of the run above: no second pass" >&2
else
    echo "test.sh: the suite again on the system's $("$SYSTEM_PYTHON" -V 2>&1) ($SYSTEM_PYTHON), in .venv-test-system" >&2
    make_venv .venv-test-system "$SYSTEM_PYTHON"
    set +e
    .venv-test-system/bin/python -m pytest "$@"
    rc_system=$?
    set -e
fi
# pytest's 5 means "no tests collected": for CI that is a failure, not a pass. Either run failing fails.
if [ "$rc" -ne 0 ]; then
    exit "$rc"
fi
exit "$rc_system"
