"""The local engine: a pool of worker processes on this machine, one model load per worker."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from emolens.batch.parquet import SourceRow
from emolens.batch.work import Task, Worker, WorkerConfig

# The pool's processes each hold one Worker (its model) for their whole life; set by the pool's initializer.
_worker: Worker | None = None


def _start_worker(config: WorkerConfig) -> None:
    global _worker
    _worker = Worker(config)


def _process(task: Task) -> SourceRow:
    assert _worker is not None, "the pool initializer did not run"
    return _worker.process(task)


def run_local(tasks: Sequence[Task], config: WorkerConfig, workers: int) -> Iterator[SourceRow]:
    """Rows of `tasks` as they finish, from `workers` processes; tasks are started in the order given.

    Args:
        tasks: the inputs to process, in the order to start them.
        config: what each worker process needs to load its model and write its part files.
        workers: the number of processes (fewer if there are fewer tasks).

    Yields:
        One SourceRow per task, in the order they finish.

    A worker process that dies (killed, out of memory) breaks the pool: the inputs not finished by then get a
    row saying so, and a rerun retries them.
    """
    if not tasks:
        return
    # spawn, not fork: onnxruntime's and OpenCV's thread pools do not survive a fork reliably.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(tasks))),
        mp_context=context,
        initializer=_start_worker,
        initargs=(config,),
    ) as pool:
        futures: dict[Future[SourceRow], Task] = {pool.submit(_process, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except BrokenProcessPool:
                    task = futures[future]
                    yield SourceRow(
                        source=task.path,
                        status=f"{task.path}: a worker process died while this input was queued or in flight",
                        size_bytes=task.size_bytes,
                    )
        finally:
            for future in futures:
                future.cancel()
