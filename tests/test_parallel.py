"""The estimators' process pools: results in order, BLAS limited in the workers, the parent's
setting restored."""

from __future__ import annotations

import os

import numpy  # noqa: F401 (loads the BLAS whose threads are counted)
from threadpoolctl import threadpool_info

from analysis.methods.parallel import map_in_slices, parallel_map


def _blas_threads(_job: int) -> int:
    return min(entry["num_threads"] for entry in threadpool_info() if entry["user_api"] == "blas")


def _square_slice(args: tuple[int, list[int]]) -> list[tuple[int, int]]:
    offset, items = args
    return [(item, item * item + offset) for item in items]


def test_each_worker_runs_blas_on_its_share_of_the_cores_and_the_parent_keeps_its_own():
    before = _blas_threads(0)
    in_workers = parallel_map(_blas_threads, range(4), 2)
    assert in_workers == [max(1, (os.cpu_count() or 1) // 2)] * 4
    assert _blas_threads(0) == before


def test_slices_come_back_in_the_items_order():
    items = list(range(23))  # not a multiple of the 8 slices two workers get
    assert map_in_slices(_square_slice, 5, items, 2) == [(i, i * i + 5) for i in items]
    assert map_in_slices(_square_slice, 0, items, 1) == [(i, i * i) for i in items]
