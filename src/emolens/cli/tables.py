"""Plain-text tables for the terminal: aligned columns, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 4) -> str:
    """Rows of str/int/float under a header; floats with `digits` decimals.

    A column is right-aligned when every row holds an int or float there; other cells are shown by `str`.

    Args:
        header: The column names.
        rows: The rows, each with one value per column.
        digits: Decimals shown for a float.

    Returns:
        The table as lines joined by newlines: header, a dashed rule, then one line per row, with no
        trailing spaces.

    Raises:
        IndexError: If a row is shorter than the header.
        ValueError: If a row is longer than the header.
    """

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
