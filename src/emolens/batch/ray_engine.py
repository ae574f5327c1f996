"""The Ray engine: the same Worker as the local engine, one per Ray actor (one model load per actor).

Inputs and the output folder must be on a file system every node shares (NFS, a cluster file system, or one
machine): workers open the inputs by path and write their part files into the output folder themselves.
Before any work, each actor checks that it can see the output folder and the first input, and the run stops
with a clear error if it cannot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from emolens.batch.parquet import CONFIG_FILE, SourceRow
from emolens.batch.work import Task, Worker, WorkerConfig
from emolens.errors import EmolensError

SHARED_FS_NOTE = "inputs and --out must be on a file system that every Ray node shares"
#: A lost actor (its node or process died) is restarted and its task retried; the retry rewrites that
#: input's part files from the start, so no rows are duplicated.
_ACTOR_RESTARTS = 3


class RayEngineError(EmolensError):
    """Ray is missing, the cluster cannot be reached, or a worker cannot see the inputs or the output folder."""


class RayWorker:
    """A Ray actor around a Worker (decorated with ray.remote at run time, so importing this needs no Ray)."""

    def __init__(self, config: WorkerConfig) -> None:
        self._worker = Worker(config)

    def check(self, paths: Sequence[str]) -> str | None:
        """Whether this actor's node sees `paths`.

        Args:
            paths: files or folders the driver sees.

        Returns:
            None, or the one-line reason naming the first path it cannot read and its host.
        """
        return next((reason for reason in map(self._worker.can_read, paths) if reason), None)

    def process(self, task: Task) -> SourceRow:
        """See `Worker.process`.

        Args:
            task: the input.

        Returns:
            Its sources row.
        """
        return self._worker.process(task)


def run_ray(
    tasks: Sequence[Task], config: WorkerConfig, workers: int | None, address: str | None
) -> Iterator[SourceRow]:
    """Rows of `tasks` as they finish, on `workers` actors (default: one per CPU of the cluster).

    Args:
        tasks: the inputs to process, in the order to start them.
        config: what each actor needs to load its model and write its part files.
        workers: the number of actors; None: one per CPU of the cluster.
        address: "auto" or HOST:PORT joins a running cluster (`ray start --head`); None starts a local one
            for this run and stops it afterwards (`emolens batch` has Ray put it on 127.0.0.1). Where this
            process is connected to Ray already, that connection is used as it is.

    Yields:
        One SourceRow per task, in the order they finish.

    Raises:
        RayEngineError: Ray is not installed, the cluster cannot be joined, or a worker cannot read the inputs.
    """
    if not tasks:
        return
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise RayEngineError("the ray engine needs Ray: pip install 'emolens[scale]'") from None
    ray_module: Any = ray
    init_args: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address is None:
        init_args.update(address="local", num_cpus=workers)
    else:
        init_args.update(address=address)
    joined_here = not ray_module.is_initialized()  # a caller already connected (a notebook) keeps its connection
    if joined_here:
        try:
            ray_module.init(**init_args)
        except (ConnectionError, RuntimeError, ValueError) as err:
            hint = "" if address is None else " (a token-authenticated cluster needs RAY_AUTH_MODE=token)"
            where = address or "a new local cluster"
            raise RayEngineError(f"cannot start or join Ray at {where}: {err}{hint}") from None
    actors: list[Any] = []
    try:
        count = workers or max(1, int(ray_module.cluster_resources().get("CPU", 1)))
        count = min(count, len(tasks))
        actor_class = ray_module.remote(num_cpus=1, max_restarts=_ACTOR_RESTARTS, max_task_retries=_ACTOR_RESTARTS)(
            RayWorker
        )
        config = WorkerConfig(config.options, config.out_dir, config.rows_per_part, SHARED_FS_NOTE)
        actors = [actor_class.remote(config) for _ in range(count)]  # each loads the model once
        # The output folder, and the first input this driver can read itself (a bad input is not the cluster's fault).
        probe = [f"{config.out_dir}/{CONFIG_FILE}", *[t.path for t in tasks if os.access(t.path, os.R_OK)][:1]]
        for problem in ray_module.get([actor.check.remote(probe) for actor in actors]):
            if problem:
                raise RayEngineError(problem)
        pool = ActorPool(actors)
        yield from pool.map_unordered(lambda actor, task: actor.process.remote(task), list(tasks))
    finally:
        for actor in actors:  # their models' memory goes back to the cluster now, not when the driver exits
            ray_module.kill(actor)
        if joined_here:
            ray_module.shutdown()
