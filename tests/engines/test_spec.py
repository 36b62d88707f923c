"""A model's label: every layer's width as the lectures write it, and a deep stack short."""

from __future__ import annotations

from mlplab.engines.spec import ModelSpec


def test_a_label_writes_each_width_and_a_long_run_of_equal_ones_as_a_count():
    """A 20,000-layer model's start and end lines were 80 KB each, one width per layer."""
    assert ModelSpec(2, 1, 1, 2, "sigmoid").label() == "mlp 2-2-1 sigmoid"  # the lecture's
    assert ModelSpec(2, 1, 8, 100, "relu").label() == "mlp 2-" + "100-" * 8 + "1 relu"
    assert ModelSpec(2, 1, 20000, 100, "relu").label() == "mlp 2-100x20000-1 relu"
    # The input and output widths stay apart from the hidden ones they equal.
    assert ModelSpec(100, 100, 9, 100, "tanh", use_bn=True).label() == "mlp 100-100x9-100 tanh bn"
    spec = ModelSpec(3, 2, 14, 0, "relu", hid_dims=(64, *[32] * 12, 16))
    assert spec.label() == "mlp 3-64-32x12-16-2 relu"
    assert ModelSpec(3, 1, 0, 8, "relu").label() == "linear"
