"""The chain rule, step by step: every quantity of one training step, checked by autograd.

:func:`backprop` takes a config (the one ``mlplab train`` takes), builds its NumPy engine
with the config's real initial weights and data, and runs one training step through the
engine's own layers (:mod:`mlplab.engines.numpy.layers`), one layer call at a time. It
records every quantity on the way, with the lectures' names::

    forward                       backward (d_x is dcost/dx)
    l1 = X @ w1 + b1              d_Y_pred, d_l2 = d_Y_pred * Y_pred * (1 - Y_pred)
    a1 = sigmoid(l1)              d_w2 = a1.T @ d_l2,  d_b2 = sum(d_l2, axis=0)
    l2 = a1 @ w2 + b2             d_a1 = d_l2 @ w2.T
    Y_pred = sigmoid(l2)          d_l1 = d_a1 * a1 * (1 - a1)
    cost                          d_w1 = X.T @ d_l1,   d_b1 = sum(d_l1, axis=0)

then the optimizer's update (``new_w1 = w1 - lr * d_w1`` for plain SGD). Deeper nets
continue the numbering (``l3, a3``); batch norm adds ``a1_hat, bn1`` with ``gamma1, beta1``,
dropout adds the engine's own mask ``mask1`` and ``dp1``, a residual block ``r1``.

Weights are shown in the lecture's orientation, ``w [in, out]`` so that ``l = X @ w + b``;
mlplab stores ``[out, in]`` as ``torch.nn.Linear`` does (``hidden.0.linear.weight`` is
``w1.T``). Every ``d_`` quantity is the derivative of the cost that mlplab trains, the
*mean* over the batch's rows, which is what autograd computes: the lecture's manual
backprop (``examples/xor_backprop.py``) drops the ``1 / N`` of the mean, so its deltas and
weight gradients are ``N`` times these, and its bias step uses the mean of the deltas,
which equals ``d_b`` here.

``form="lecture"`` (``--form lecture``) shows the slide's own backward pass instead, for
a sigmoid output with bce loss trained by plain SGD (any depth and activation; no batch
norm, dropout, residual, momentum or L2)::

    d_Y_pred = (Y_pred - Y) / (Y_pred * (1 - Y_pred) + 1e-7)
    d_l2 = d_Y_pred * sigmoid_prime(l2),  d_b2 = d_l2 (one row per example),  d_w2 = a1.T @ d_b2
    d_a1 = d_b2 @ w2.T, ...               new_w = w - lr * d_w,  new_b = b - lr * mean(d_b, axis=0)

computed by those NumPy lines from the engine's forward values (the engine itself computes
the mean's). They are the derivatives of ``sum(r * bce)`` over the rows, with
``r = s / (s + 1e-7)``, ``s = Y_pred * (1 - Y_pred)`` held constant: ``N`` times the mean
cost's up to the slide's 1e-7 (``r`` is ``1 - 4e-7`` at ``Y_pred = 0.5``), and autograd
checks them as that, exactly, with the same tolerances.

Every quantity is compared with PyTorch autograd in float64 on the same weights, batch and
dropout mask (``retain_grad`` on each intermediate tensor); each line shows the largest
absolute difference, and :attr:`Trace.passed` says whether all are within tolerance.

Used as ``mlplab backprop`` and as ``mlplab.backprop(config)``. The module is not called
``backprop``: a submodule of that name would replace the function ``mlplab.backprop`` as
soon as it is imported.
"""

from __future__ import annotations

import dataclasses
import html
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from mlplab.assemble import (
    as_config,
    cast_splits,
    load_data,
    lr_schedule_of,
    model_init,
    model_spec,
    optim_of,
    schedule_of,
)
from mlplab.config import Config
from mlplab.console import lab_cost
from mlplab.data.cost import human_bytes, memory_budget
from mlplab.data.dataset import Dataset
from mlplab.engines.backend import OptimSpec
from mlplab.engines.choose import resolve_engine
from mlplab.engines.init import init_state, run_streams
from mlplab.engines.numpy.backend import NumpyBackend
from mlplab.engines.numpy.model import unstack
from mlplab.engines.spec import ModelSpec
from mlplab.errors import (
    RUN_FOLDER,
    CheckpointError,
    ConfigError,
    check_path_argument,
    public,
    short_repr,
    user_path,
)
from mlplab.restore import (
    check_run_dir,
    record_config,
    restore_model,
    restore_stack,
    resume_data,
)
from mlplab.runs.record import run_folder_around
from mlplab.training.loop import Schedule, batch_bounds, fit, lrs_at
from mlplab.training.state import StackState

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Array = np.ndarray

# Allowed max |ours - autograd| <= rtol * max |reference| + atol, per quantity: the engine
# computes in its dtype, the reference in float64. float32 rounding (~6e-8) is amplified
# where the model is ill-conditioned (batch norm over a nearly constant column divides by a
# tiny std): 2e-4 has been seen after a few RMSprop steps, so float32 allows 1e-3, still far
# below the O(1) error of a wrong formula; float64 is the tight check. atol only matters for
# quantities that are zero up to rounding.
TOLERANCE = {"float32": (1e-3, 1e-7), "float64": (1e-8, 1e-12)}
FORMS = ("mean", "lecture")  # whose derivatives the backward pass shows (see the docstring)
SLIDE_EPS = 1e-7  # the lecture's d_Y_pred adds it to the denominator
THRESHOLD = 24  # values with more elements are elided, as numpy prints them
PRECISION = 6  # decimals of the values shown, in the text and in Jupyter's table alike
BN_EPS = 1e-5  # torch.nn.BatchNorm1d's eps, as the engine's layer
# The diagram labels each edge with its w and d only between layers with at most this many
# edges: 4 x 4 labels piled up unreadably in the gap (the printout has every value).
MAX_LABELLED_EDGES = 4
# Their size in points: 6.5 was too small to read from the back of a lecture hall.
LABEL_SIZE = 8.5

# d a / d l of each activation, as the trace writes it (n is the layer's number). Each is
# written after `d_l{n} = d_a{n} * `, so a sum stands in parentheses.
ACT_PRIME = {
    "sigmoid": "a{n} * (1 - a{n})",
    "tanh": "(1 - a{n} ** 2)",
    "relu": "(l{n} > 0)",
    "leaky_relu": "where(l{n} > 0, 1, 0.01)",
    "elu": "where(l{n} > 0, 1, exp(l{n}))",
    "selu": "1.0507 * where(l{n} > 0, 1, 1.6733 * exp(l{n}))",
    "gelu": "(Phi(l{n}) + l{n} * phi(l{n}))",
    "silu": "sigmoid(l{n}) * (1 + l{n} * (1 - sigmoid(l{n})))",
    "softplus": "sigmoid(l{n})",
    "mish": "(tanh(softplus(l{n})) + l{n} * sigmoid(l{n}) * (1 - tanh(softplus(l{n})) ** 2))",
    "identity": "1",
}

OUTPUT = {  # task: (Y_pred, cost, d_Y_pred, d_lL) formulas, L the output layer's number
    "binary": (
        "sigmoid(l{L})",
        "-mean(Y * log(Y_pred) + (1 - Y) * log(1 - Y_pred))",
        "(Y_pred - Y) / (Y_pred * (1 - Y_pred)) / N",
        "d_Y_pred * Y_pred * (1 - Y_pred)   (= (Y_pred - Y) / N)",
    ),
    "multiclass": (
        "softmax(l{L}, axis=1)",
        "-mean(log(Y_pred[row, Y]))",
        "-onehot(Y) / Y_pred / N",
        "Y_pred * (d_Y_pred - sum(d_Y_pred * Y_pred, axis=1))   (= (Y_pred - onehot(Y)) / N)",
    ),
    "regression": (
        "l{L}",
        "mean((Y_pred - Y) ** 2)",
        "2 * (Y_pred - Y) / Y_pred.size",
        "d_Y_pred",
    ),
}


