"""Child processes: ended with their parent (every pool and subprocess of a build or a fit), and
set up for the work they repeat (an ingest reader keeps the memory it frees)."""

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


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> None:
    """In a worker that allocates and frees the same large buffers over and over (an ingest reader,
    one XPT file after another): let glibc keep freed memory for the next allocation instead of
    giving it back to the kernel, which then faults every page in again. Blocks up to 32 MB (glibc's
    ceiling) come from the heap and the heap is not trimmed below 2 GB. Reading four 100x-twin
    files (1.5 GB of XPT) took 0.5-0.7 s of system time this way instead of 1.6-1.7 s, and 5.3-6.0 s
    instead of 6.4-6.5 s in all, at the same peak memory. Elsewhere than glibc: nothing."""
    import platform

    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return
    import ctypes

    libc = ctypes.CDLL(None)
    libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
