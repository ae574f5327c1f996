#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh clone: a virtualenv with every extra, the system
# packages the real-window and real-browser tests need (Xvfb, chromium), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-test/bin/python ] || "$PY" -m venv .venv-test
.venv-test/bin/python -m pip install -q --upgrade pip >/dev/null
.venv-test/bin/python -m pip install -q -e '.[train,web,dev,batch,scale]'
bash scripts/install-system-deps.sh || echo "test.sh: system packages not installed; tests that need them will skip" >&2
.venv-test/bin/python -m ruff check src tests benchmarks scripts research
.venv-test/bin/python -m ruff format --check src tests benchmarks scripts research
set +e
.venv-test/bin/python -m pytest "$@"
rc=$?
set -e
# pytest's 5 means "no tests collected": for CI that is a failure, not a pass.
exit $rc
