"""The output folder of a batch run: the Parquet schemas, part files written atomically, and the resume ledger.

Layout of DIR:
    faces/<key>-<n>.parquet   one row per face per frame; an input's parts appear (by rename) only once it is done
    faces/_inflight/<key>/    parts of inputs in progress; readers skip `_` folders, a rerun deletes them
    sources.parquet           one row per input, rewritten (atomically) at the end of every run
    ledger.jsonl              one line per finished input: its key and its sources row; appended, fsynced
    batch.json                the model, options and face columns the folder's results were made with

An input's key hashes its path, size, mtime, the model file's sha256 and the options, so a rerun skips an input
only if none of them changed; a changed file is processed again and its old rows are deleted first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from emolens.errors import EmolensError
from emolens.types import EMOTIONS, LANDMARK_COLUMNS, PROB_COLUMNS

FACES_DIR = "faces"
INFLIGHT_DIR = "_inflight"
SOURCES_FILE = "sources.parquet"
LEDGER_FILE = "ledger.jsonl"
CONFIG_FILE = "batch.json"

FACES_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("frame", pa.int64()),
        ("time_s", pa.float64()),
        ("track_id", pa.int64()),  # null for photos
        ("x1", pa.int32()),
        ("y1", pa.int32()),
        ("x2", pa.int32()),
        ("y2", pa.int32()),
        ("score", pa.float32()),  # the detector's confidence; null for the Haar cascade, which has none
        ("emotion", pa.string()),
        *[(name, pa.float32()) for name in PROB_COLUMNS],  # p_angry ... p_neutral, as in the CSV
        *[(name, pa.float32()) for name in LANDMARK_COLUMNS],  # null where the face has no landmarks
        ("model", pa.string()),
        ("detector", pa.string()),
    ]
)
FACE_COLUMNS: tuple[str, ...] = tuple(FACES_SCHEMA.names)

TRACK_EMOTION_TYPE = pa.struct([("track_id", pa.int64()), *[(f"{name}_s", pa.float64()) for name in EMOTIONS]])
SOURCES_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("kind", pa.string()),  # "photo", "video", or null when the input could not be opened
        ("size_bytes", pa.int64()),
        ("frames", pa.int64()),
        ("duration_s", pa.float64()),  # null for photos
        ("faces", pa.int64()),
        ("tracks", pa.int64()),  # null for photos (no tracking)
        ("track_emotion_s", pa.list_(TRACK_EMOTION_TYPE)),  # per track, seconds its top emotion was each label
        ("status", pa.string()),  # "ok" or the one-line error
        ("wall_s", pa.float64()),
        ("model", pa.string()),
        ("detector", pa.string()),
    ]
)


class BatchOutputError(EmolensError):
    """The output folder cannot be used (in use by another run, made with other options, not writable)."""


@dataclass(frozen=True)
class SourceRow:
    """One input's line in sources.parquet (and in the ledger)."""

    source: str
    status: str
    kind: str | None = None
    size_bytes: int | None = None
    frames: int = 0
    duration_s: float | None = None
    faces: int = 0
    tracks: int | None = None
    #: (track_id, seconds per emotion in EMOTIONS order) per track
    track_emotion_s: tuple[tuple[int, tuple[float, ...]], ...] = ()
    wall_s: float = 0.0
    model: str = ""
    detector: str = ""

    @property
    def ok(self) -> bool:
        """Whether the input was processed to its end."""
        return self.status == "ok"

    def to_json(self) -> dict[str, object]:
        """The row as JSON-ready values (the ledger's form).

        Returns:
            Field name -> value.
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SourceRow:
        """The row back from `to_json`'s form; unknown keys are ignored.

        Args:
            data: field name -> value, as read from the ledger.

        Returns:
            The row.

        Raises:
            TypeError: If track_emotion_s is not a list of [track, seconds] pairs.
            ValueError: If a track id or a number of seconds is not a number.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        tracks = values.get("track_emotion_s", ())
        if not isinstance(tracks, list | tuple):
            raise TypeError(f"track_emotion_s: expected a list, got {type(tracks).__name__}")
        # JSON has no tuples: the pairs come back as lists.
        values["track_emotion_s"] = tuple((int(track), tuple(float(s) for s in seconds)) for track, seconds in tracks)
        # The ignore: the other fields are the JSON values `to_json` wrote, passed on unchecked.
        return cls(**values)  # type: ignore[arg-type]


