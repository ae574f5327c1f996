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
    """NAME.json, or NAME/eval_metrics.json where the evaluation wrote its folder (each is kept once)."""
    for candidate in (path, path.with_suffix("") / "eval_metrics.json"):
        if candidate.is_file():
            return json.loads(candidate.read_text())
    return None


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


def _spread_row(label: str, accuracies: list[list[float]]) -> str:
    cells = []
    for values in zip(*accuracies, strict=True):
        spread = (max(values) - min(values)) / 2
        cells.append(f"{pct(statistics.mean(values))} ± {pct(spread)}")
    return f"| {label} | " + " | ".join(cells) + " |"


def _seed_names(folder: Path) -> set[str]:
    return {path.name.split("-")[0].removeprefix("seed") for path in folder.glob("seed*-PublicTest.json")}


def seeds(card: Path) -> list[str]:
    """Every seed before distillation (seeds/before-kd/) and after it (seeds/), with the spread of each group."""
    before_dir, distilled_dir = card / "seeds" / "before-kd", card / "seeds"
    before_seeds, distilled_seeds = _seed_names(before_dir), _seed_names(distilled_dir)
    if not before_seeds and not distilled_seeds:
        return []
    rows = ["| seed (float32 checkpoint) | " + " | ".join(SPLITS) + " |", "|---" * (len(SPLITS) + 1) + "|"]
    before: list[list[float]] = []
    distilled: list[list[float]] = []
    for seed in sorted(before_seeds | distilled_seeds, key=lambda name: (len(name), name)):  # 2 before 10
        if seed in before_seeds:
            before.append(_seed_accuracies(before_dir, seed))
            label = f"{seed}, before distillation" if seed in distilled_seeds else f"{seed}, not distilled"
            rows.append(f"| {label} | " + " | ".join(pct(a) for a in before[-1]) + " |")
        if seed in distilled_seeds:
            distilled.append(_seed_accuracies(distilled_dir, seed))
            label = f"{seed}, distilled" if seed in before_seeds else seed
            rows.append(f"| {label} | " + " | ".join(pct(a) for a in distilled[-1]) + " |")
    if before:
        rows.append(_spread_row(f"mean ± half-range, before distillation ({len(before)} seeds)", before))
    if distilled:
        rows.append(_spread_row(f"mean ± half-range, distilled ({len(distilled)} seeds)", distilled))
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
