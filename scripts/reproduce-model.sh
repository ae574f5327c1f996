#!/usr/bin/env bash
# Rebuild both shipped models from the raw data set and measure every figure of MODEL_CARD.md:
#   bash scripts/reproduce-model.sh [../shared/data/fer2013/fer2013.csv.xz] [runs]
# Steps:
#   1. train the recipe (resnet_s, 60 epochs, blur augmentation) with seeds 0 to 3, on Training only; each run
#      keeps its best epoch on PublicTest;
#   2. distil seeds 0 and 1: fine-tune each for 40 more epochs from its own weights, learning also from the two
#      networks' averaged predictions (knowledge distillation from the two-network ensemble);
#   3. fast = the distilled seed with the higher PublicTest accuracy, on each face and its mirror image;
#      accurate = both distilled seeds, each with the mirror image too, averaged in one graph.
#      ensemble-candidates.md scores every ensemble of the six networks on PublicTest: the two distilled seeds
#      with flip are the best of them (70.35%, against 69.77% for their teachers; seeds 2 and 3 add nothing), and
#      tta-candidates.md scores shifted and zoomed views too: no better for accurate, and too slow for fast;
#   4. fit each model's temperature on PublicTest, export it int8 with that temperature baked in;
#   5. evaluate on PublicTest, PrivateTest and PrivateTest-dedup, with calibration and jitter tables, and each
#      seed on its own (the seed spread: four seeds before distillation, two after).
# PrivateTest is looked at in step 5 only, after every choice is made. Needs the `train` extra. About 6 hours
# on 2 CPU cores (two seeds train at once, one thread each: 2 x 115 minutes, then 95 for distillation; the
# candidate tables of step 3 take about 15 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013/fer2013.csv.xz}
RUNS=${2:-runs}
EMOLENS=${EMOLENS:-.venv/bin/emolens}
PY=${PY:-.venv/bin/python}
MODELS=src/emolens/models
CARD=docs/model
SEEDS=(0 1 2 3)  # step 1
KD_SEEDS=(0 1)   # step 2: the distilled students, and their teachers
SPLITS=(PublicTest PrivateTest PrivateTest-dedup)

json_field() { "$PY" -c "import json, sys; print(json.load(sys.stdin)$1)"; }

