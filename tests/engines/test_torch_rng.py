"""The torch engine's dropout has its own random stream: the caller's torch RNG is untouched."""

from __future__ import annotations

import torch

from mlplab.runner import train

DROPOUT = dict(
    data="moons", n_samples=200, n_layer=2, hid_dim=16, act="relu", dp_rate=0.3, optim="adam",
    lr=0.01, epoch=5, batch_size=32, engine="torch", seed=3, log_every=0, verbose=False,
    record=False,
)  # fmt: skip


def test_a_torch_run_leaves_the_callers_torch_rng_as_it_was() -> None:
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    train(**DROPOUT)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    train(**DROPOUT)
    assert torch.equal(torch.rand(3), expected)  # the user's next draws are their own


def test_dropout_runs_repeat_whatever_the_caller_drew_before() -> None:
    torch.manual_seed(0)
    first = train(**DROPOUT).record
    torch.rand(1000)  # draws by the caller between runs change nothing
    second = train(**DROPOUT).record
    assert first["train_losses"] == second["train_losses"]
    assert first["test_loss"] == second["test_loss"]
