"""Print the model card's tables (markdown) from the eval JSONs that scripts/reproduce-model.sh writes.

    python scripts/model_card_tables.py [docs/model]

Every figure is read from a file that an `emolens eval ... --json` command wrote; nothing is typed by hand.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

SPLITS = ("PublicTest", "PrivateTest", "PrivateTest-dedup")
MODELS = ("fast", "accurate")
MODEL_DIR = Path(__file__).resolve().parent.parent / "src" / "emolens" / "models"


def load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def headline(card: Path) -> list[str]:
    rows = ["| model | size | " + " | ".join(SPLITS) + " | PrivateTest macro-F1 |", "|---" * (len(SPLITS) + 3) + "|"]
    for name in MODELS:
        reports = [load(card / name / f"{s}.json") for s in SPLITS]
        if None in reports:
            continue
        size_mb = (MODEL_DIR / f"emolens-{name}.onnx").stat().st_size / 1e6
        accs = " | ".join(pct(r["accuracy"]) for r in reports)  # type: ignore[index]
        rows.append(f"| `{name}` | {size_mb:.2f} MB | {accs} | {pct(reports[1]['macro_f1'])} |")  # type: ignore[index]
    return rows if len(rows) > 2 else []


def recall(card: Path) -> list[str]:
    reports = {n: load(card / n / "PrivateTest.json") for n in MODELS}
    reports = {n: r for n, r in reports.items() if r}
    if not reports:
        return []
    labels = next(iter(reports.values()))["labels"]
    rows = ["| PrivateTest recall | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, r in reports.items():
        rows.append(f"| `{name}` | " + " | ".join(pct(r["per_class"][lab]["recall"]) for lab in labels) + " |")
    return rows


def _seed_accuracies(folder: Path, seed: str) -> list[float]:
    reports = [load(folder / f"seed{seed}-{split}.json") for split in SPLITS]
    return [r["accuracy"] if r else float("nan") for r in reports]


def seeds(card: Path) -> list[str]:
    """The final recipe's seeds (seeds/), each after its pre-distillation run (seeds/before-kd/) where present."""
    found = sorted(card.glob("seeds/seed*-PublicTest.json"))
    if not found:
        return []
    rows = ["| seed (float32 checkpoint) | " + " | ".join(SPLITS) + " |", "|---" * (len(SPLITS) + 1) + "|"]
    final: list[list[float]] = []
    distilled = False
    for path in found:
        seed = path.name.split("-")[0].removeprefix("seed")
        if (card / "seeds" / "before-kd" / path.name).is_file():
            before = _seed_accuracies(card / "seeds" / "before-kd", seed)
            rows.append(f"| {seed}, before distillation | " + " | ".join(pct(a) for a in before) + " |")
            label, distilled = f"{seed}, distilled", True
        else:
            label = seed
        final.append(_seed_accuracies(card / "seeds", seed))
        rows.append(f"| {label} | " + " | ".join(pct(a) for a in final[-1]) + " |")
    cells = []
    for values in zip(*final, strict=True):
        spread = (max(values) - min(values)) / 2
        cells.append(f"{pct(statistics.mean(values))} ± {pct(spread)}")
    rows.append(f"| mean ± half-range{' (distilled)' if distilled else ''} | " + " | ".join(cells) + " |")
    return rows


def jitter(card: Path) -> list[str]:
    columns = {"trained without blur (an earlier `fast`)": card / "before-blur" / "jitter.json"}
    columns["`fast`'s network alone (float32, no flip)"] = card / "fast" / "jitter-no-flip.json"
    columns.update({f"`{n}`": card / n / "jitter.json" for n in MODELS})
    tables = {title: load(path) for title, path in columns.items()}
    tables = {t: r for t, r in tables.items() if r}
    if not tables:
        return []
    kinds = [j["kind"] for j in next(iter(tables.values()))["jitter"]]
    rows = ["| PrivateTest under jitter | " + " | ".join(tables) + " |", "|---" * (len(tables) + 1) + "|"]
    for kind in kinds:
        cells = []
        for r in tables.values():
            by_kind = {j["kind"]: j["accuracy"] for j in r["jitter"]}
            drop = by_kind[kind] - by_kind["none"]
            cells.append(pct(by_kind[kind]) + ("" if kind == "none" else f" ({100 * drop:+.2f})"))
        rows.append(f"| {kind} | " + " | ".join(cells) + " |")
    return rows


def calibration(card: Path) -> list[str]:
    rows = ["| model | temperature (PublicTest) | PrivateTest ECE at T=1 | with T |", "|---|---|---|---|"]
    for name in MODELS:
        r = load(card / name / "calibration.json")
        if r:
            c = r["calibration"]
            t, before, after = c["temperature_for_export"], pct(c["ece_before"]), pct(c["ece_after"])
            rows.append(f"| `{name}` | {t:.3f} | {before}% | {after}% |")
    return rows if len(rows) > 2 else []


def main() -> None:
    card = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/model")
    for title, table in (
        ("Accuracy (%)", headline(card)),
        ("Per-class recall (%)", recall(card)),
        ("Seed spread (%)", seeds(card)),
        ("Robustness (%; change from unjittered in brackets)", jitter(card)),
        ("Calibration", calibration(card)),
    ):
        if table:
            print(f"### {title}\n")
            print("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