@dataclass
class Quantity:
    """One named array of the step: its formula, the engine's value and autograd's.

    ``reference`` is autograd's value (float64), or ``None`` for what has none (the data,
    the weights before the step, the dropout mask the engine drew). ``note`` says why a
    line is not checked where it is not; ``aside`` adds to a checked line.
    """

    name: str
    formula: str
    value: Array
    reference: Array | None = None
    phase: str = "forward"  # input | forward | backward | update
    note: str = ""
    aside: str = ""
    scale: float = 0.0  # for sums over rows: the size of the terms (see _sum_scales)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def max_diff(self) -> float | None:
        """``max |value - reference|``; ``None`` when there is no reference."""
        if self.reference is None or self.note:
            return None
        diff = np.abs(np.asarray(self.value, np.float64) - self.reference)
        return float(diff.max()) if diff.size else 0.0

    def passed(self, rtol: float, atol: float = 0.0) -> bool:
        """``max_diff <= rtol * max(max |reference|, scale) + atol`` (see TOLERANCE)."""
        d = self.max_diff
        if d is None:
            return True
        return bool(np.isfinite(d) and d <= rtol * self.size() + atol)

    def size(self) -> float:
        """What the tolerance is relative to: ``max(max |reference|, scale)``."""
        assert self.reference is not None
        biggest = float(np.abs(self.reference).max()) if self.reference.size else 0.0
        return max(biggest, self.scale)


