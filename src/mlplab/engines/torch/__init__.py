"""The PyTorch engine over a leading model axis K, on CPU or CUDA.

``model`` (the stacked ``nn.Module``, and one model as a plain one), ``optim`` (each
optimizer's formula once, over K), ``backend`` (the :class:`Backend` the loop drives).
"""

import os as _os


def _one_thread_after_fork() -> None:
    """Torch on one thread in a forked child (a ``multiprocessing`` pool's worker, where
    Linux forks by default). Torch's OpenMP pool does not survive a fork: once the parent
    had trained here, the child's first parallel step waited for threads that are gone,
    for ever. One thread never asks the pool for any."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


_os.register_at_fork(after_in_child=_one_thread_after_fork)
