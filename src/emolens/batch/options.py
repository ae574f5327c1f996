"""How a batch runs (`BatchOptions`), apart from the engines and Parquet so that `emolens batch` builds its flags from
these fields without importing pyarrow."""

from __future__ import annotations

from dataclasses import dataclass, field

from emolens.api import RecognizerOptions

ENGINES: tuple[str, ...] = ("local", "ray")


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs; what it computes comes from `recognizer`, the same options every other entry point uses.

    A field with "help" in its metadata is a flag of `emolens batch` (`emolens.cli.common.add_field_flags`);
    `recognizer` has the flags every model-running command shares.
    """

    recognizer: RecognizerOptions = field(default_factory=RecognizerOptions)
    #: "local" (a process pool) or "ray".
    engine: str = field(default="local", metadata={"choices": ENGINES, "help": "a local process pool, or Ray"})
    #: None: one per core (local) or per CPU of the Ray cluster.
    workers: int | None = field(
        default=None,
        metadata={"type": int, "metavar": "N", "help": "worker processes or actors (default: one per core)"},
    )
    #: Ray only: "auto" or HOST:PORT joins a cluster; None starts a local one.
    ray_address: str | None = field(
        default=None,
        metadata={
            "type": str,
            "metavar": "ADDR",
            "help": "join a running Ray cluster: 'auto' or HOST:PORT (default: start a local one); inputs and --out "
            "must be on a file system every node shares",
        },
    )
    #: Face rows per Parquet part file, and so the most a worker holds in memory.
    rows_per_part: int = field(
        default=50_000, metadata={"metavar": "N", "help": "face rows per Parquet part file (a worker holds one part)"}
    )

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose from {', '.join(ENGINES)}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.rows_per_part < 1:
            raise ValueError(f"rows_per_part must be at least 1, got {self.rows_per_part}")
        if self.ray_address is not None and self.engine != "ray":
            raise ValueError("a Ray address needs the ray engine")
