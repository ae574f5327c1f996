"""Batch runs over whole archives of photos and videos, to Parquet, on this machine or a Ray cluster."""

from emolens.batch.inputs import InputItem, expand_inputs
from emolens.batch.parquet import FACES_SCHEMA, SOURCES_SCHEMA, BatchOutputError, SourceRow
from emolens.batch.runner import ENGINES, BatchOptions, BatchSummary, Progress, run_batch

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
