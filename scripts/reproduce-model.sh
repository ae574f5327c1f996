#!/usr/bin/env bash
# Rebuild the shipped model from the raw data set and measure every figure of MODEL_CARD.md:
#   bash scripts/reproduce-model.sh [../shared/data/fer2013/fer2013.csv.xz] [runs/resnet_s]
# Steps: train on Training (best epoch chosen on PublicTest) -> fit a temperature on PublicTest ->
# export to ONNX with that temperature, int8-quantised -> evaluate on PublicTest, PrivateTest and
# PrivateTest-dedup. Needs the `train` extra. Takes about an hour on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013/fer2013.csv.xz}
RUN=${2:-runs/resnet_s}
EMOLENS=${EMOLENS:-.venv/bin/emolens}
PY=${PY:-.venv/bin/python}
MODEL=src/emolens/models/emolens-fast.onnx
CARD=docs/model

# --resume continues an interrupted run and is a no-op for a finished one.
"$EMOLENS" train --data "$DATA" --model resnet_s --out "$RUN" --epochs 60 --seed 0 --resume
T=$("$EMOLENS" eval "$RUN/best.pt" --data "$DATA" --split PublicTest --calibration --json |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["calibration"]["temperature_for_export"])')
echo "temperature fitted on PublicTest: $T"
"$EMOLENS" export "$RUN/best.pt" --out "$MODEL" --temperature "$T" --int8 --data "$DATA" \
  --float-out "$RUN/emolens-fast-float32.onnx"
mkdir -p "$CARD"
for split in PublicTest PrivateTest PrivateTest-dedup; do
  "$EMOLENS" eval fast --data "$DATA" --split "$split" --out "$CARD/$split" --json > "$CARD/$split.json"
  "$EMOLENS" eval fast --data "$DATA" --split "$split" --tta flip --json > "$CARD/$split-tta-flip.json"
done
"$EMOLENS" eval "$RUN/emolens-fast-float32.onnx" --data "$DATA" --split PrivateTest --json > "$CARD/PrivateTest-float32.json"
# Calibration as shipped: the model's probabilities already carry T; refitting shows what is left.
"$EMOLENS" eval "$RUN/best.pt" --data "$DATA" --split PrivateTest --calibration --out "$CARD/calibration" --json \
  > "$CARD/calibration.json"
"$EMOLENS" eval fast --data "$DATA" --split PrivateTest --jitter --json > "$CARD/jitter.json"
cp "$RUN/training_curves.png" "$RUN/log.csv" "$CARD/"
echo "wrote $MODEL and $CARD/"
