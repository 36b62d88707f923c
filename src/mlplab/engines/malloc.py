"""Keep glibc's malloc from returning training buffers to the OS after every step.

A lab-sized step allocates many temporaries of about 1 MB (for example a 1600 x 200
float32 activation). That is above glibc's default mmap threshold (128 KiB), so every
allocation is a fresh ``mmap`` whose pages the kernel must fault in and zero, and every
free is a ``munmap``. glibc raises the threshold by itself only after some frees, so a
run can spend most of its time in page faults. Measured on the sinlog lab (1000
full-batch epochs, NumPy engine): 4.5 s before, 0.7-1.0 s after; the torch engine gains
too (1.5 s to 1.1 s). See BENCHMARKS.md.

The setting is process-wide and only changes where memory comes from, never results.
It is applied once, on Linux with glibc; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 64 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024

_done = False


def keep_training_memory() -> None:
    """Raise glibc's mmap and trim thresholds once per process (no-op elsewhere)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): leave malloc as it is
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