# train_seeds NAME "SEED ..." ARGS...: `emolens train ARGS` for each seed into $RUNS/NAME<seed>, two at once (one
# per core, one thread each); {seed} in ARGS becomes the seed. --resume continues an interrupted run and is a no-op
# for a finished one.
train_seeds() {
  local name=$1 seeds
  read -ra seeds <<< "$2"
  shift 2
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT  # a failed seed does not leave the other one training
  for seed in "${seeds[@]}"; do
    "$EMOLENS" train --data "$DATA" --model resnet_s --seed "$seed" --threads 1 --resume \
      --out "$RUNS/$name$seed" "${@//\{seed\}/$seed}" > "$RUNS/$name$seed.log" 2>&1 &
    pids+=($!)
    if (( ${#pids[@]} == 2 )); then
      for pid in "${pids[@]}"; do wait "$pid"; done
      pids=()
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  trap - EXIT
}

# 1. Train.
mkdir -p "$RUNS"
train_seeds resnet_s-seed "${SEEDS[*]}" --epochs 60
teachers=()  # of step 2: seeds 0 and 1's ensemble
for seed in "${KD_SEEDS[@]}"; do teachers+=(--teacher "$RUNS/resnet_s-seed$seed/best.pt"); done

# 2. Distil, each seed starting from its own weights.
train_seeds resnet_s-kd-seed "${KD_SEEDS[*]}" --epochs 40 --lr 0.01 --warmup-epochs 1 --init "$RUNS/resnet_s-seed{seed}/best.pt" \
  "${teachers[@]}" --distill-weight 0.7 --distill-temperature 2

# 3. Choose on PublicTest.
mkdir -p "$CARD/seeds"
best_acc=-1
for seed in "${KD_SEEDS[@]}"; do
  run="$RUNS/resnet_s-kd-seed$seed"
  "$EMOLENS" eval "$run/best.pt" --data "$DATA" --split PublicTest --threads 2 --json > "$CARD/seeds/seed$seed-PublicTest.json"
  cp "$run/log.csv" "$CARD/seeds/log-seed$seed.csv"
  cp "$run/training_curves.png" "$CARD/seeds/training_curves-seed$seed.png"
  acc=$(json_field '["accuracy"]' < "$CARD/seeds/seed$seed-PublicTest.json")
  if "$PY" -c "import sys; sys.exit(not $acc > $best_acc)"; then best_acc=$acc; fast_run=$run; fi
done
echo "fast = $fast_run (PublicTest $best_acc)"
candidates=()  # accurate = kd0 + kd1, the best ensemble of this table with flip
for seed in "${SEEDS[@]}"; do candidates+=("seed$seed=$RUNS/resnet_s-seed$seed/best.pt"); done
for seed in "${KD_SEEDS[@]}"; do candidates+=("kd$seed=$RUNS/resnet_s-kd-seed$seed/best.pt"); done
"$PY" research/ensemble_candidates.py "$DATA" "${candidates[@]}" > "$CARD/ensemble-candidates.md"
# Both models keep the mirror view alone: shifted or zoomed views (crop TTA) add too little for their cost.
members=()  # accurate's networks
for seed in "${KD_SEEDS[@]}"; do members+=("$RUNS/resnet_s-kd-seed$seed/best.pt"); done
member_names=$(printf '+kd%s' "${KD_SEEDS[@]}")  # kd0+kd1: accurate's members, as named in candidates
"$PY" research/tta_candidates.py "$DATA" "${candidates[@]}" --ensemble "${member_names#+}" > "$CARD/tta-candidates.md"

# 4. Temperatures on PublicTest, then the int8 exports.
# export_model NAME CHECKPOINT...: the checkpoints with flip in one graph at temperature 1 ($RUNS/emolens-NAME-T1-
# float32.onnx), its temperature fitted on PublicTest, then the shipped int8 file with that temperature inside.
export_model() {
  local name=$1
  shift
  "$EMOLENS" export "$@" --tta flip --out "$RUNS/emolens-$name-T1-float32.onnx"
  local temperature
  temperature=$("$EMOLENS" eval "$RUNS/emolens-$name-T1-float32.onnx" --data "$DATA" --split PublicTest \
    --calibration --json | json_field '["calibration"]["temperature_for_export"]')
  "$EMOLENS" export "$@" --tta flip --out "$MODELS/emolens-$name.onnx" --temperature "$temperature" \
    --int8 --data "$DATA" --float-out "$RUNS/emolens-$name-float32.onnx"
  echo "$name: temperature $temperature (fitted on PublicTest)"
}
export_model fast "$fast_run/best.pt"
export_model accurate "${members[@]}"

# 5. Measure: PrivateTest is looked at from here on only. seeds/ holds the distilled networks (the final
# recipe), seeds/before-kd/ the same seeds before distillation.
mkdir -p "$CARD/seeds/before-kd"
for seed in "${KD_SEEDS[@]}"; do
  for split in PrivateTest PrivateTest-dedup; do
    "$EMOLENS" eval "$RUNS/resnet_s-kd-seed$seed/best.pt" --data "$DATA" --split "$split" --threads 2 --json \
      > "$CARD/seeds/seed$seed-$split.json"
  done
done
for seed in "${SEEDS[@]}"; do
  for split in "${SPLITS[@]}"; do
    "$EMOLENS" eval "$RUNS/resnet_s-seed$seed/best.pt" --data "$DATA" --split "$split" --threads 2 --json \
      > "$CARD/seeds/before-kd/seed$seed-$split.json"
  done
  cp "$RUNS/resnet_s-seed$seed/log.csv" "$CARD/seeds/before-kd/log-seed$seed.csv"
  cp "$RUNS/resnet_s-seed$seed/training_curves.png" "$CARD/seeds/before-kd/training_curves-seed$seed.png"
done
for name in fast accurate; do
  mkdir -p "$CARD/$name"
  for split in "${SPLITS[@]}"; do
    "$EMOLENS" eval "$name" --data "$DATA" --split "$split" --threads 2 --out "$CARD/$name/$split" >/dev/null
  done
  "$EMOLENS" eval "$RUNS/emolens-$name-float32.onnx" --data "$DATA" --split PrivateTest --threads 2 --json \
    > "$CARD/$name/PrivateTest-float32.json"
  "$EMOLENS" eval "$name" --data "$DATA" --split PrivateTest --threads 2 --jitter --json > "$CARD/$name/jitter.json"
done
# fast's network without the mirror view, for the robustness table.
"$EMOLENS" eval "$fast_run/best.pt" --data "$DATA" --split PrivateTest --threads 2 --jitter --json \
  > "$CARD/fast/jitter-no-flip.json"
# Calibration as shipped: before = the temperature-1 model, after = with the temperature fitted on PublicTest.
for name in fast accurate; do
  "$EMOLENS" eval "$RUNS/emolens-$name-T1-float32.onnx" --data "$DATA" --split PrivateTest --calibration \
    --out "$CARD/$name/calibration" >/dev/null
done
"$PY" scripts/model_card_tables.py "$CARD" > "$CARD/tables.md"
echo "wrote $MODELS/emolens-{fast,accurate}.onnx and $CARD/ (tables: $CARD/tables.md)"
