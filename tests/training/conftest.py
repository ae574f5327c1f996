"""The recipe is a second top-level package beside src/ (training/emolens_recipe), not installed with emolens:
put its folder on sys.path for the tests here, as scripts/train-on-device.sh does with PYTHONPATH."""

import sys
from pathlib import Path

TRAINING = str(Path(__file__).resolve().parents[2] / "training")
if TRAINING not in sys.path:
    sys.path.insert(0, TRAINING)
