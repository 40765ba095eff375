"""Several BKMR chains: seeded, from dispersed recorded starts, in parallel processes.

Chain 0 starts where bkmr starts (r = 1, δ = 1, λ = 10, β from the probit/linear fit);
chains 1, 2, … start from dispersed points — λ from its prior, r_m log-uniform on
(0.02, 5), δ_m fair coins — because a chain can settle in a "rough kernel" mode (one r_m in
the thousands) and stay there: only chains that started elsewhere and disagree reveal it.
Chain c's random stream is ``default_rng([seed, c])``: the same seed gives the same chains,
whether they run in parallel or one after another.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context

import numpy as np

from analysis.methods.bkmr.model import BkmrSettings, State
from analysis.methods.bkmr.sampler import Chain, bkmr_start, run_chain
from nhanes_bone.core.errors import InputError
from nhanes_bone.core.processes import die_with_parent


def dispersed_start(base: State, settings: BkmrSettings, rng: np.random.Generator) -> State:
    m = len(base.r)
    lam = float(np.clip(rng.gamma(settings.lambda_shape, 1.0 / settings.lambda_rate), 0.5, 50.0))
    r = np.exp(rng.uniform(np.log(0.02), np.log(5.0), m))
    delta = (rng.random(m) < 0.5).astype(float) if settings.varsel else np.ones(m)
    return replace(base, lam=lam, r=np.where(delta == 1, r, 0.0) if settings.varsel else r, delta=delta)


def chain_starts(y, z, x, settings: BkmrSettings, chains: int, seed: int) -> list[State]:
    base = bkmr_start(np.asarray(y, float), np.asarray(z, float), np.asarray(x, float), settings.family)
    return [base] + [
        dispersed_start(base, settings, np.random.default_rng([seed, c, 0])) for c in range(1, chains)
    ]


def _one(args) -> Chain:
    y, z, x, settings, chain_seed, start = args
    return run_chain(y, z, x, settings, seed=chain_seed, start=start)


def run_chains(
    y: np.ndarray,
    z: np.ndarray,
    x: np.ndarray,
    settings: BkmrSettings,
    chains: int = 2,
    seed: int = 1,
    workers: int | None = None,
) -> list[Chain]:
    """``chains`` chains; in ``workers`` processes (default: one per chain, at most one per core)."""
    if chains < 1:
        raise InputError(f"BKMR needs at least one chain, got {chains}")
    starts = chain_starts(y, z, x, settings, chains, seed)
    jobs = [(y, z, x, settings, [seed, c], starts[c]) for c in range(chains)]
    cores = os.cpu_count() or 1
    workers = min(chains, cores) if workers is None else max(1, min(workers, chains))
    if workers == 1:
        return [_one(job) for job in jobs]
    # each process gets its share of the cores for OpenBLAS (read when numpy loads in the child)
    threads = str(max(1, cores // workers))
    saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update(dict.fromkeys(saved, threads))
    try:
        # spawn, not fork: a forked child would inherit the parent's BLAS thread pool state
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            return list(pool.map(_one, jobs))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
