"""The architecture of an mlplab model, independent of the engine that trains it.

A hidden block is ``Linear -> act -> [BatchNorm1d] -> [Dropout]`` (the order of the
lectures' regularization lab). With ``sc_type: residual`` a block whose input and output
widths match adds its input back: ``h = h + block(h)``. The output layer is a plain
``Linear``; the model returns logits (binary, multiclass) or values (regression), and the
loss applies sigmoid/softmax itself, which is the numerically stable form of the labs'
``sigmoid`` + ``BCELoss``.

Parameter names and shapes follow PyTorch's ``state_dict`` of
:class:`mlplab.engines.torch.model.MLP` (weights ``[out, in]``), so NumPy state and torch
state convert by name with no reshaping.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

Task = Literal["binary", "multiclass", "regression"]
LOSS_OF_TASK: dict[str, str] = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}


# Equal widths in a row past this many are written width x count in a model's label.
RUN_SHOWN = 8
# Activations one predict call holds per layer at most: 256 MB of float32.
PREDICT_VALUES = 1 << 26
# Activations one model's evaluation (test_batch_size 0) holds per layer at most: 4 MB of
# float32. Per model, not per stack, so that a model is sliced alike in a stack and alone
# (its numbers stay bit for bit its own); a stack of 64 on 200,000 rows took 6.8 GB at its
# end, where its training took 0.6.
EVAL_VALUES = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """Shapes and layer choices of one model.

    Attributes
    ----------
    in_dim, out_dim : int
        Features in, outputs out (1 for binary, C for C classes, T for T targets).
    n_layer : int
        Hidden layers; 0 is the linear model (perceptron).
    hid_dim : int
        Units per hidden layer.
    hid_dims : tuple of int, optional
        A width per hidden layer (``n_layer`` of them); replaces ``hid_dim``.
    act : str
        Hidden activation, one of ``mlplab.config.ACTIVATIONS``.
    use_bn, dp_rate, sc_type
        Batch norm, dropout rate in [0, 1), and ``none`` | ``residual``.
    task : str
        ``binary`` | ``multiclass`` | ``regression``; picks the loss.
    """

    in_dim: int
    out_dim: int
    n_layer: int
    hid_dim: int
    act: str
    use_bn: bool = False
    dp_rate: float = 0.0
    sc_type: str = "none"
    task: Task = "regression"
    hid_dims: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.hid_dims is not None:
            # From JSON (a checkpoint) it arrives as a list; a tuple keeps the spec hashable.
            object.__setattr__(self, "hid_dims", tuple(int(w) for w in self.hid_dims))
            if len(self.hid_dims) != self.n_layer:
                raise ValueError(f"hid_dims {self.hid_dims} has not n_layer={self.n_layer} widths")

    @property
    def loss(self) -> str:
        return LOSS_OF_TASK[self.task]

    def widths(self) -> list[int]:
        """Layer widths from input to output, e.g. [2, 2, 1] for xor-nn."""
        hidden = list(self.hid_dims) if self.hid_dims is not None else [self.hid_dim] * self.n_layer
        return [self.in_dim, *hidden, self.out_dim]

    def label(self) -> str:
        """The model's name as the lectures write it, every layer's width from input to
        output: ``mlp 2-2-1 sigmoid``, ``mlp 2-200-1 relu bn dp 0.2 residual``, or
        ``linear``. Batch norm, dropout and skip connections follow: two models of a sweep
        may differ only in these."""
        if self.n_layer == 0:
            return "linear"
        extras = [
            "bn" if self.use_bn else "",
            f"dp {self.dp_rate:g}" if self.dp_rate else "",
            self.sc_type if self.sc_type != "none" else "",
        ]
        # A run of more than RUN_SHOWN equal widths as width x count (2-100x20000-1): a
        # 20,000-layer model's every width made its start and end lines 80 KB each.
        widths = self.widths()
        hidden = [
            f"{w}x{n}" if n > RUN_SHOWN else "-".join([str(w)] * n)
            for w, n in ((w, len(list(g))) for w, g in itertools.groupby(widths[1:-1]))
        ]
        layers = "-".join([str(widths[0]), *hidden, str(widths[-1])])
        return " ".join(["mlp", layers, self.act, *filter(None, extras)])

    def predict_rows(self, n: int, k: int = 1) -> int:
        """Rows per slice of a predict call over ``n`` rows for ``k`` models: 0 (all at
        once) unless the widest layer's activations would pass :data:`PREDICT_VALUES`.

        A plot's grid of 65,536 points through a layer of 10**8 units asked for 100 GB at
        once; the slices bound it. Where a call fits, it stays one call: float32 sums in
        an order set by the batch's shape, so slicing it would move the last bits.
        """
        return self._slice_rows(n, PREDICT_VALUES // k)

    def eval_rows(self, n: int) -> int:
        """Rows per slice of an evaluation over ``n`` rows asked all at once
        (``test_batch_size`` 0): 0 (one pass) unless one model's widest layer would pass
        :data:`EVAL_VALUES` activations. Small data, the labs' included, stays one pass."""
        return self._slice_rows(n, EVAL_VALUES)

    def _slice_rows(self, n: int, values: int) -> int:
        """Rows whose widest layer holds at most ``values`` activations; 0 where ``n`` fit."""
        rows = values // max(1, max(self.widths()))
        return 0 if rows >= n else max(1, rows)

    def is_residual(self, i: int) -> bool:
        """Whether hidden block ``i`` adds its input (only where widths match)."""
        w = self.widths()
        return self.sc_type == "residual" and w[i] == w[i + 1]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Trainable parameters and buffers, by state_dict name."""
        w = self.widths()
        shapes: dict[str, tuple[int, ...]] = {}
        for i in range(self.n_layer):
            shapes[f"hidden.{i}.linear.weight"] = (w[i + 1], w[i])
            shapes[f"hidden.{i}.linear.bias"] = (w[i + 1],)
            if self.use_bn:
                shapes[f"hidden.{i}.bn.weight"] = (w[i + 1],)
                shapes[f"hidden.{i}.bn.bias"] = (w[i + 1],)
        shapes["out.weight"] = (w[-1], w[-2])
        shapes["out.bias"] = (w[-1],)
        return shapes

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        """Non-trainable state (batch-norm running statistics)."""
        shapes: dict[str, tuple[int, ...]] = {}
        w = self.widths()
        if self.use_bn:
            for i in range(self.n_layer):
                shapes[f"hidden.{i}.bn.running_mean"] = (w[i + 1],)
                shapes[f"hidden.{i}.bn.running_var"] = (w[i + 1],)
        return shapes

    def n_params(self) -> int:
        total = 0
        for s in self.param_shapes().values():
            n = 1
            for d in s:
                n *= d
            total += n
        return total

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["hid_dims"] is None:
            del d["hid_dims"]  # as specs were written before hid_dims existed
        else:
            d["hid_dims"] = list(d["hid_dims"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        return cls(**d)
