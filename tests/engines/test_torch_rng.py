"""The torch engine's dropout has its own random streams: the caller's torch RNG is untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.engines.backend import ModelInit, OptimSpec
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.spec import ModelSpec
from mlplab.engines.torch.backend import TorchBackend

SPEC = ModelSpec(
    in_dim=2, out_dim=1, n_layer=2, hid_dim=16, act="relu", use_bn=True, dp_rate=0.3, task="binary"
)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _train(device: str, seeds: tuple[int, ...] = (3, 4)) -> np.ndarray:
    """Build a stack with dropout, train it, and use every other engine call; the losses."""
    models = []
    for seed in seeds:
        streams = run_streams(seed)
        weights = init_state(SPEC, "default", streams.weights)
        models.append(
            ModelInit(weights, OptimSpec("adam", 0.01), dp_rate=0.3, dropout=streams.dropout)
        )
    b = TorchBackend(SPEC, models, device=device)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)
    b.set_data({"train": (X, y), "val": (X, y)})
    losses = [b.train_step(np.stack([rng.permutation(64)[:16] for _ in seeds])) for _ in range(5)]
    losses.append(b.train_step(None))
    b.evaluate("val", batch_size=10)
    b.predict(X)
    b.load(0, b.export(1))
    b.model.to_module(0)
    b.keep(np.array([1]))
    losses.append(b.train_step(None))
    return np.concatenate(losses)


@pytest.mark.parametrize("device", DEVICES)
def test_a_torch_run_leaves_the_callers_torch_rng_as_it_was(device: str) -> None:
    torch.manual_seed(1234)
    expected = torch.rand(3)
    expected_cuda = torch.rand(3, device=device) if device == "cuda" else None
    torch.manual_seed(1234)
    _train(device)
    assert torch.equal(torch.rand(3), expected)  # the user's next draws are their own
    if expected_cuda is not None:
        assert torch.equal(torch.rand(3, device=device), expected_cuda)


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_runs_repeat_whatever_the_caller_drew_before(device: str) -> None:
    torch.manual_seed(0)
    first = _train(device)
    torch.rand(1000)  # draws by the caller between runs change nothing
    if device == "cuda":
        torch.rand(1000, device=device)
    np.testing.assert_array_equal(_train(device), first)
    assert not np.array_equal(_train(device, seeds=(5, 6)), first)  # other seeds, other masks
