"""Child processes that end with their parent: every pool and subprocess of a build or a fit."""

from __future__ import annotations

import os
import signal
import sys


def die_with_parent(parent: int | None = None) -> None:
    """In a child process (dbt before its exec; an ingest, twin-writing or estimator worker when it
    starts): be killed when its parent dies (Linux's PR_SET_PDEATHSIG; elsewhere nothing). A forked
    worker holds the build's descriptors, its lock among them: a killed build's worker living on
    would keep the warehouse locked (and wait forever on its queue), and a dbt writing on would
    write into its copy, and an estimator's worker would compute on, holding a core. ``parent``: the parent's pid, for a child that starts after its parent
    may already have died."""
    if sys.platform != "linux":
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if parent is not None and os.getppid() != parent:  # died before the request was made
        os.kill(os.getpid(), signal.SIGKILL)
