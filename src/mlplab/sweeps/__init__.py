"""Sweeps: a grid or random sample of configs, each trained as a normal run.

- :mod:`mlplab.sweeps.grid`: flags -> validated configs, and configs -> groups;
- :mod:`mlplab.sweeps.local`: groups -> worker processes on this machine;
- :mod:`mlplab.sweeps.api`: :func:`sweep` and the ``mlplab sweep`` command.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SweepResult", "sweep", "train_group"]


def __getattr__(name: str) -> Any:
    # Late imports: `import mlplab.sweeps` stays light for the CLI and spawned workers.
    if name in ("sweep", "SweepResult"):
        from mlplab.sweeps import api

        return getattr(api, name)
    if name == "train_group":
        from mlplab.sweeps.local import train_group

        return train_group
    raise AttributeError(f"module 'mlplab.sweeps' has no attribute {name!r}")
