"""Plain-text tables for the terminal: aligned columns, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 4) -> str:
    """Rows of str/int/float under a header; floats with `digits` decimals."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in text)) if text else len(str(h)) for i, h in enumerate(header)]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) and bool(rows) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line([str(h) for h in header]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in text]
    return "\n".join(out)
