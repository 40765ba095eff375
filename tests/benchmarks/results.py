"""bench/results.json: every benchmark's figures, each under its own key, for the report's
appendix. A benchmark replaces its own key and keeps the others'.

Run as a script, it records this machine's yardstick under "machine" (``make bench`` does so
first): the anchors of R's gWQS, qgcomp and bkmr are numbers recorded once, on whatever machine
ran R then, and a figure against them moves with this machine's speed as much as with the code's.
The yardstick says how fast the machine of a run was, so that two runs can be read side by side.
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime

import numpy as np
from threadpoolctl import threadpool_limits

from nhanes_bone.core.settings import BENCH_RESULTS as RESULTS


def save(key: str, figures: dict) -> None:
    """Replace ``key``'s figures, stamped with when they were measured (the report shows it)."""
    RESULTS.parent.mkdir(exist_ok=True)
    known = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    known[key] = {**figures, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    RESULTS.write_text(json.dumps(known, indent=2))
    print(f"written to {RESULTS} ({key})")


def _best(work, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def machine_yardstick() -> dict:
    """Three fixed workloads, best of three: the interpreter (a 3,000,000-step Python loop: what
    start-up and the estimators' Python loops are made of), BLAS on one thread (ten Cholesky
    factorisations of a 905 × 905 matrix, BKMR's and the GLMs' kind of work) and numpy's exp and
    log1p over 10⁶ doubles (WQS's deviance, BKMR's kernel): numpy's vectorised float64 exp and
    log need AVX-512, so on a processor without it this one is several times slower while the
    other two need not be, and so is every figure made of it."""

    def loop() -> None:
        total = 0
        for i in range(3_000_000):
            total += i

    rng = np.random.default_rng(0)
    a = rng.standard_normal((905, 905))
    spd = a @ a.T + 905 * np.eye(905)

    def cholesky() -> None:
        for _ in range(10):
            np.linalg.cholesky(spd)

    values = rng.standard_normal(1_000_000)

    def transcendental() -> None:
        np.log1p(np.exp(values))

    with threadpool_limits(1):
        blas = _best(cholesky)
    processor, avx512 = _cpuinfo()
    return {
        "python_loop_s": _best(loop),
        "blas_cholesky_s": blas,
        "numpy_exp_log1p_s": _best(transcendental),
        "avx512": avx512,
        "cpus": os.cpu_count(),
        "processor": processor,
        "python": platform.python_version(),
    }


def _cpuinfo() -> tuple[str, bool | None]:
    """The processor's model name and whether it has AVX-512 (from /proc/cpuinfo, on Linux)."""
    try:
        with open("/proc/cpuinfo") as info:
            text = info.read()
    except OSError:
        return platform.processor(), None
    names = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")]
    return (names[0] if names else platform.processor()), " avx512f" in text


if __name__ == "__main__":
    figures = machine_yardstick()
    print(
        f"machine yardstick: Python loop {figures['python_loop_s']:.3f} s, ten 905x905 Cholesky "
        f"on one BLAS thread {figures['blas_cholesky_s']:.3f} s, exp and log1p of 10^6 doubles "
        f"{figures['numpy_exp_log1p_s']:.3f} s (AVX-512: {figures['avx512']}; {figures['cpus']} x {figures['processor']}); "
        "figures against recorded anchors move with these"
    )
    save("machine", figures)
