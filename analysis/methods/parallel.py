"""Process pools for the estimators' embarrassingly parallel parts (WQS bootstraps and repeats,
qgcomp resamples, imputed datasets).

A forked worker inherits numpy's multi-threaded BLAS: two workers on two cores then run four
BLAS threads and each is slower than one serial process (measured on the twin: 40 WQS
bootstraps took 3.0 s serially and 3.6 s in two forked workers; 2.0 s with one BLAS thread per
worker). So BLAS is limited to each worker's share of the cores in the parent, just before the
workers are forked, and they inherit the limit. Setting it in each worker instead, after the
fork, left OpenBLAS's re-created threads spinning beside the first fits: 100 WQS bootstraps in
two workers took 0.33 s that way and 0.27 s with the limit inherited.

A worker also dies with its parent: a fit killed mid-bootstrap (Ctrl-C twice, the OOM killer, a
scheduler's timeout) would otherwise leave its workers computing on, each holding a core.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from nhanes_bone.core.processes import die_with_parent


def workers_for(tasks: int, n_jobs: int | None) -> int:
    """How many processes: ``n_jobs`` (default all cores), never more than the tasks."""
    return max(1, min(n_jobs or os.cpu_count() or 1, tasks))


def parallel_map(function: Callable, jobs: Iterable, workers: int) -> list:
    """``[function(job) for job in jobs]``, over ``workers`` processes (in this one when 1),
    each worker with BLAS limited to its share of the cores."""
    jobs = list(jobs)
    if workers <= 1:
        return [function(job) for job in jobs]
    from threadpoolctl import threadpool_limits

    threads = max(1, (os.cpu_count() or 1) // workers)
    with (
        threadpool_limits(limits=threads, user_api="blas"),
        ProcessPoolExecutor(
            max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool,
    ):
        return list(pool.map(function, jobs))


def map_in_slices(
    function: Callable, shared: Any, items: list, workers: int, slices_per_worker: int = 4
) -> list:
    """``function((shared, items[i::k]))`` for k interleaved slices of ``items``, over ``workers``
    processes, each returning one result per item; the results come back in the items' order.

    Several slices per worker, handed out as workers free up, because fits differ in cost (a
    WQS bootstrap takes 20 to 60 BFGS iterations): with one slice each, two workers on 100
    bootstraps finished 0.26 s and 0.31 s after they started.
    """
    k = max(1, min(len(items), workers * slices_per_worker if workers > 1 else 1))
    parts = parallel_map(function, [(shared, items[i::k]) for i in range(k)], workers)
    results: list = [None] * len(items)
    for i, part in enumerate(parts):
        results[i::k] = list(part)
    return results
