"""Worker processes that end with the process that started them.

A worker (a sweep's pool worker) must not outlive its parent: killed
outright (SIGKILL, the OOM killer), the parent cannot stop it, and a sweep worker left
running would go on writing run records that a new sweep is about to write too. On
Linux the kernel sends the worker a signal when its parent dies (``PR_SET_PDEATHSIG``);
elsewhere workers notice only when they next use a pipe to the parent.
"""

from __future__ import annotations

import os
import sys

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(signum: int, parent_pid: int) -> bool:
    """Have the kernel send ``signum`` to this process when ``parent_pid`` (our parent) dies.

    Returns False when the parent is already gone (it died before the request took
    effect): the caller should then stop at once. Without ``prctl`` (not Linux) this
    does nothing and returns True.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    return os.getppid() == parent_pid
