"""Fixtures shared by the sweep tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest


@pytest.fixture
def stacked_steps_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NumPy step of a stack of several models raises, one of a single model trains: a
    stack that fails on its own, whose runs the sweep trains again one by one."""
    from mlplab.engines.numpy.backend import NumpyBackend

    step = NumpyBackend.train_step

    def stacked_fails(self: NumpyBackend, idx: Any) -> np.ndarray:
        losses = step(self, idx)
        if len(losses) > 1:
            raise FloatingPointError("a stacked step failed")
        return losses

    monkeypatch.setattr(NumpyBackend, "train_step", stacked_fails)
