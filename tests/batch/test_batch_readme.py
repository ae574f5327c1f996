"""The README's reading example runs as printed, against a real batch run."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from batch_support import faces_table

from support import REPO


def readme_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- batch-read: begin -->\n```python\n(.*?)```\n<!-- batch-read: end -->", text, re.S)
    assert found, "README.md lost its batch-read block"
    return found.group(1)


def test_the_pandas_and_duckdb_example_reads_a_run(local_run: Path) -> None:
    pytest.importorskip("duckdb", reason="the README's DuckDB query needs duckdb (the dev extra installs it)")
    code = readme_block().replace("results/", f"{local_run}/")
    scope: dict[str, object] = {}
    exec(compile(code, "README.md batch-read", "exec"), scope)
    faces = scope["faces"]
    share = scope["share"]
    assert isinstance(faces, pd.DataFrame) and isinstance(share, pd.DataFrame)
    assert len(faces) == len(faces_table(local_run))
    sums = share.groupby("source").share.sum()
    assert set(sums.index) == set(faces.source) and ((sums - 1).abs() < 1e-9).all()
    counts = faces.groupby(["source", "emotion"]).size() / faces.groupby("source").size()
    merged = share.set_index(["source", "emotion"]).share
    assert ((merged - counts.reindex(merged.index)).abs() < 1e-9).all()
