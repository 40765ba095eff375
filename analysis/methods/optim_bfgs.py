"""R's ``optim(method = "BFGS")`` without a gradient, step for step.

gWQS fits its weights with R's variable-metric minimiser (``vmmin`` in R's
src/appl/optim.c) and, since it passes no gradient, R's central finite differences with
``ndeps = 1e-3``. scipy's BFGS uses another line search and gradient, and lands on
slightly different optima of WQS's flat likelihood surface; replaying a gWQS run to 1e-3
needs the same algorithm, so it is re-implemented here from its published description.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

STEPREDN = 0.2
ACCTOL = 0.0001
RELTEST = 10.0


@dataclass
class OptimResult:
    par: np.ndarray
    value: float
    convergence: int  # 0 converged, 1 iteration limit reached (R's codes)
    fncount: int
    grcount: int


def numeric_gradient(
    fn: Callable[[np.ndarray], float],
    x: np.ndarray,
    ndeps: float = 1e-3,
) -> np.ndarray:
    """R's optim gradient when ``gr`` is NULL: central differences with step ``ndeps``
    (WQS computes the same differences in batches, ``wqs._Objectives.central_differences``)."""
    g = np.empty_like(x)
    probe = x.copy()
    for i in range(len(x)):
        probe[i] = x[i] + ndeps
        up = fn(probe)
        probe[i] = x[i] - ndeps
        down = fn(probe)
        g[i] = (up - down) / (2 * ndeps)
        probe[i] = x[i]
    return g


def vmmin_steps(
    x0: np.ndarray, maxit: int = 100, reltol: float = 1.490116e-08, abstol: float = -np.inf
) -> Generator[tuple[str, np.ndarray], Any, OptimResult]:
    """R's vmmin as a coroutine: it yields ``("value", x)`` or ``("gradient", x)`` and is sent
    f(x) or R's gradient at x; it returns the OptimResult. Written once this way so that one
    fit (``vmmin``) and many fits in lockstep (``vmmin_many``, one batched evaluation per
    round) run the same algorithm."""
    b = np.array(x0, dtype=float)
    n = len(b)
    f = yield ("value", b)
    if not np.isfinite(f):
        raise ValueError("initial value in 'vmmin' is not finite")
    fmin = f
    funcount = gradcount = 1
    g = yield ("gradient", b)
    iteration = 1
    ilast = gradcount
    B = np.eye(n)
    count = 0
    while True:
        if ilast == gradcount:
            B = np.eye(n)
        X = b.copy()
        c = g.copy()
        t = -B @ g
        gradproj = float(t @ g)
        if gradproj < 0.0:  # downhill
            steplength = 1.0
            accpoint = False
            while True:
                b = X + steplength * t
                count = int(np.count_nonzero(RELTEST + b == RELTEST + X))
                if count < n:
                    f = yield ("value", b)
                    funcount += 1
                    accpoint = bool(np.isfinite(f) and f <= fmin + gradproj * steplength * ACCTOL)
                    if not accpoint:
                        steplength *= STEPREDN
                if count == n or accpoint:
                    break
            enough = f > abstol and abs(f - fmin) > reltol * (abs(fmin) + reltol)
            if not enough:
                count = n
                fmin = f
            if count < n:  # making progress
                fmin = f
                g = yield ("gradient", b)
                gradcount += 1
                iteration += 1
                t = steplength * t
                c = g - c
                D1 = float(t @ c)
                if D1 > 0:
                    Xv = B @ c
                    D2 = 1.0 + float(Xv @ c) / D1
                    column = t[:, None]
                    B = B + (D2 * (column * t) - Xv[:, None] * t - column * Xv) / D1
                else:
                    ilast = gradcount
            else:  # no progress
                if ilast < gradcount:
                    count = 0
                    ilast = gradcount
        else:  # uphill search direction: reset, unless just reset
            count = 0
            if ilast == gradcount:
                count = n
            else:
                ilast = gradcount
        if iteration >= maxit:
            break
        if gradcount - ilast > 2 * n:
            ilast = gradcount  # periodic restart
        if count == n and ilast == gradcount:
            break
    return OptimResult(b, float(fmin), 0 if iteration < maxit else 1, funcount, gradcount)


def vmmin(
    fn: Callable[[np.ndarray], float],
    x0: np.ndarray,
    maxit: int = 100,
    reltol: float = 1.490116e-08,
    abstol: float = -np.inf,
    ndeps: float = 1e-3,
) -> OptimResult:
    """Minimise ``fn`` from ``x0`` as R's ``optim(x0, fn, method = "BFGS", control = ...)``."""
    steps = vmmin_steps(x0, maxit, reltol, abstol)
    request = next(steps)
    while True:
        kind, x = request
        answer = fn(x) if kind == "value" else numeric_gradient(fn, x, ndeps)
        try:
            request = steps.send(answer)
        except StopIteration as done:
            return done.value


def vmmin_many(
    values: Callable[[np.ndarray, np.ndarray], np.ndarray],
    gradients: Callable[[np.ndarray, np.ndarray], np.ndarray],
    starts: np.ndarray,
    maxit: int = 100,
    reltol: float = 1.490116e-08,
    abstol: float = -np.inf,
) -> list[OptimResult]:
    """``vmmin`` on many problems at once, problem i from ``starts[i]``: each round, every
    unfinished fit asks for one value or one gradient, and ``values(problems, points)`` and
    ``gradients(problems, points)`` answer all of them in one call each (the problems' indices
    and one point per row; R's central differences for the gradients). Each fit takes exactly
    the steps it would alone; the batching only spreads numpy's per-call cost over the fits."""
    fits = [vmmin_steps(start, maxit, reltol, abstol) for start in starts]
    requests: dict[int, tuple[str, np.ndarray]] = {i: next(fit) for i, fit in enumerate(fits)}
    results: list[OptimResult | None] = [None] * len(fits)
    while requests:
        answers: dict[int, Any] = {}
        for kind, evaluate in (("value", values), ("gradient", gradients)):
            asking = [i for i, (k, _) in requests.items() if k == kind]
            if asking:
                batch = evaluate(np.array(asking), np.array([requests[i][1] for i in asking]))
                answers.update(zip(asking, batch, strict=True))
        for i, answer in answers.items():
            try:
                requests[i] = fits[i].send(float(answer) if requests[i][0] == "value" else answer)
            except StopIteration as done:
                results[i] = done.value
                del requests[i]
    return [r for r in results if r is not None]
