"""Batch runs over whole archives of photos and videos, to Parquet, on this machine or a Ray cluster.

The names below are imported on first use (PEP 562), so that `emolens.batch.options`, which `emolens batch` reads
to build its flags, loads without pyarrow: a missing pyarrow is then reported in one line when the batch runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emolens.batch.inputs import InputItem, expand_inputs
    from emolens.batch.options import ENGINES, BatchOptions
    from emolens.batch.parquet import FACES_SCHEMA, SOURCES_SCHEMA, BatchOutputError, SourceRow
    from emolens.batch.runner import BatchSummary, Progress, run_batch

#: Each public name -> the submodule that defines it.
_HOMES = {
    "ENGINES": "options",
    "BatchOptions": "options",
    "FACES_SCHEMA": "parquet",
    "SOURCES_SCHEMA": "parquet",
    "BatchOutputError": "parquet",
    "SourceRow": "parquet",
    "BatchSummary": "runner",
    "Progress": "runner",
    "run_batch": "runner",
    "InputItem": "inputs",
    "expand_inputs": "inputs",
}

__all__ = [
    "ENGINES",
    "FACES_SCHEMA",
    "SOURCES_SCHEMA",
    "BatchOptions",
    "BatchOutputError",
    "BatchSummary",
    "InputItem",
    "Progress",
    "SourceRow",
    "expand_inputs",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    """One of the package's public names, imported from its submodule on first use.

    Args:
        name: the attribute asked for.

    Returns:
        The object.

    Raises:
        AttributeError: `name` is not one of the package's names.
    """
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
