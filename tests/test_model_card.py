"""The model card's tables are the ones the scripts in scripts/ make (from the committed eval JSONs, or committed
output), and the crop views of research/tta_candidates.py are what their names say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support import load_script

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


def test_crop_tta_table_is_the_committed_script_output() -> None:
    committed = (ROOT / "docs" / "model" / "tta-candidates.md").read_text().splitlines()
    header = next(row for row in committed if row.startswith("| network(s)"))
    start = committed.index(header)
    table = [row for row in committed[start:] if row.startswith("|")]
    assert len(table) == 9  # header, rule, six networks, accurate's ensemble
    card = (ROOT / "MODEL_CARD.md").read_text()
    assert "\n".join(table) in card, "MODEL_CARD.md's crop-TTA table differs from docs/model/tta-candidates.md"


def test_crop_tta_views_move_the_face_the_way_their_names_say() -> None:
    tta = load_script("tta_candidates")
    faces = np.zeros((1, 48, 48), np.uint8)
    faces[0, 20:28, 20:28] = 255  # an 8 px square in the middle
    views = tta.views_of(faces)
    assert np.array_equal(views["shift +2,+0 px"][0, 20:28, 22:30], faces[0, 20:28, 20:28])
    assert np.array_equal(views["face~"], faces[:, :, ::-1])
    area = {name: views[name].sum(dtype=np.int64) / 255 for name in ("zoom 1.08", "zoom 0.92")}  # bright pixels
    assert area["zoom 1.08"] == pytest.approx(64 * 1.08**2, rel=0.05)
    assert area["zoom 0.92"] == pytest.approx(64 * 0.92**2, rel=0.05)
    sets = tta.view_sets(list(views))
    assert {name: len(v) for name, v in sets.items()} == {"mirror": 2, "mirror + shifts": 10, "mirror + zooms": 6}
