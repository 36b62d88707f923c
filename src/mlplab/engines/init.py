"""The one weight initialization that both engines share.

Weights are drawn with NumPy from an explicit ``numpy.random.Generator`` and then loaded
into either engine, so the same seed gives the same initial weights in NumPy and in
PyTorch, and runs can be compared step by step.

Schemes (``init`` setting), for a Linear layer with ``fan_in`` inputs and ``fan_out`` outputs:

- ``default``: PyTorch's ``nn.Linear`` default, weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in));
- ``xavier``: weight ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)); bias 0 (the lectures' xavier labs);
- ``kaiming``: weight ~ N(0, 2 / fan_in) (He init for ReLU); bias 0;
- ``normal``: weight ~ N(0, 1), bias ~ N(0, 1) (``torch.randn`` as in the lab-09 "normal init").

Batch norm starts at weight 1, bias 0, running mean 0 and running variance 1, as in PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlplab.engines.spec import ModelSpec

INITS = ("default", "xavier", "kaiming", "normal")


@dataclass(frozen=True)
class RunStreams:
    """A run's independent random streams, all spawned from one ``SeedSequence(seed)``.

    ``weights`` draws the initial weights, ``order`` shuffles the minibatches, and
    ``dropout`` seeds the engine's dropout masks. Spawned children never overlap, so the
    masks never reuse the bits that drew the weights. A model gets the same three streams
    whether it trains alone or as one row of a stack.
    """

    weights: np.random.Generator
    order: np.random.Generator
    dropout: np.random.SeedSequence


def run_streams(seed: int) -> RunStreams:
    """The three streams of a run with this ``seed``: children 0, 1, 2 of its SeedSequence."""
    weights, order, dropout = np.random.SeedSequence(seed).spawn(3)
    return RunStreams(np.random.default_rng(weights), np.random.default_rng(order), dropout)


def init_linear(
    fan_in: int, fan_out: int, scheme: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(weight [fan_out, fan_in], bias [fan_out])`` in float64."""
    if scheme == "default":
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, size=(fan_out, fan_in))
        b = rng.uniform(-bound, bound, size=(fan_out,))
    elif scheme == "xavier":
        a = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-a, a, size=(fan_out, fan_in))
        b = np.zeros(fan_out)
    elif scheme == "kaiming":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        b = np.zeros(fan_out)
    elif scheme == "normal":
        w = rng.standard_normal(size=(fan_out, fan_in))
        b = rng.standard_normal(size=(fan_out,))
    else:  # validated in Config; kept for direct library callers
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {scheme!r}")
    return w, b


def init_state(
    spec: ModelSpec, scheme: str, seed: int | np.random.Generator, dtype: str = "float32"
) -> dict[str, np.ndarray]:
    """All parameters and buffers of ``spec``, by state_dict name.

    Parameters
    ----------
    spec : ModelSpec
    scheme : {'default', 'xavier', 'kaiming', 'normal'}
    seed : int or numpy.random.Generator
        An int seeds a fresh ``Generator(PCG64(seed))``; layers draw in order, input to output.
    dtype : {'float32', 'float64'}
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    w = spec.widths()
    state: dict[str, np.ndarray] = {}
    for i in range(spec.n_layer):
        weight, bias = init_linear(w[i], w[i + 1], scheme, rng)
        state[f"hidden.{i}.linear.weight"] = weight
        state[f"hidden.{i}.linear.bias"] = bias
        if spec.use_bn:
            state[f"hidden.{i}.bn.weight"] = np.ones(w[i + 1])
            state[f"hidden.{i}.bn.bias"] = np.zeros(w[i + 1])
            state[f"hidden.{i}.bn.running_mean"] = np.zeros(w[i + 1])
            state[f"hidden.{i}.bn.running_var"] = np.ones(w[i + 1])
    weight, bias = init_linear(w[-2], w[-1], scheme, rng)
    state["out.weight"] = weight
    state["out.bias"] = bias
    return {k: v.astype(dtype) for k, v in state.items()}