def input_key(path: str, size_bytes: int, mtime_ns: int, config_digest: str) -> str:
    """The resume key of one input: a changed file, model or option makes a new key.

    Args:
        path: the input's absolute path.
        size_bytes: its size.
        mtime_ns: its modification time.
        config_digest: `config_digest` of the run's model and options.

    Returns:
        20 hex digits.
    """
    text = json.dumps([path, size_bytes, mtime_ns, config_digest])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def config_digest(model_file: Path, options: dict[str, object]) -> str:
    """The model file's content and the options that change results, as one hash.

    Args:
        model_file: the .onnx file.
        options: the options that change results (JSON-serialisable values).

    Returns:
        A sha256 hex digest.
    """
    digest = hashlib.sha256()
    with model_file.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(json.dumps(options, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def hold_arrow_to_one_thread() -> None:
    """Arrow's CPU and I/O thread pools to one thread each (for a worker process; see work.hold_thread_pools_to_one)."""
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


class PartWriter:
    """The face rows of one input, in part files of at most `rows_per_part` rows (so memory stays bounded).

    Parts are written into faces/_inflight/<key>/ and renamed into faces/ by `commit`, each rename atomic.
    """

    def __init__(self, out_dir: Path, key: str, rows_per_part: int) -> None:
        self.faces_dir = out_dir / FACES_DIR
        self.key = key
        self.rows_per_part = rows_per_part
        self._pending = self.faces_dir / INFLIGHT_DIR / key
        shutil.rmtree(self._pending, ignore_errors=True)  # a retried task starts clean
        self._pending.mkdir(parents=True)
        self._columns: dict[str, list[object]] = {name: [] for name in FACE_COLUMNS}
        self._rows = 0
        self._parts: list[Path] = []

    def append(self, row: Sequence[object]) -> None:
        """One face; a part file is written whenever `rows_per_part` faces are held.

        Args:
            row: the values in FACE_COLUMNS order.
        """
        for column, value in zip(self._columns.values(), row, strict=True):
            column.append(value)
        self._rows += 1
        if self._rows >= self.rows_per_part:
            self.flush()

    def flush(self) -> None:
        """Write the faces held so far as one part file (still in the in-flight folder)."""
        if not self._rows:
            return
        table = pa.table(self._columns, schema=FACES_SCHEMA)
        part = self._pending / f"{self.key}-{len(self._parts):05d}.parquet"
        pq.write_table(table, part)
        self._parts.append(part)
        self._columns = {name: [] for name in FACE_COLUMNS}
        self._rows = 0

    def commit(self) -> None:
        """Make the parts visible in faces/; the caller records the input in the ledger afterwards."""
        self.flush()
        for part in self._parts:
            os.replace(part, self.faces_dir / part.name)
        shutil.rmtree(self._pending, ignore_errors=True)


class OutputFolder:
    """DIR of one run: checks it is free and made with the same options, knows what is done, writes sources."""

    def __init__(self, out_dir: Path, config: dict[str, object]) -> None:
        self.path = out_dir
        try:
            (out_dir / FACES_DIR).mkdir(parents=True, exist_ok=True)
            self._lock = (out_dir / ".lock").open("a")
        except OSError as err:
            raise BatchOutputError(f"{out_dir}: cannot create the output folder ({err.strerror or err})") from None
        _lock_or_fail(self._lock, out_dir)
        # The face columns are part of what a folder's results were made with: parts of two layouts in one
        # faces/ folder would not read as one table (a folder from before the p_/lm_ columns is refused).
        self._check_config({**config, "face_columns": list(FACE_COLUMNS)})
        self.done = self._read_ledger()
        self._ledger = (out_dir / LEDGER_FILE).open("a", encoding="utf-8")

    def close(self) -> None:
        """Close the ledger and release the folder's lock."""
        with contextlib.suppress(OSError):  # the in-flight folder goes once empty (a rerun recreates it)
            (self.path / FACES_DIR / INFLIGHT_DIR).rmdir()
        self._ledger.close()
        self._lock.close()

    def _check_config(self, config: dict[str, object]) -> None:
        path = self.path / CONFIG_FILE
        if path.exists():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
            if stored != json.loads(json.dumps(config)):
                raise BatchOutputError(
                    f"{self.path}: holds results made with another model or options, or other columns ({path}); "
                    "choose another --out folder or run with the same options"
                )
            return
        _write_atomic(path, (json.dumps(config, indent=1, sort_keys=True) + "\n").encode("utf-8"))

    def _read_ledger(self) -> dict[str, tuple[str, SourceRow]]:
        """source path -> (key, row) of its latest ledger line; a line cut by a kill is ignored."""
        entries: dict[str, tuple[str, SourceRow]] = {}
        path = self.path / LEDGER_FILE
        if not path.exists():
            return entries
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                row = SourceRow.from_json(data["row"])
            except (ValueError, KeyError, TypeError):
                continue
            entries[row.source] = (str(data["key"]), row)
        return entries

    def finished(self, source: str, key: str) -> SourceRow | None:
        """The row of an input already done with this key (status ok), else None.

        Args:
            source: the input's path.
            key: its current `input_key`.

        Returns:
            The ledger's row, or None when the input must be processed.
        """
        entry = self.done.get(source)
        return entry[1] if entry is not None and entry[0] == key and entry[1].ok else None

    def prepare(self, sources_keys: Iterable[tuple[str, str]]) -> None:
        """Before processing: delete rows a killed run left for these inputs, and rows of their older versions.

        Args:
            sources_keys: (path, key) of each input about to be processed.
        """
        shutil.rmtree(self.path / FACES_DIR / INFLIGHT_DIR, ignore_errors=True)
        faces = self.path / FACES_DIR
        for source, key in sources_keys:
            stale = {key}
            if source in self.done:
                stale.add(self.done[source][0])
            for old_key in stale:
                for part in faces.glob(f"{old_key}-*.parquet"):
                    part.unlink(missing_ok=True)

    def record(self, key: str, row: SourceRow) -> None:
        """An input is finished (its parts already committed): one fsynced ledger line.

        Args:
            key: the input's key ("" for an input that failed before a key could be made).
            row: its sources row.
        """
        self._ledger.write(json.dumps({"key": key, "row": row.to_json()}) + "\n")
        self._ledger.flush()
        os.fsync(self._ledger.fileno())
        self.done[row.source] = (key, row)

    def write_sources(self, rows: Sequence[SourceRow]) -> Path:
        """sources.parquet with one row per input, replaced atomically.

        Args:
            rows: one row per input, in the order to write them.

        Returns:
            The file's path.
        """
        columns: dict[str, list[object]] = {name: [] for name in SOURCES_SCHEMA.names}
        for row in rows:
            values = row.to_json()
            values["track_emotion_s"] = [
                {"track_id": track, **{f"{name}_s": s for name, s in zip(EMOTIONS, seconds, strict=True)}}
                for track, seconds in row.track_emotion_s
            ]
            for name in SOURCES_SCHEMA.names:
                columns[name].append(values[name])
        target = self.path / SOURCES_FILE
        tmp = target.with_name(f".{SOURCES_FILE}.tmp")
        pq.write_table(pa.table(columns, schema=SOURCES_SCHEMA), tmp)
        os.replace(tmp, target)
        return target


def _lock_or_fail(handle: IO[str], out_dir: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, one run per folder is then the user's care
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BatchOutputError(f"{out_dir}: another emolens batch run is writing to this folder") from None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
