"""`init: torch`: the weights PyTorch's default nn.Linear init draws after torch.manual_seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.engines.init import init_state
from mlplab.engines.spec import ModelSpec


def test_xor_nn_weights_are_the_labs():
    spec = ModelSpec(in_dim=2, out_dim=1, n_layer=1, hid_dim=2, act="sigmoid", task="binary")
    torch.manual_seed(777)  # the lab: linear1 = nn.Linear(2, 2); linear2 = nn.Linear(2, 1)
    linear1, linear2 = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    state = init_state(spec, "torch", 777)
    assert set(state) == set(spec.param_shapes())
    np.testing.assert_array_equal(state["hidden.0.linear.weight"], linear1.weight.detach().numpy())
    np.testing.assert_array_equal(state["hidden.0.linear.bias"], linear1.bias.detach().numpy())
    np.testing.assert_array_equal(state["out.weight"], linear2.weight.detach().numpy())
    np.testing.assert_array_equal(state["out.bias"], linear2.bias.detach().numpy())


def test_leaves_the_callers_torch_generator_untouched():
    spec = ModelSpec(in_dim=3, out_dim=2, n_layer=2, hid_dim=5, act="relu", task="multiclass")
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    init_state(spec, "torch", 123)
    assert torch.equal(torch.rand(3), expected)


def test_batch_norm_starts_at_torchs_defaults_and_dtype_is_honoured():
    spec = ModelSpec(in_dim=4, out_dim=1, n_layer=2, hid_dim=3, act="relu", use_bn=True)
    state = init_state(spec, "torch", 0, dtype="float64")
    assert set(state) == set(spec.param_shapes()) | set(spec.buffer_shapes())
    assert all(v.dtype == np.float64 for v in state.values())
    for i in range(2):
        np.testing.assert_array_equal(state[f"hidden.{i}.bn.weight"], np.ones(3))
        np.testing.assert_array_equal(state[f"hidden.{i}.bn.bias"], np.zeros(3))
        np.testing.assert_array_equal(state[f"hidden.{i}.bn.running_mean"], np.zeros(3))
        np.testing.assert_array_equal(state[f"hidden.{i}.bn.running_var"], np.ones(3))
    # BatchNorm draws nothing: the Linear weights are those of the model without it.
    plain = init_state(ModelSpec(4, 1, 2, 3, "relu"), "torch", 0, dtype="float64")
    for k, v in plain.items():
        np.testing.assert_array_equal(state[k], v)


def test_needs_an_integer_seed():
    spec = ModelSpec(in_dim=2, out_dim=1, n_layer=1, hid_dim=2, act="sigmoid")
    with pytest.raises(ValueError, match="integer seed"):
        init_state(spec, "torch", np.random.default_rng(0))
