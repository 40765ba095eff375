"""Process pools for the estimators' embarrassingly parallel parts (WQS bootstraps and repeats,
qgcomp resamples, imputed datasets).

A forked worker inherits numpy's multi-threaded BLAS: two workers on two cores then run four
BLAS threads and each is slower than one serial process (measured on the twin: 40 WQS
bootstraps took 3.0 s serially and 3.6 s in two forked workers; 2.0 s with one BLAS thread per
worker). So every worker limits BLAS to its share of the cores when it starts.

A worker also dies with its parent: a fit killed mid-bootstrap (Ctrl-C twice, the OOM killer, a
scheduler's timeout) would otherwise leave its workers computing on, each holding a core.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from nhanes_bone.core.processes import die_with_parent


def _start_worker(threads: int, parent: int) -> None:
    die_with_parent(parent)
    from threadpoolctl import threadpool_limits

    # kept alive for the worker's lifetime: the limit lasts while the object exists
    global _LIMIT
    _LIMIT = threadpool_limits(limits=threads, user_api="blas")


_LIMIT: Any = None


def workers_for(tasks: int, n_jobs: int | None) -> int:
    """How many processes: ``n_jobs`` (default all cores), never more than the tasks."""
    return max(1, min(n_jobs or os.cpu_count() or 1, tasks))


def parallel_map(function: Callable, jobs: Iterable, workers: int) -> list:
    """``[function(job) for job in jobs]``, over ``workers`` processes (in this one when 1),
    each worker with BLAS limited to its share of the cores."""
    jobs = list(jobs)
    if workers <= 1:
        return [function(job) for job in jobs]
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(threads, os.getpid())
    ) as pool:
        return list(pool.map(function, jobs))
