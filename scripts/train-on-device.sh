#!/usr/bin/env bash
# The GPU recipe (issue #23): teachers, distilled students and both shipped models in one command of 9 minutes.
# A thin wrapper around `python -m emolens_recipe` (training/emolens_recipe/, not part of the emolens package;
# training/README.md); every step is described in training/emolens_recipe/run.py.
#
#   bash scripts/train-on-device.sh pack        # here: FER2013 Training+PublicTest and FER+ votes -> $PACK (~51 MiB)
#   bash scripts/train-on-device.sh plan        # here: measure each network on this CPU, print the GPU plan
#   bash scripts/train-on-device.sh run [...]   # there (or on any CUDA machine: add --device cuda)
#
# Through the device tool (no network and no ../shared there; its python3 has torch, onnx, onnxruntime, OpenCV):
#   run(command="bash scripts/train-on-device.sh run --out $OUT", carry=["artifacts/device"], timeout_s=600)
# The pack lives in artifacts/device/, which git ignores and `carry` sends (the working tree must stay under
# 64 MiB: the repository is about 6 MB). What comes back under $OUT: emolens-fast.onnx, emolens-accurate.onnx,
# metrics.json (the plan, every run's log, PublicTest scores), recipe.log and state.tar.
# Ran out of time (exit status 3)? Send the same command again at once: a warm machine keeps runs/device. On a
# fresh machine, first copy the state.tar that came back to artifacts/device/state.tar: `run` passes it on.
# Extra arguments go to `python -m emolens_recipe run` (--config recipe.json, --budget-s, --device, --workdir).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PY:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="src:training${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PACK=${PACK:-artifacts/device/fer2013-pack.npz}
STATE=artifacts/device/state.tar

step=${1:-}
shift || true
case "$step" in
  pack)
    exec "$PY" -m emolens_recipe pack --data "${DATA:-../shared/data/fer2013/fer2013.csv.xz}" \
      --ferplus "${FERPLUS:-../shared/data/ferplus/fer2013new.csv}" --out "$PACK" "$@" ;;
  plan)
    exec "$PY" -m emolens_recipe run --pack "$PACK" --plan-only --device cpu --workdir runs/device-plan "$@" ;;
  run)
    state=()
    if [[ -f "$STATE" ]]; then state=(--state "$STATE"); fi
    exec "$PY" -m emolens_recipe run --pack "$PACK" "${state[@]}" "$@" ;;
  *)
    echo "usage: bash scripts/train-on-device.sh pack|plan|run [python -m emolens_recipe arguments]" >&2
    exit 2 ;;
esac
