"""The model card's tables are the ones scripts/model_card_tables.py makes from the committed eval JSONs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_model_card_tables_match_the_eval_outputs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "model_card_tables.py"), str(ROOT / "docs" / "model")],
        capture_output=True,
        text=True,
        check=True,
    )
    table_rows = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert len(table_rows) >= 25  # accuracy, recall, seeds, jitter and calibration tables
    card = (ROOT / "MODEL_CARD.md").read_text()
    missing = [row for row in table_rows if row not in card]
    assert not missing, f"MODEL_CARD.md disagrees with docs/model: {missing[:3]}"
    assert (ROOT / "docs" / "model" / "tables.md").read_text() == done.stdout