@dataclass
class Trace:
    """Every quantity of one training step, in the order the chain rule makes them.

    ``quantities`` are in order (``trace["d_w1"]`` finds one by name); ``step`` is the
    0-based optimizer step shown, ``tolerance`` the relative tolerance of the checks.
    ``weights``/``grads``/``updated`` are the model's parameters by state name before the
    step, the step the update takes and the parameters after it (mlplab's ``[out, in]``
    orientation). ``grads`` is the gradients in the mean form; in the lecture form it is
    the slide's summed ``d_w`` for a weight but ``mean(d_b, axis=0)`` for a bias, no
    gradient of one cost. To check a hand calculation by the printout's names and
    orientation (``w1 [in, out]``), compare with ``trace["d_w1"].value`` and autograd's
    ``trace["d_w1"].reference``.
    """

    quantities: list[Quantity]
    step: int
    epoch: int
    batch: tuple[int, int]  # (0-based batch of the epoch, batches per epoch)
    title: str
    tolerance: tuple[float, float]  # (rtol, atol), see TOLERANCE
    spec: ModelSpec
    weights: dict[str, Array] = field(default_factory=dict)
    grads: dict[str, Array] = field(default_factory=dict)
    updated: dict[str, Array] = field(default_factory=dict)
    feature_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    form: str = "mean"  # see FORMS

    def __getitem__(self, name: str) -> Quantity:
        for q in self.quantities:
            if q.name == name:
                return q
        raise KeyError(f"no quantity {name!r}; the trace has {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [q.name for q in self.quantities]

    @property
    def failed(self) -> list[Quantity]:
        return [q for q in self.quantities if not q.passed(*self.tolerance)]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def max_diff(self) -> float:
        return max((q.max_diff or 0.0 for q in self.quantities), default=0.0)

    def verdict(self) -> str:
        checked = [q for q in self.quantities if q.max_diff is not None]
        if self.passed:
            return (
                f"verdict: ok, all {len(checked)} checked quantities equal torch autograd "
                f"(largest difference {self.max_diff:.2e}; tolerance {self.tolerance[0]:g} "
                f"relative + {self.tolerance[1]:g})"
            )
        bad = ", ".join(q.name for q in self.failed)
        return f"verdict: FAILED, {len(self.failed)} of {len(checked)} differ from autograd: {bad}"

    def to_text(self, threshold: int = THRESHOLD, precision: int = PRECISION) -> str:
        """The step as text: per quantity a line (name, shape, formula, check), then its value."""
        lines = [self.title, ""]
        width = max(len(q.name) for q in self.quantities)
        phase = ""
        for q in self.quantities:
            if q.phase != phase:
                phase = q.phase
                lines.append(f"--- {phase} ---")
            shape = "[" + ", ".join(map(str, q.shape)) + "]"
            check = _check_text(q, self.tolerance)
            lines.append(f"{q.name:<{width}}  {shape:<9} {q.formula}{check}")
            body = format_value(q.value, threshold, precision)
            lines += [" " * (width + 2) + row for row in body.splitlines()]
        lines += ["", self.verdict()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """One line, as Result's: the dataclass's own printed every array (46,000
        characters for the digits) in a plain REPL; ``print(trace)`` shows them all."""
        return (
            f"<Trace {self.title.splitlines()[0] if self.title else ''}: "
            f"{len(self.quantities)} quantities, {self.verdict().removeprefix('verdict: ')}>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's table: the text's sections (forward, backward, update) as header rows,
        and every value with the text's precision (4 decimals had left d_b1 one digit)."""
        rows, phase = [], ""
        for q in self.quantities:
            if q.phase != phase:
                phase = q.phase
                rows.append(
                    f"<tr><th colspan='5' style='text-align:left'>--- {html.escape(phase)} ---"
                    "</th></tr>"
                )
            cells = (q.name, str(list(q.shape)), q.formula, _check_text(q, self.tolerance).strip())
            name, shape, formula, check = (html.escape(c) for c in cells)
            value = html.escape(format_value(q.value, THRESHOLD, PRECISION))
            rows.append(
                f"<tr><td><b>{name}</b></td><td>{shape}</td><td><code>{formula}</code></td>"
                f"<td>{check}</td><td><pre style='margin:0'>{value}</pre></td></tr>"
            )
        return (
            f"<p>{html.escape(self.title)}</p><table><tr><th>name</th><th>shape</th>"
            "<th>formula</th><th>vs autograd</th><th>value</th></tr>"
            + "".join(rows)
            + f"</table><p>{html.escape(self.verdict())}</p>"
        )

    @overload
    def plot(self, path: None = None) -> Picture: ...

    @overload
    def plot(self, path: str | Path) -> Path: ...

    def plot(self, path: str | Path | None = None) -> Path | Picture:
        """Draw the network annotated with each weight's value and gradient.

        With ``path``, write the picture there and return the path; without, return it as
        a :class:`Picture`, which Jupyter shows inline (``.figure`` is matplotlib's).
        """
        picture = Picture(self.figure(), f"the network at step {self.step}")
        return picture if path is None else picture.save(path)

    def figure(self) -> Figure:
        """The network annotated with each weight's value and gradient (see :meth:`plot`)."""
        from mlplab.plots.network import layer_params, network_figure, node_positions

        _check_drawable(self.spec)
        d = "dcost/dw" if self.form == "mean" else "the slide's d_w, mean(d_b)"
        model = "mlp" if self.spec.n_layer else "linear"
        widths = "-".join(map(str, self.spec.widths()))
        label = f"step {self.step}, w: weight, d: {d}; {model} {widths}"
        params = layer_params(self.weights, self.spec)
        if any(w.size > MAX_LABELLED_EDGES for w, _ in params):
            n = len(params)
            names = ["input", *(f"hidden {i}" for i in range(1, n)), "output"]
            shown = [f"{names[i]} → {names[i + 1]}" for i, (w, _) in enumerate(params)]
            shown = [s for s, (w, _) in zip(shown, params) if w.size <= MAX_LABELLED_EDGES]
            # More than MAX_LABELLED_EDGES labels between two layers cover each other.
            many = f"more than {MAX_LABELLED_EDGES} edges join"
            if shown:
                where = f"w and d on the edges {', '.join(shown)} only: {many} the other layers"
            else:
                where = f"no edge labelled: {many} each pair of layers"
            label = f"{where} (print the trace for every w and d)\n{label}"
        fig = network_figure(
            self.weights, self.spec, self.feature_names, self.output_names, label=label
        )
        ax = fig.axes[0]
        pos = node_positions(self.spec.widths())
        grads = layer_params(self.grads, self.spec)
        for layer, ((w, b), (dw, db)) in enumerate(zip(params, grads)):
            for o in range(w.shape[0]):
                for i in range(w.shape[1] if w.size <= MAX_LABELLED_EDGES else 0):
                    # A label sits at its edge's middle, apart from its neighbours, unless
                    # the edge can cross another (both layers have several units) and is
                    # not level: then near its source, away from the crossing, where it
                    # reads as the label of its own edge.
                    start, end = pos[layer][i], pos[layer + 1][o]
                    crossing = min(w.shape) > 1 and abs(end[1] - start[1]) > 1e-9
                    xy = start + (end - start) * (0.28 if crossing else 0.5)
                    ax.text(
                        xy[0],
                        xy[1],
                        f"w {w[o, i]:.3g}\nd {dw[o, i]:.2g}",
                        fontsize=LABEL_SIZE,
                        ha="center",
                        va="center",
                        zorder=3,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
                    )
                x, y = pos[layer + 1][o]
                ax.text(
                    x,
                    y - 0.32,
                    f"b {b[o]:.3g}\nd {db[o]:.2g}",
                    fontsize=LABEL_SIZE,
                    ha="center",
                    va="top",
                    zorder=3,
                    # Edges pass beneath a node's label: the box keeps its digits readable.
                    bbox={"fc": "white", "ec": "none", "alpha": 0.75, "pad": 0.5},
                )
        return fig


PICTURE_DPI = 120


class Picture:
    """A drawn picture: Jupyter shows it inline (as PNG); ``figure`` is the matplotlib
    Figure and ``save(path)`` writes it (png, svg or pdf, by the name's suffix)."""

    def __init__(self, figure: Figure, what: str) -> None:
        self.figure = figure
        self.what = what

    def save(self, path: str | Path) -> Path:
        out = user_path(path)
        self.figure.savefig(out, dpi=PICTURE_DPI)
        return out

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=PICTURE_DPI)
        return buf.getvalue()

    def __repr__(self) -> str:
        return f"<Picture: {self.what}; .save(path) writes it, .figure is matplotlib's>"


def _check_drawable(spec: ModelSpec) -> None:
    from mlplab.plots.network import MAX_UNITS, can_draw

    if not can_draw(spec):
        widths = "-".join(map(str, spec.widths()))
        raise ConfigError(
            f"--plot: the network diagram draws models with at most "
            f"{MAX_UNITS} units per layer; this one is {widths}"
        )


def _check_text(q: Quantity, tol: tuple[float, float]) -> str:
    if q.note:
        return f"   ({q.note})"
    d = q.max_diff
    aside = f"   ({q.aside})" if q.aside else ""
    if d is None:
        return aside
    # Of values far from 1 (1e176), the difference as a share of them: "max diff 7.3e+134
    # ok" read as a wide miss passed.
    size = q.size()
    share = f" (relative {d / size:.1e})" if size > 1e3 and np.isfinite(d) else ""
    return f"   max diff {d:.1e}{share} {'ok' if q.passed(*tol) else 'FAIL'}{aside}"


def format_value(value: Array, threshold: int = THRESHOLD, precision: int = 6) -> str:
    """``value`` as numpy prints it, elided past ``threshold`` elements. A negative zero
    (``l1 * (l1 > 0)`` of a negative ``l1``, as ReLU's mask gives it) prints as 0: the
    lecture's max(x, 0) is 0 there, and ``-0.`` reads as a sign the maths does not have."""
    value = np.asarray(value)
    if value.dtype.kind == "f":
        value = value + 0.0  # IEEE: -0.0 + 0.0 is +0.0; every other value is unchanged
    if value.ndim == 0:
        return f"{float(value):.{precision + 4}g}"
    return np.array2string(
        value,
        threshold=threshold,
        edgeitems=2,
        precision=precision,
        suppress_small=False,
    )


# --- where the step is ------------------------------------------------------------------------


@dataclass
class _Start:
    """The engine and loop state just before the step to trace, and what describes it."""

    cfg: Config
    data: Dataset
    spec: ModelSpec
    backend: NumpyBackend
    state: StackState
    schedule: Schedule
    finished_at: int = 0  # a finished run's epochs: the steps traced are past its end


# Bytes a traced step takes for each number of its weights and one batch's activations:
# every quantity is kept, printed, in float64, and again by torch autograd (about 100,
# measured on digits with 2048-unit layers). A step of 100 million hidden units grew past
# 20 GB before a line was printed, and the kernel killed it without a word.
TRACED_BYTES_PER_VALUE = 100


def _check_traceable(cfg: Config, spec: ModelSpec, n_train: int) -> None:
    rows = cfg.batch_size if 0 < cfg.batch_size < n_train else n_train
    values = spec.n_params() + rows * sum(spec.widths())
    # Half of what the machine has: the estimate is rough, and the data is held besides.
    if values * TRACED_BYTES_PER_VALUE * 2 > memory_budget():
        size = "--hid_dims" if cfg.hid_dims is not None else "--hid_dim or --n_layer"
        raise ConfigError(
            f"backprop: one traced step of this model ({spec.n_params():,} parameters, "
            f"{rows:,} rows a step) would take about "
            f"{human_bytes(values * TRACED_BYTES_PER_VALUE)} of memory, more than half of "
            f"this machine's {human_bytes(memory_budget())}: give a smaller {size} or "
            "--batch_size, whose step is computed by the same code"
        )


def _fresh(cfg: Config, weights: dict[str, Array] | None) -> _Start:
    data = load_data(cfg)
    spec = model_spec(cfg, data)
    _check_traceable(cfg, spec, len(data.y_train))
    if weights is not None:
        weights = _checked_weights(weights, spec, init_state(spec, "default", 0, cfg.dtype))
    backend = NumpyBackend(spec, [model_init(cfg, spec, weights)], dtype=cfg.dtype)
    backend.set_data(cast_splits(data, cfg.dtype))
    state = StackState.fresh([run_streams(cfg.seed).order])
    return _Start(cfg, data, spec, backend, state, schedule_of(cfg))


PRINTED = "as the printout writes it"  # weights= by the printout's names: w1 [in, out]
STATE = "as torch's state_dict"  # by the model's state names: hidden.0.linear.weight [out, in]


def _checked_weights(
    weights: Any, spec: ModelSpec, like: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``backprop(weights=)`` as the model's state: every name of ``like``, of its shape.

    Taken by the printout's names (``w1`` ``[in, out]``, ``b1``; not with batch norm, whose
    running statistics have none) or by the model's state names (``hidden.0.linear.weight``
    ``[out, in]``), and refused in the names and orientation it came in: a student who
    wrote the printout's ``w1`` transposed was told of ``hidden.0.linear.weight``, and that
    she gave the shape she had not. A missing name was a KeyError from the engine.
    """
    names = _param_names(spec)  # state name -> printout name
    printed = {}
    if set(names) == set(like):
        printed = {names[k]: _lecture(names[k], v) for k, v in like.items()}
    keys = set(map(str, weights)) if isinstance(weights, dict) else set()
    if printed and keys == set(printed):
        given = _arrays(weights, printed, PRINTED)
        return {k: given[names[k]].T.reshape(v.shape) for k, v in like.items()}
    if keys == set(like) and isinstance(weights, dict):
        return _arrays(weights, like, STATE)

    def listed(shapes: dict[str, np.ndarray], how: str) -> str:
        return ", ".join(f"{k} {list(v.shape)}" for k, v in shapes.items()) + f" ({how})"

    state = listed(like, f"weights [out, in], {STATE}")
    expected = f"a dict of the model's state by name, {state}"  # batch norm: no printout names
    if printed:
        expected = (
            f"a dict by the printout's names, {listed(printed, f'weights [in, out], {PRINTED}')},"
            f" or by the model's state names, {state}"
        )
    if not isinstance(weights, dict):
        raise ConfigError(f"backprop: weights= is {expected}; given {short_repr(weights)}")
    # What is amiss, against the set of names the dict shares most with (the printout's on
    # a tie: W1 for w1 is a student's slip).
    sets = [set(printed), set(like)] if printed else [set(like)]
    near = max(sets, key=lambda names_: len(keys & names_))
    amiss = [f"{', '.join(sorted(near - keys))} missing"] if near - keys else []
    unknown = keys - set().union(*sets)
    if not printed and (bn := sorted(unknown & set(names.values()))):
        unknown -= set(bn)
        amiss.append(f"{', '.join(bn)}: the printout's names, not taken with batch norm")
    if unknown:
        amiss.append(f"{', '.join(sorted(unknown))} unknown")
    if mixed := sorted((keys & set().union(*sets)) - near):
        amiss.append(f"{', '.join(mixed)} of the other names")
    raise ConfigError(
        f"backprop: weights= is {expected}; given {sorted(keys)} ({'; '.join(amiss)})"
    )


def _arrays(
    weights: dict[str, Any], like: dict[str, np.ndarray], how: str
) -> dict[str, np.ndarray]:
    """Each of ``weights`` as an array of ``like``'s shape and dtype, named as given."""
    out = {}
    for name, value in weights.items():
        if hasattr(value, "detach"):  # dict(module.named_parameters()): tensors with grad
            value = value.detach().cpu()
        try:
            array = np.asarray(value, dtype=like[name].dtype)
        except (TypeError, ValueError, RuntimeError):
            array = None
        shape = list(like[name].shape)
        if array is None or array.shape != like[name].shape:
            # Only a weight matrix has an orientation: a bias is a vector.
            orient = ("[in, out], " if how == PRINTED else "[out, in], ") if len(shape) == 2 else ""
            given = short_repr(value) if array is None else f"shape {list(array.shape)}"
            raise ConfigError(
                f"backprop: weights[{name!r}] must be {shape} numbers ({orient}{how}); "
                f"given {given}"
            )
        if not np.isfinite(array).all():
            raise ConfigError(f"backprop: weights[{name!r}] holds values that are not finite")
        out[name] = array
    return out


def _resumed(run_dir: Path, steps: int) -> _Start:
    from mlplab.runs.checkpoint import load_checkpoint

    check_run_dir(run_dir, "--resume ")
    cfg = record_config(run_dir)
    path = run_dir / "checkpoints" / "last.safetensors"
    if not path.exists():
        path = run_dir / "checkpoints" / "best.safetensors"
    if not path.exists():
        raise CheckpointError(f"--resume {str(run_dir)!r}: the run has no checkpoint yet")
    ckpt = load_checkpoint(path)
    data = resume_data(run_dir, cfg, ckpt)  # from any folder, the rows it trained on
    try:
        spec = ModelSpec.from_dict(ckpt.meta["spec"])
    except Exception as err:
        raise CheckpointError(f"checkpoint {str(path)!r} has no readable model spec") from err
    _check_traceable(cfg, spec, len(data.y_train))
    restored = restore_model(cfg, spec, ckpt, path)
    backend, state = restore_stack([cfg], data, [spec], "numpy", [restored])
    assert isinstance(backend, NumpyBackend)
    schedule = schedule_of(cfg)
    finished_at = 0
    if state.epoch >= schedule.epoch:
        # A finished run: the steps shown are those that training on would take next, as
        # if its epoch setting were just large enough.
        finished_at = state.epoch
        n_batches = len(batch_bounds(len(data.y_train), schedule.batch_size))
        schedule = dataclasses.replace(schedule, epoch=state.epoch + 1 + steps // n_batches)
    return _Start(cfg, data, spec, backend, state, schedule, finished_at)


def _advance(start: _Start, steps: int) -> None:
    """Train ``steps`` steps with the real loop, stopping right before the next one."""
    state, s = start.state, start.schedule
    target = state.step + steps
    fit(
        start.backend,
        start.data.task,
        {"train": start.data.y_train, "val": start.data.y_val, "test": start.data.y_test},
        s,
        [lr_schedule_of(start.cfg)],
        state,
        should_stop=lambda: state.step >= target,
    )
    if state.step < target or state.epoch >= s.epoch:
        n_batches = len(batch_bounds(len(start.data.y_train), s.batch_size))
        total = s.epoch * n_batches
        why = (
            f"{s.epoch} epochs of {n_batches} batch{'es' if n_batches > 1 else ''}"
            if state.step >= total
            else "it stops early"
        )
        raise ConfigError(
            f"--step {target}: training ends after {state.step} steps ({why}); "
            f"choose 0 to {state.step - 1}"
        )


def _check_row(start: _Start, row: int) -> None:
    """``--row`` picks the one example of a one-example step, among the training rows."""
    n = len(start.data.y_train)
    lo, hi = batch_bounds(n, start.schedule.batch_size)[0]
    if hi - lo != 1:
        raise ConfigError(
            f"--row {row} picks the one example of a --batch_size 1 step; this config's "
            f"step takes {hi - lo} rows: give --batch_size 1 too"
        )
    if row >= n:
        raise ConfigError(
            f"--row {row}: the training data has {n} row{'s' * (n > 1)}; choose 0 to {n - 1}"
        )


def _batch(start: _Start) -> tuple[Array | None, int, int]:
    """The rows of the next step (``None``: the full batch), its batch index and count."""
    state, s = start.state, start.schedule
    n = len(start.data.y_train)
    bounds = batch_bounds(n, s.batch_size)
    if len(bounds) == 1:
        return None, 0, 1
    rng = state.order_rngs[0]
    if state.batch_in_epoch and state.epoch_start[0] is not None:
        rng.bit_generator.state = state.epoch_start[0]  # replay this epoch's order
    order = rng.permutation(n)
    lo, hi = bounds[state.batch_in_epoch]
    return order[None, lo:hi], state.batch_in_epoch, len(bounds)


# --- the step, one layer call at a time --------------------------------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.quantities: list[Quantity] = []

    def add(self, name: str, formula: str, value: Array, phase: str) -> None:
        v = np.array(value, copy=True)
        self.quantities.append(Quantity(name, formula, v[0] if v.ndim == 3 else v, phase=phase))


def _param_names(spec: ModelSpec) -> dict[str, str]:
    """State name -> lecture name: ``hidden.0.linear.weight`` -> ``w1``, ``out.bias`` -> ``b2``."""
    names: dict[str, str] = {}
    for i in range(spec.n_layer):
        n = i + 1
        names[f"hidden.{i}.linear.weight"], names[f"hidden.{i}.linear.bias"] = f"w{n}", f"b{n}"
        if spec.use_bn:
            names[f"hidden.{i}.bn.weight"], names[f"hidden.{i}.bn.bias"] = f"gamma{n}", f"beta{n}"
    L = spec.n_layer + 1
    names["out.weight"], names["out.bias"] = f"w{L}", f"b{L}"
    return names


def _lecture(name: str, a: Array) -> Array:
    """A parameter in the lecture's orientation: weights ``[in, out]``, vectors flat."""
    a = np.asarray(a)
    if a.ndim == 3:  # [K, ...] views of the engine
        a = a[0]
    if name.startswith("w"):
        return a.T
    return a.reshape(-1)


@dataclass
class _Forward:
    """What the backward pass needs from the forward pass, block by block."""

    caches: list[tuple[Any, ...]]  # each block's (linear, act, bn, dropout) caches
    outs: list[str]  # each block's output name (a1, bn1, dp1 or r1)
    masks: list[Array | None]  # each block's dropout mask as drawn, [N, D]
    out_cache: Any  # the output layer's
    last: str  # the name of the output layer's input


def _run_step(start: _Start, idx: Array | None, lr: float) -> tuple[_Recorder, dict[str, Any]]:
    """One training step through the engine's layers, recording every quantity."""
    be, spec = start.backend, start.spec
    rec = _Recorder()
    X, y, _ = be.data["train"]  # row weights: only the estimators' sample_weight, no config
    if idx is not None:
        X, y = X[idx], y[0][idx]
    names = _param_names(spec)
    before = be.model.state_dict(0)
    rec.add("X", "the batch's inputs", X, "input")
    rec.add("Y", "the batch's targets", y[0], "input")
    for state_name, lname in names.items():
        # The stored tensor is [out, in]; the printout's w, [in, out], is its transpose.
        label = f"{state_name}.T" if lname.startswith("w") else state_name
        rec.add(lname, label, _lecture(lname, before[state_name]), "input")
    fwd, out = _forward(be, spec, X, rec)
    dout = _cost(be, spec, out, y, rec)
    _backward(be, spec, fwd, dout, rec)
    grads = unstack(be.model.layout, be.model.flat_grads, {}, 0)
    # --- update: the config's optimizer, as the engine steps it ------------------------------
    be.set_lr(np.array([lr]))
    be.optimizer.step(be.model.flat_grads)
    after = be.model.state_dict(0)
    opt = optim_of(start.cfg)
    for state_name, lname in names.items():
        formula = _update_formula(opt, lname, lr)
        rec.add(f"new_{lname}", formula, _lecture(lname, after[state_name]), "update")
    return rec, {"before": before, "after": after, "grads": grads, "masks": fwd.masks}


def _forward(be: NumpyBackend, spec: ModelSpec, X: Array, rec: _Recorder) -> tuple[_Forward, Array]:
    """The engine's layers in ``Block.forward``'s order, one call at a time."""
    h, h_name = X, "X"
    fwd = _Forward([], [], [], None, "")
    for i, block in enumerate(be.model.blocks):
        n = i + 1
        block_in, in_name = h, h_name
        z, c_lin = block.linear.forward(h)
        rec.add(f"l{n}", f"l{n} = {h_name} @ w{n} + b{n}", z, "forward")  # copied: relu
        a, c_act = block.act.forward(z)  # works in place in z
        rec.add(f"a{n}", f"a{n} = {spec.act}(l{n})", a, "forward")
        h, h_name = a, f"a{n}"
        c_bn = c_dp = mask = None
        if block.bn is not None:
            h, c_bn = block.bn.forward(h, True)
            var = f"var(a{n}, axis=0) + {BN_EPS:g}"
            rec.add(f"a{n}_hat", f"a{n}_hat = (a{n} - mean(a{n}, axis=0)) / sqrt({var})",
                    c_bn[0], "forward")  # fmt: skip
            rec.add(f"bn{n}", f"bn{n} = gamma{n} * a{n}_hat + beta{n}", h, "forward")
            h_name = f"bn{n}"
        if block.dropout is not None:
            h, c_dp = block.dropout.forward(h, True, be.rngs)  # the engine's own draw
            p = float(be.model.dp_rates[0])
            mask = np.ones_like(h) if c_dp is None else c_dp
            rec.add(f"mask{n}", f"mask{n} = (U(0,1) >= {p:g}) / (1 - {p:g}), drawn by the engine",
                    mask, "forward")  # fmt: skip
            rec.add(f"dp{n}", f"dp{n} = {h_name} * mask{n}", h, "forward")
            h_name = f"dp{n}"
        if block.residual is not None:
            h, _ = block.residual.forward(block_in, h)
            rec.add(f"r{n}", f"r{n} = {in_name} + {h_name}", h, "forward")
            h_name = f"r{n}"
        fwd.caches.append((c_lin, c_act, c_bn, c_dp))
        fwd.masks.append(None if mask is None else np.asarray(mask[0]))
        fwd.outs.append(h_name)
    L = spec.n_layer + 1
    out, fwd.out_cache = be.model.out.forward(h)
    fwd.last = h_name
    rec.add(f"l{L}", f"l{L} = {h_name} @ w{L} + b{L}", out, "forward")
    return fwd, out


def _cost(be: NumpyBackend, spec: ModelSpec, out: Array, y: Array, rec: _Recorder) -> Array:
    """``Y_pred``, ``cost``, ``d_Y_pred`` and the engine's ``d_lL``, which it returns."""
    L = spec.n_layer + 1
    f_pred, f_cost, f_dpred, f_dout = (t.format(L=L) for t in OUTPUT[spec.task])
    y_pred = _y_pred(spec.task, out[0])
    rec.add("Y_pred", f"Y_pred = {f_pred}", y_pred, "forward")
    losses, dout = be.loss(out, y, True)  # from the logits, as the engine trains
    assert dout is not None
    rec.add("cost", f"cost = {f_cost}", np.asarray(losses[0]), "forward")
    if spec.task == "binary":
        # The engine takes the cost from the logits, stable where Y_pred saturates; the lab
        # (and `mlplab train`'s printout) from Y_pred rounded to float32: the slide's digits.
        lab = lab_cost(out[0], np.asarray(y))
        if lab != float(losses[0]):
            rec.quantities[-1].aside = f"the lab's, from Y_pred: {lab:.10g}"
    # The engine never forms d_Y_pred: it differentiates the cost by l_L in one stable
    # step. It is computed here for the chain rule's sake, from the engine's Y_pred.
    with np.errstate(divide="ignore", invalid="ignore"):
        d_pred = _d_y_pred(spec.task, np.asarray(y_pred, np.float64), np.asarray(y), y_pred.shape)
    rec.add("d_Y_pred", f"d_Y_pred = {f_dpred}", d_pred.astype(out.dtype), "backward")
    if not np.isfinite(d_pred).all():
        why = f"not finite where Y_pred rounds to 0 or 1; the engine computes d_l{L} from l{L}"
        rec.quantities[-1].note = why
    if spec.task == "binary":  # the factor d_l{L}'s formula multiplies by, as a value
        factor = np.asarray(y_pred) * (1 - np.asarray(y_pred))
        rec.add(prime_name(L, output=True), f"Y_pred' = sigmoid'(l{L}) = Y_pred * (1 - Y_pred)",
                factor.astype(out.dtype), "backward")  # fmt: skip
    rec.add(f"d_l{L}", f"d_l{L} = {f_dout}", dout, "backward")
    return dout


def _backward(
    be: NumpyBackend, spec: ModelSpec, fwd: _Forward, dout: Array, rec: _Recorder
) -> None:
    """The same layers' backward passes in reverse, as ``MLP.backward`` and ``Block.backward``."""
    from mlplab.engines.numpy.functional import ACTIVATIONS

    model, L = be.model, spec.n_layer + 1
    v = {q.name: q.value for q in rec.quantities if q.phase == "forward"}
    d, g = model.out.backward(fwd.out_cache, dout, need_dx=bool(model.blocks))
    rec.add(f"d_w{L}", f"d_w{L} = {fwd.last}.T @ d_l{L}", _lecture("w", g["weight"]), "backward")
    rec.add(f"d_b{L}", f"d_b{L} = sum(d_l{L}, axis=0)", _lecture("b", g["bias"]), "backward")
    up = L  # the layer whose input gradient d is
    for i in range(len(model.blocks) - 1, -1, -1):
        block, n = model.blocks[i], i + 1
        c_lin, c_act, c_bn, c_dp = fwd.caches[i]
        assert d is not None
        name = fwd.outs[i]
        above_residual = up <= spec.n_layer and model.blocks[up - 1].residual is not None
        skip = f" + d_r{up}" if above_residual else ""
        rec.add(f"d_{name}", f"d_{name} = d_l{up} @ w{up}.T{skip}", d, "backward")
        dh = d
        if block.residual is not None:  # the branch below the skip gets d unchanged
            inner = _inner_name(block, n)
            rec.add(f"d_{inner}", f"d_{inner} = d_r{n}", d, "backward")
        if block.dropout is not None:
            d, _ = block.dropout.backward(c_dp, d)
            below = f"bn{n}" if block.bn is not None else f"a{n}"
            rec.add(f"d_{below}", f"d_{below} = d_dp{n} * mask{n}", d, "backward")
        if block.bn is not None:
            d, g = block.bn.backward(c_bn, d)
            gamma, beta = _lecture("g", g["weight"]), _lecture("g", g["bias"])
            rec.add(f"d_gamma{n}", f"d_gamma{n} = sum(d_bn{n} * a{n}_hat, axis=0)", gamma,
                    "backward")  # fmt: skip
            rec.add(f"d_beta{n}", f"d_beta{n} = sum(d_bn{n}, axis=0)", beta, "backward")
            formula = (
                f"d_a{n} = gamma{n} / sqrt(var(a{n}) + eps) * (d_bn{n} - mean(d_bn{n}, axis=0)"
                f" - a{n}_hat * mean(d_bn{n} * a{n}_hat, axis=0))"
            )
            rec.add(f"d_a{n}", formula, d, "backward")
        d, _ = block.act.backward(c_act, d)
        # The activation's derivative at l{n}, the factor d_l{n}'s formula multiplies by.
        factor = ACTIVATIONS[spec.act][1](v[f"l{n}"], v[f"a{n}"])
        prime = prime_name(n)
        formula = f"{prime} = {spec.act}'(l{n}) = {ACT_PRIME[spec.act].format(n=n)}"
        rec.add(prime, formula, np.broadcast_to(factor, d.shape).astype(d.dtype), "backward")
        rec.add(f"d_l{n}", f"d_l{n} = d_a{n} * {ACT_PRIME[spec.act].format(n=n)}", d, "backward")
        x_name = "X" if i == 0 else fwd.outs[i - 1]
        dx, g = block.linear.backward(c_lin, d, need_dx=i > 0)
        rec.add(f"d_w{n}", f"d_w{n} = {x_name}.T @ d_l{n}", _lecture("w", g["weight"]), "backward")
        rec.add(f"d_b{n}", f"d_b{n} = sum(d_l{n}, axis=0)", _lecture("b", g["bias"]), "backward")
        if block.residual is not None and dx is not None:
            dx += dh  # as Block.backward: the skip's gradient joins the linear path's
        d, up = dx, n


def prime_name(n: int, output: bool = False) -> str:
    """The name in a trace of an activation's derivative at ``l{n}``, d a{n} / d l{n}: ``a1'``,
    and ``Y_pred'`` for the output's sigmoid (short, so the names' column stays narrow)."""
    return "Y_pred'" if output else f"a{n}'"


def _inner_name(block: Any, n: int) -> str:
    if block.dropout is not None:
        return f"dp{n}"
    return f"bn{n}" if block.bn is not None else f"a{n}"


def _y_pred(task: str, out: Array) -> Array:
    from mlplab.engines.numpy.functional import expit
    from mlplab.training.metrics import probabilities

    if task == "binary":
        return expit(out)
    if task == "multiclass":
        return probabilities(task, out)
    return out.copy()


def _d_y_pred(task: str, y_pred: Array, y: Array, shape: tuple[int, ...]) -> Array:
    n = shape[0]
    if task == "binary":
        return (y_pred - y.reshape(shape)) / (y_pred * (1 - y_pred)) / n
    if task == "multiclass":
        onehot = np.zeros(shape)
        onehot[np.arange(n), y.reshape(-1)] = 1.0
        return -onehot / y_pred / n
    return 2.0 * (y_pred - y.reshape(shape)) / y_pred.size


def _lecture_form_misses(spec: ModelSpec, opt: OptimSpec) -> list[str]:
    """What of the config the slide's manual backprop does not cover (none: it applies)."""
    bad = [f"a {spec.task} output"] if spec.task != "binary" else []
    bad += ["batch norm"] * spec.use_bn + ["dropout"] * bool(spec.dp_rate)
    bad += ["residual blocks"] * (spec.sc_type == "residual")
    bad += [f"optim {opt.name}"] * (opt.name != "sgd") + ["momentum"] * bool(opt.mm)
    return bad + ["l2_coef"] * bool(opt.l2_coef)


def _check_lecture_form(spec: ModelSpec, opt: OptimSpec) -> None:
    """Refuse a config the slide's manual backprop does not cover (before any training)."""
    if bad := _lecture_form_misses(spec, opt):
        raise ConfigError(
            "--form lecture: the slide's manual backprop covers a binary (sigmoid, bce) output "
            "trained by sgd without momentum or l2_coef, with no batch norm, dropout or residual "
            f"blocks; this config has {', '.join(bad)}: use --form mean (the default; "
            "--form is mean or lecture)"
        )


def _lecture_step(rec: _Recorder, ctx: dict[str, Any], spec: ModelSpec, lr: float) -> None:
    """Replace the backward pass and update by the slide's lines (``examples/xor_backprop.py``).

    Written as the slide writes them, in the engine's dtype, from the recorded forward
    values, so that a float64 2-2-1 trace equals the script's numbers exactly.
    """
    from mlplab.engines.numpy.functional import ACTIVATIONS

    v = {q.name: q.value for q in rec.quantities}
    rec.quantities = [q for q in rec.quantities if q.phase in ("input", "forward")]
    L, Y, Y_pred = spec.n_layer + 1, v["Y"], v["Y_pred"]
    d = (Y_pred - Y) / (Y_pred * (1.0 - Y_pred) + SLIDE_EPS)
    rec.add("d_Y_pred", "d_Y_pred = (Y_pred - Y) / (Y_pred * (1 - Y_pred) + 1e-7)", d, "backward")
    factor = Y_pred * (1 - Y_pred)  # sigmoid_prime(l2), Y_pred = sigmoid(l2)
    rec.add(prime_name(L, output=True), f"Y_pred' = sigmoid_prime(l{L}) = Y_pred * (1 - Y_pred)",
            factor, "backward")  # fmt: skip
    d = d * factor
    rec.add(f"d_l{L}", f"d_l{L} = d_Y_pred * sigmoid_prime(l{L})", d, "backward")
    prime = ACTIVATIONS[spec.act][1]
    act = "sigmoid_prime(l{n})" if spec.act == "sigmoid" else ACT_PRIME[spec.act]
    for n in range(L, 0, -1):
        x = "X" if n == 1 else f"a{n - 1}"
        if n < L:
            factor = np.broadcast_to(prime(v[f"l{n}"], v[f"a{n}"]), d.shape).astype(d.dtype)
            shown = f"sigmoid_prime(l{n})" if spec.act == "sigmoid" else f"{spec.act}'(l{n})"
            formula = f"{prime_name(n)} = {shown} = {ACT_PRIME[spec.act].format(n=n)}"
            rec.add(prime_name(n), formula, factor, "backward")
            d = d * factor
            rec.add(f"d_l{n}", f"d_l{n} = d_a{n} * {act.format(n=n)}", d, "backward")
        rec.add(f"d_b{n}", f"d_b{n} = d_l{n}   (one row per example)", d, "backward")
        # The same name is the bias's gradient in the mean form: say so where it is printed.
        mean_form = f"--form mean's d_b{n} is the bias's gradient: this d_b{n}'s mean over the rows"
        rec.quantities[-1].aside = mean_form
        rec.add(f"d_w{n}", f"d_w{n} = {x}.T @ d_b{n}", v[x].T @ d, "backward")
        if n > 1:
            d = d @ v[f"w{n}"].T
            rec.add(f"d_a{n - 1}", f"d_a{n - 1} = d_b{n} @ w{n}.T", d, "backward")
    # The update: weights by the summed gradient, biases by the mean of their deltas.
    v.update((q.name, q.value) for q in rec.quantities if q.phase == "backward")
    after, grads = dict(ctx["before"]), {}
    for state_name, p in _param_names(spec).items():
        step = v[f"d_{p}"] if p.startswith("w") else np.mean(v[f"d_{p}"], axis=0)
        new = v[p] - lr * step
        formula = f"new_{p} = {p} - lr * " + (
            f"d_{p}" if p.startswith("w") else f"mean(d_{p}, axis=0)"
        )
        rec.add(f"new_{p}", f"{formula}   (lr = {lr:g})", new, "update")
        shape = after[state_name].shape  # mlplab's [out, in]
        after[state_name], grads[state_name] = new.T.reshape(shape), step.T.reshape(shape)
    ctx.update(after=after, grads=grads)


def _update_formula(opt: OptimSpec, p: str, lr: float) -> str:
    """The update of parameter ``p`` as torch.optim writes it (``g`` is ``d_p`` plus L2).

    Each of the config's optimizers has its branch; an unknown name is a ValueError.
    """
    wd = opt.l2_coef
    g = f"(d_{p} + {wd:g} * {p})" if wd and opt.name != "adamw" else f"d_{p}"
    at = f"   (lr = {lr:g})"
    if opt.name == "sgd" and not opt.mm:
        return f"new_{p} = {p} - lr * {g}{at}"
    if opt.name == "sgd":
        return f"new_{p} = {p} - lr * buf,  buf = {opt.mm:g} * buf + {g}{at}"
    if opt.name == "rmsprop":
        step = f"{g} / (sqrt(sq) + 1e-8),  sq = 0.99 * sq + 0.01 * {g}**2"
        if opt.mm:
            return f"new_{p} = {p} - lr * buf,  buf = {opt.mm:g} * buf + {step}{at}"
        return f"new_{p} = {p} - lr * {step}{at}"
    if opt.name == "adagrad":
        return f"new_{p} = {p} - lr * {g} / (sqrt(sum) + 1e-10),  sum = sum + {g}**2{at}"
    adam = (
        f"lr * m_hat / (sqrt(v_hat) + 1e-8),  m = 0.9 * m + 0.1 * {g}, "
        f"v = 0.999 * v + 0.001 * {g}**2, hats divided by (1 - beta**t)"
    )
    if opt.name == "adamw" and wd:
        return f"new_{p} = {p} * (1 - lr * {wd:g}) - {adam}{at}"
    if opt.name in ("adam", "adamw"):
        return f"new_{p} = {p} - {adam}{at}"
    # Not Adam's formula by default: the trace would print it beside another optimizer's
    # values, and the check (of values, not text) would still say ok.
    raise ValueError(f"mlplab backprop has no update formula for optimizer {opt.name!r}")


# --- the autograd reference ---------------------------------------------------------------------


def _reference(
    start: _Start, rec: _Recorder, ctx: dict[str, Any], lr: float, form: str = "mean"
) -> None:
    """Fill every quantity's ``reference`` from torch autograd in float64."""
    import torch
    import torch.nn.functional as F

    from mlplab.gradcheck import TORCH_ACTIVATIONS, TORCH_LOSSES, torch_optimizer

    spec = start.spec
    q = {x.name: x for x in rec.quantities}
    names = _param_names(spec)
    before = ctx["before"]
    P = {
        k: torch.tensor(np.asarray(before[k], np.float64), requires_grad=True) for k in names
    }  # leaves, mlplab's [out, in]
    ref: dict[str, torch.Tensor] = {}

    def keep(name: str, t: torch.Tensor) -> torch.Tensor:
        if t.requires_grad:
            t.retain_grad()
        ref[name] = t
        return t

    X = torch.tensor(np.asarray(q["X"].value, np.float64))
    h = X
    act = TORCH_ACTIVATIONS[spec.act]()
    for i in range(spec.n_layer):
        n, pre = i + 1, f"hidden.{i}"
        block_in = h
        z = keep(f"l{n}", h @ P[f"{pre}.linear.weight"].T + P[f"{pre}.linear.bias"])
        h = keep(f"a{n}", act(z))
        if spec.use_bn:
            mean, var = h.mean(0), h.var(0, unbiased=False)
            keep(f"a{n}_hat", (h - mean) / torch.sqrt(var + BN_EPS))
            rm = torch.tensor(np.asarray(before[f"{pre}.bn.running_mean"], np.float64))
            rv = torch.tensor(np.asarray(before[f"{pre}.bn.running_var"], np.float64))
            h = keep(
                f"bn{n}",
                F.batch_norm(
                    h,
                    rm,
                    rv,
                    P[f"{pre}.bn.weight"],
                    P[f"{pre}.bn.bias"],
                    training=True,
                    momentum=0.1,
                    eps=BN_EPS,
                ),
            )
        mask = ctx["masks"][i]
        if mask is not None:
            h = keep(f"dp{n}", h * torch.tensor(np.asarray(mask, np.float64)))
        if spec.is_residual(i):
            h = keep(f"r{n}", block_in + h)
    L = spec.n_layer + 1
    out = keep(f"l{L}", h @ P["out.weight"].T + P["out.bias"])
    yv = np.asarray(q["Y"].value)
    Y = torch.tensor(yv.reshape(-1) if spec.task == "multiclass" else yv.astype(np.float64))
    if spec.task == "multiclass":
        Y = Y.long()
    cost = keep("cost", TORCH_LOSSES[spec.loss]()(out, Y))  # on logits, as the engine
    # The lecture form's derivatives are those of sum(r * bce) over the rows (see the
    # module's docstring): r, the slide's 1e-7 as a factor per row, is held constant.
    if form == "lecture":
        s = (torch.sigmoid(out) * (1 - torch.sigmoid(out))).detach()
        r = s / (s + SLIDE_EPS)
        (r * F.binary_cross_entropy_with_logits(out, Y, reduction="none")).sum().backward()
    else:
        cost.backward()

    # d_Y_pred: autograd of the cost written with Y_pred, the lecture's form. The bce is
    # written out: torch's binary_cross_entropy backward divides by max(Y_pred * (1 - Y_pred),
    # 1e-12), so a saturated but finite Y_pred (1e-20, a correct trace) would differ from it.
    yp = torch.tensor(np.asarray(q["Y_pred"].value, np.float64), requires_grad=True)

    def bce() -> torch.Tensor:
        Yb = Y.reshape(yp.shape)
        return -(Yb * torch.log(yp) + (1 - Yb) * torch.log(1 - yp))

    if form == "lecture":  # r from the same Y_pred, as the slide's line divides by it
        s_pred = (yp * (1 - yp)).detach()
        (s_pred / (s_pred + SLIDE_EPS) * bce()).sum().backward()
        y_pred_ref = torch.sigmoid(out)
    elif spec.task == "binary":
        bce().mean().backward()
        y_pred_ref = torch.sigmoid(out)
    elif spec.task == "multiclass":
        F.nll_loss(torch.log(yp), Y).backward()
        y_pred_ref = torch.softmax(out, dim=1)
    else:
        F.mse_loss(yp, Y).backward()
        y_pred_ref = out
    assert yp.grad is not None
    refs: dict[str, np.ndarray] = {
        "Y_pred": y_pred_ref.detach().numpy(),
        "d_Y_pred": yp.grad.numpy(),
    }
    for name, t in ref.items():
        refs[name] = t.detach().numpy()
        if t.grad is not None:
            refs[f"d_{name}"] = t.grad.numpy()
    for state_name, lname in names.items():
        g = P[state_name].grad
        assert g is not None
        refs[f"d_{lname}"] = _lecture(lname, g.numpy())
    # Each activation's derivative at its l, elementwise: autograd of sum(act(l)) by l.
    primes: list[tuple[str, Callable[[torch.Tensor], torch.Tensor], int]]
    primes = [(prime_name(n), act, n) for n in range(1, spec.n_layer + 1)]
    primes += [(prime_name(L, output=True), torch.sigmoid, L)] if spec.task == "binary" else []
    for name, fn, n in primes:
        z = ref[f"l{n}"].detach().clone().requires_grad_(True)
        (slope,) = torch.autograd.grad(fn(z).sum(), z)
        refs[name] = slope.numpy()

    if form == "lecture":  # weights step by the summed gradient, biases by the mean delta
        for state_name, lname in names.items():
            by = refs[f"d_{lname}"] / (1 if lname.startswith("w") else len(q["X"].value))
            w = _lecture(lname, np.asarray(before[state_name], np.float64))
            refs[f"new_{lname}"] = w - lr * by
        # The slide's d_b is d_l, one row per example.
        refs.update({f"d_b{n}": refs[f"d_l{n}"] for n in range(1, spec.n_layer + 2)})
        _set_references(rec, refs, _sum_scales(spec, refs, q["X"].value, form))
        y_pred = q["Y_pred"].value
        if not (y_pred * (1 - y_pred) > 0).all():  # the engine's dtype rounds Y_pred to 0 or 1
            q["d_Y_pred"].note = "Y_pred rounds to 0 or 1: only the 1e-7 keeps it finite"
        return
    # The update: torch.optim from the engine's optimizer state and the engine's own
    # gradients (checked above), so that this line checks the update formula alone: Adam
    # would turn the rounding noise of a gradient that is zero up to rounding into a whole
    # step of lr.
    params = [torch.nn.Parameter(P[k].detach().clone()) for k in names]
    for p, k in zip(params, names):
        p.grad = torch.tensor(np.asarray(ctx["grads"][k], np.float64))
    o = optim_of(start.cfg)
    topt = torch_optimizer(params, OptimSpec(o.name, lr, o.mm, o.l2_coef))
    saved = ctx.get("optim")
    if saved is not None and saved.optim_meta.get("step", 0) > 0:
        for p, k in zip(params, names):
            st = topt.state[p]
            st["step"] = torch.tensor(float(saved.optim_meta["step"]))
            for key, arr in saved.optim.items():
                pname, sname = key.rsplit(".", 1)
                if pname == k:
                    st[sname] = torch.tensor(np.asarray(arr, np.float64))
    topt.step()
    for p, lname in zip(params, names.values()):
        refs[f"new_{lname}"] = _lecture(lname, p.detach().numpy())
    _set_references(rec, refs, _sum_scales(spec, refs, q["X"].value))


def _set_references(rec: _Recorder, refs: dict[str, np.ndarray], scales: dict[str, float]) -> None:
    for x in rec.quantities:
        x.scale = scales.get(x.name, 0.0)
        if x.phase != "input" and not x.name.startswith("mask") and x.name in refs:
            x.reference = np.asarray(refs[x.name], np.float64).reshape(x.value.shape)
        elif x.phase != "input" and not x.name.startswith("mask"):
            x.note = x.note or "no autograd counterpart"


def _sum_scales(
    spec: ModelSpec, refs: dict[str, np.ndarray], X: Array, form: str = "mean"
) -> dict[str, float]:
    """The size of the terms that each sum over rows adds up, from the reference values.

    A sum that nearly cancels (a bias gradient under batch norm, whose input has zero mean
    over the rows) carries rounding of the size of its terms, not of its result: its check
    is relative to ``sum |terms|``.
    """
    out: dict[str, float] = {}
    a = np.abs
    for i in range(spec.n_layer + 1):
        n = i + 1
        d_l = refs.get(f"d_l{n}")
        if d_l is None:
            continue
        x = a(np.asarray(X, np.float64)) if i == 0 else a(refs[_block_out(spec, i - 1)])
        if form == "mean":  # the lecture form's d_b is no sum
            out[f"d_b{n}"] = float(a(d_l).sum(axis=0).max())
        out[f"d_w{n}"] = float((x.T @ a(d_l)).max())
        if spec.use_bn and i < spec.n_layer and f"d_bn{n}" in refs:
            d_bn, hat = a(refs[f"d_bn{n}"]), a(refs[f"a{n}_hat"])
            out[f"d_beta{n}"] = float(d_bn.sum(axis=0).max())
            out[f"d_gamma{n}"] = float((d_bn * hat).sum(axis=0).max())
            out[f"d_a{n}"] = float(a(refs[f"d_a{n}"]).max() + (d_bn + hat * d_bn.mean(0)).max())
    return out


def _block_out(spec: ModelSpec, i: int) -> str:
    """The name of hidden block ``i``'s output (0-based ``i``), as the trace names it."""
    n = i + 1
    if spec.is_residual(i):
        return f"r{n}"
    if spec.dp_rate > 0:
        return f"dp{n}"
    return f"bn{n}" if spec.use_bn else f"a{n}"


# --- the entry points ---------------------------------------------------------------------------


@public
def backprop(
    config: Config | dict[str, Any] | str | Path | None = None,
    *,
    step: int = 0,
    resume: str | Path | None = None,
    weights: dict[str, Array] | None = None,
    form: str = "mean",
    row: int | None = None,
    **overrides: Any,
) -> Trace:
    """Trace one training step of ``config`` through the NumPy engine, checked by autograd.

    Parameters
    ----------
    config : Config, dict of settings, or YAML path
        What ``mlplab train`` takes; ``overrides`` are settings on top. The model, data,
        first batch, initial weights (``init``), optimizer and dropout stream are the
        config's own, whatever its ``engine``: the trace runs the NumPy engine.
    step : int
        0-based optimizer step to show (default 0, the first): the real training loop
        trains ``step`` steps first.
    resume : path of a run directory, optional
        Start from that run's last checkpoint (weights, optimizer state, data order and
        dropout stream) instead of ``config``; the step shown is the run's next one
        (``step`` more after it). A finished run shows the step training on would take.
    weights : dict of ndarray, optional
        Initial parameters and buffers by state name (``[out, in]``), instead of ``init``'s;
        or, without batch norm, by the printout's names (``w1`` ``[in, out]``, ``b1``, ...).
        A wrong shape is refused by the name and orientation given.
    form : ``"mean"`` or ``"lecture"``
        ``mean`` (default): the derivatives of the mean cost, which mlplab trains and steps
        the config's optimizer by. ``lecture``: the manual-backprop slide's lines (summed over
        the rows, the 1e-7, the bias step by the mean) for a sigmoid/bce output and plain SGD.
    row : int, optional
        With ``batch_size=1``: the step on this 0-based row of the training data, in the
        data's own order (xor's rows as the lecture writes them), instead of the row the
        shuffled order gives.

    Returns
    -------
    Trace
        ``print(trace)`` shows it; ``trace.passed`` is the autograd verdict.
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ConfigError(f"--step must be a non-negative integer (got {step!r})")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
        raise ConfigError(f"--row must be a non-negative integer (got {short_repr(row)})")
    # Any case, as the settings' choices take it (--optim ADAM).
    form = form.lower() if isinstance(form, str) else form
    if form not in FORMS:
        raise ConfigError(f"--form {form!r}: choose {' or '.join(FORMS)}")
    if resume is not None:
        resume = check_path_argument("backprop", "resume", resume, RUN_FOLDER)
        if config is not None or overrides or weights is not None:
            raise ConfigError("--resume traces the run's own config; give no other settings")
        start = _resumed(Path(resume), step)
    else:
        start = _fresh(as_config(config, **overrides), weights)
    if start.cfg.class_weight != "none":
        # The trace writes out the mean cost's chain rule; a weighted mean would be
        # another step than the one shown, and than its autograd check.
        raise ConfigError(
            "backprop traces the unweighted cost's chain rule; class_weight "
            f"{start.cfg.class_weight!r} weighs the rows: trace the config without it"
        )
    if start.cfg.l1_coef:
        # Its shrink after the update is no part of the chain rule, nor of torch.optim's
        # step that checks the trace.
        raise ConfigError(
            "backprop traces the chain rule and torch.optim's update; l1_coef "
            f"{start.cfg.l1_coef:g} shrinks the weights after it: trace the config with "
            "l1_coef 0"
        )
    if form == "lecture":
        _check_lecture_form(start.spec, optim_of(start.cfg))
    if row is not None:
        _check_row(start, row)
    _advance(start, step)
    be, state = start.backend, start.state
    before_optim = be.export(0)
    lr = float(lrs_at(state.epoch, start.schedule.epoch, [lr_schedule_of(start.cfg)])[0])
    idx, b, nb = _batch(start)
    if row is not None:
        idx = np.array([[row]])
    rec, ctx = _run_step(start, idx, lr)
    if form == "lecture":
        _lecture_step(rec, ctx, start.spec, lr)
    elif not _lecture_form_misses(start.spec, optim_of(start.cfg)):
        # --form lecture would print another d_b under the same name: say so here too.
        for n in range(1, start.spec.n_layer + 2):
            rec_q = next(x for x in rec.quantities if x.name == f"d_b{n}")
            rec_q.aside = (
                f"the bias's gradient; --form lecture's d_b{n} is d_l{n}, one row per example"
            )
    ctx["optim"] = before_optim
    _reference(start, rec, ctx, lr, form)
    c, spec = start.cfg, start.spec
    widths = "-".join(map(str, spec.widths()))
    # A model with no hidden layer applies no activation: its config's act is unused.
    act = spec.act if spec.n_layer else "linear"
    title = (
        # Epochs count from 1, as metrics.csv, TensorBoard and the plots count them.
        f"mlplab backprop: step {state.step} (epoch {state.epoch + 1}, "
        + (f"batch {b + 1} of {nb}" if row is None else f"row {row} of the training data")
        + "), "
        f"data {c.data}, {widths} {act}"
        + (", batch norm" if spec.use_bn else "")
        + (f", dropout {spec.dp_rate:g}" if spec.dp_rate else "")
        + (", residual" if spec.sc_type == "residual" else "")
        + f", {spec.loss} loss, {c.optim} lr {lr:g}, {c.dtype}"
        + (", lecture form (sums over rows)" if form == "lecture" else "")
        + (
            f" (past the run's end at epoch {start.finished_at}: the step training on would take)"
            if start.finished_at
            else ""
        )
        + _not_used(
            c, resolve_engine(c.engine, spec, len(start.data.X_train), c.batch_size, c.device)
        )
        + "; checked against torch autograd (float64)"
        + (
            " of sum(r * bce), r = s / (s + 1e-7), s = Y_pred * (1 - Y_pred)"
            if form == "lecture"
            else ""
        )
    )
    d = start.data
    return Trace(
        rec.quantities,
        state.step,
        state.epoch,
        (b, nb),
        title,
        TOLERANCE[c.dtype],
        spec,
        ctx["before"],
        ctx["grads"],
        ctx["after"],
        list(d.feature_names or [f"x{i + 1}" for i in range(spec.in_dim)]),
        _output_names(d),
        form,
    )


def _not_used(c: Config, engine: str) -> str:
    """The header's word on a config's torch engine (``engine``, as train would pick it)
    or GPU, which the trace does not use: `--engine torch --step 100` read as torch's
    step, and `--device cuda` went unsaid."""
    picked = " (torch for this model)" if c.engine == "auto" else ""
    unused = [f"engine {c.engine}{picked}"] * (engine == "torch")
    unused += [f"device {c.device}"] * (c.device not in ("auto", "cpu"))
    if not unused:
        return ""
    return f", on the NumPy engine and the CPU (the config's {' and '.join(unused)} not used)"


def _output_names(d: Dataset) -> list[str]:
    if d.task == "binary":
        return [f"P({(d.class_names or ['0', '1'])[1]})"]
    return list(d.class_names or []) if d.task == "multiclass" else list(d.target_names)


def backprop_command(
    config: str | None,
    settings: dict[str, Any],
    step: int,
    resume: str | None,
    plot: str | None,
    threshold: int,
    echo: Callable[[str], None] = print,
    form: str = "mean",
    row: int | None = None,
) -> int:
    """``mlplab backprop``: print the trace; 1 if a quantity differs from autograd."""
    if threshold < 1:
        raise ConfigError(f"--threshold must be a positive integer (got {threshold})")
    if plot is not None and Path(plot).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ConfigError(f"--plot {plot!r}: give a file name ending in .png, .svg or .pdf")
    if plot is not None and not Path(plot).resolve().parent.is_dir():
        raise ConfigError(f"--plot {plot!r}: the folder {str(Path(plot).parent)!r} does not exist")
    inside = run_folder_around(Path(plot).parent) if plot is not None else None
    if inside is not None:
        raise ConfigError(
            f"--plot {plot!r} is inside the run folder {str(inside)!r}, whose record it "
            "would change; give a file outside it"
        )
    if plot is not None:
        try:  # a real file, before the trace is printed (root passes os.access anyway)
            with tempfile.TemporaryFile(dir=Path(plot).resolve().parent):
                pass
        except OSError as err:
            raise ConfigError(f"--plot {plot!r} cannot be written ({err.strerror})") from None
    if resume is not None:
        if config or settings:
            raise ConfigError("--resume traces the run's own config; give no other settings")
        trace = backprop(step=step, resume=resume, form=form, row=row)
    else:
        trace = backprop(config, step=step, form=form, row=row, **settings)
    if plot is not None:
        _check_drawable(trace.spec)  # before printing: a refused --plot prints no trace
    echo(trace.to_text(threshold=threshold))
    if plot is not None:
        echo(f"network diagram: {trace.plot(plot)}")
    return 0 if trace.passed else 1


__all__ = ["Quantity", "Trace", "backprop", "backprop_command", "format_value"]
