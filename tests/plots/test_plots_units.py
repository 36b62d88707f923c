"""The ``units`` picture: each hidden unit's output over the plane of 2-feature data."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from plots_testlib import MOONS, XOR_NN, assert_image, trained

from mlplab.engines.spec import ModelSpec
from mlplab.plots.network import layer_params
from mlplab.plots.surfaces import make_grid
from mlplab.plots.units import can_draw_units, unit_outputs, units_figure
from mlplab.runner import train

CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _through_output(run, layers) -> np.ndarray:
    """The last hidden layer's units through its batch norm (where the model has one) and
    the output layer: the model's logits."""
    w, b = layer_params(run.weights, run.spec)[-1]
    a = layers[-1][1].reshape(len(layers[-1][1]), -1).T  # [G*G, units]
    if run.spec.use_bn:  # eval mode: the running statistics, PyTorch's eps
        bn = {k.rsplit(".", 1)[1]: v for k, v in run.weights.items()
              if k.startswith(f"hidden.{run.spec.n_layer - 1}.bn.")}  # fmt: skip
        a = (a - bn["running_mean"]) / np.sqrt(bn["running_var"] + 1e-5) * bn["weight"] + bn["bias"]
    return a @ w.T + b


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(MOONS, id="numpy-tanh-standardized"),
        pytest.param(
            {**MOONS, "epoch": 40, "engine": "torch", "use_bn": True, "act": "relu"},
            id="torch-relu-batchnorm",
        ),
        pytest.param(
            {**MOONS, "epoch": 40, "hid_dims": [3, 5], "n_layer": 2, "act": "gelu"},
            id="two-widths",
        ),
    ],
)
def test_the_units_are_the_trained_models_own_hidden_layers(tmp_path, settings):
    """Layer 1's z is w·x + b of the record's weights, a is act(z); the last layer's units
    through the output layer give the trained model's own outputs, whichever engine
    trained it (BatchNorm's running statistics included)."""
    run = train(**{"engine": "numpy", **settings}, verbose=False, log_path=str(tmp_path))
    grid = make_grid(run.dataset, 30)
    layers = unit_outputs(run.weights, run.spec, grid)
    assert [a.shape for _, a in layers] == [(n, 30, 30) for n in run.spec.widths()[1:-1]]
    w1, b1 = layer_params(run.weights, run.spec)[0]
    z1 = grid.model_inputs @ w1.T + b1
    np.testing.assert_allclose(layers[0][0].reshape(len(w1), -1).T, z1, rtol=1e-10, atol=1e-12)
    torch = pytest.importorskip("torch")
    f = {"tanh": torch.tanh, "gelu": torch.nn.functional.gelu, "relu": torch.relu}
    expected = f[settings["act"]](torch.from_numpy(z1)).numpy()  # a = act(z), before any bn
    np.testing.assert_allclose(layers[0][1].reshape(len(w1), -1).T, expected, atol=1e-6)
    np.testing.assert_allclose(
        _through_output(run, layers), run.model_outputs(grid.model_inputs), rtol=1e-4, atol=1e-4
    )
    assert "units.png" in run.record["plot_files"]
    assert_image(run.run_dir / "plots" / "units.png")


def test_the_xor_labs_two_units_each_cut_off_one_corner(tmp_path_factory):
    """The lecture's picture of the 2-2-1 net: each hidden unit's line z = 0 puts one
    corner of the square on its own side, the two lines cut off the two corners of one
    class (as (0, 0) and (1, 1)), and the output keeps the band between them."""
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    w1, b1 = layer_params(xor.weights, xor.spec)[0]
    sides = (CORNERS @ w1.T + b1) > 0  # [corner, unit]
    alone = []
    for unit in range(2):
        lonely = [c for c in range(4) if (sides[:, unit] == sides[c, unit]).sum() == 1]
        assert len(lonely) == 1, sides
        alone.append(tuple(CORNERS[lonely[0]]))
    assert alone[0] != alone[1]
    assert (alone[0][0] == alone[0][1]) == (alone[1][0] == alone[1][1])  # XOR: one class
    fig = units_figure(xor.weights, xor.spec, xor.dataset, xor.record)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("unit")]
    assert [ax.get_title() for ax in panels] == ["unit 1", "unit 2"]
    for ax in panels:
        # Each draws its unit's line (a dashed contour) and the 4 training points.
        assert ax.collections and any(
            isinstance(c, PathCollection) and len(c.get_offsets()) == 4 for c in ax.collections
        )
        assert len(ax.images) == 1
    assert "each hidden unit's a = sigmoid(z) over x1 × x2" in fig.texts[0].get_text()


def test_the_panels_axes_name_x1_and_x2_with_ticks_so_the_corners_read(tmp_path_factory):
    """The panels had no ticks and no axis names: which corner was (0, 0) was a guess.
    Every panel has ticks; the lowest of each column names x1 under its numbers, the
    leftmost of each row x2 beside them; a column that ends higher has its own."""
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    fig = units_figure(xor.weights, xor.spec, xor.dataset, xor.record)
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_title().startswith("unit")]
    for col, ax in enumerate(panels):
        for axis in (ax.xaxis, ax.yaxis):
            ticks = [float(t) for t in axis.get_ticklocs()]
            assert 0.0 in ticks and 1.0 in ticks, ticks
        assert ax.get_xlabel() == "x1"
        assert [t.get_text() != "" for t in ax.get_xticklabels()] == [True] * len(
            ax.get_xticklabels()
        )
        shown = any(t.get_text() and t.get_visible() for t in ax.get_yticklabels())
        assert shown == (col == 0) and ax.yaxis.get_tick_params()["labelleft"] == (col == 0)
    assert panels[0].get_ylabel() == "hidden 1\nx2"
    # 3 then 5 units: columns 4 and 5 end in the second row, columns 1 to 3 there too.
    run = train(**{**MOONS, "epoch": 2, "hid_dims": [5, 3], "n_layer": 2}, engine="numpy",
                verbose=False, log_path=str(tmp_path_factory.mktemp("units")))  # fmt: skip
    fig = units_figure(run.weights, run.spec, run.dataset, run.record)
    rows = fig.axes[0].get_gridspec().nrows
    named = [(ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start)
             for ax in fig.axes if ax.get_title().startswith("unit") and ax.get_xlabel()]  # fmt: skip
    assert rows == 2 and sorted(named) == [(0, 3), (0, 4), (1, 0), (1, 1), (1, 2)]


@pytest.mark.parametrize(
    ("data", "widths", "drawn"),
    [
        ("xor", [2, 2, 1], True),
        ("xor", [2, 10, 10, 10, 1], True),  # the wide and deep lab: 3 rows of 10
        ("xor", [2, 11, 1], False),  # wider than the network diagram draws
        ("xor", [2, 8, 8, 8, 8, 8, 8, 1], True),  # the Playground's deepest: 6 rows of 8
        ("xor", [2, 4, 4, 4, 4, 4, 4, 4, 1], False),  # more than 6 hidden layers
        ("xor", [2, 1], False),  # the perceptron has no hidden unit
        ("iris", [4, 8, 3], False),  # 4 features: no plane
    ],
)
def test_the_picture_is_drawn_where_it_has_a_plane_and_room(data, widths, drawn):
    from mlplab.data.dataset import load_dataset

    hidden = widths[1:-1]
    spec = ModelSpec(
        in_dim=widths[0],
        out_dim=widths[-1],
        n_layer=len(hidden),
        hid_dim=hidden[0] if hidden else 1,
        hid_dims=tuple(hidden) if hidden else None,
        act="sigmoid",
        task="binary" if widths[-1] == 1 else "multiclass",
    )
    assert can_draw_units(load_dataset(data), spec) is drawn


def test_the_colours_and_lines_say_what_the_caption_says(tmp_path):
    """White is a = 0 on a scale of at least -1 to 1 a layer; each unit whose z crosses 0
    has its dashed line (ReLU's forward wrote into z, and the lines went); a batch-norm
    model's caption says the units are drawn before it."""
    from matplotlib.contour import ContourSet

    run = train(**{**MOONS, "epoch": 30, "act": "relu", "use_bn": True}, engine="numpy",
                verbose=False, log_path=str(tmp_path))  # fmt: skip
    layers = unit_outputs(run.weights, run.spec, make_grid(run.dataset, 80))
    fig = units_figure(run.weights, run.spec, run.dataset, run.record)
    title = fig.texts[0].get_text()
    assert "a = relu(z)" in title and "before its block's batch norm" in title
    panels = [ax for ax in fig.axes if ax.get_title().startswith("unit")]
    assert len(panels) == sum(a.shape[0] for _, a in layers)
    at = 0
    for z, a in layers:
        # the layer's 99th percentile: one large unit does not whiten the others
        limit = max(1.0, float(np.percentile(np.abs(a), 99)))
        for unit in range(a.shape[0]):
            ax = panels[at]
            at += 1
            (image,) = ax.images
            assert (image.norm.vmin, image.norm.vmax) == pytest.approx((-limit, limit))
            assert ax.get_title().endswith(": 0 here") is (not np.abs(a[unit]).max() > 0)
            np.testing.assert_array_equal(image.get_array(), a[unit])
            crosses = bool(z[unit].min() < 0 < z[unit].max())
            assert any(isinstance(c, ContourSet) for c in ax.collections) is crosses
    assert sum(1 for z, _ in layers for u in z if u.min() < 0 < u.max()) > 0


def test_a_unit_that_is_0_over_the_plane_says_so_and_a_large_one_whitens_no_other(
    tmp_path_factory,
):
    """A dead ReLU was white, as a unit of small values is; one unit growing to 20 on a
    corner set its layer's scale, and the others looked dead."""
    run = trained(tmp_path_factory, "relu3", **{**MOONS, "act": "relu", "hid_dim": 3})
    state = {k: v.copy() for k, v in run.weights.items()}
    w, b = "hidden.0.linear.weight", "hidden.0.linear.bias"
    state[w][0], state[b][0] = 0.0, -1.0  # unit 1: z = -1 everywhere, a = relu(z) = 0
    state[w][1] *= 40.0  # unit 2: large on a corner of the plane
    fig = units_figure(state, run.spec, run.dataset, run.record)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("unit")]
    assert titles[:3] == ["unit 1: 0 here", "unit 2", "unit 3"]  # the first hidden layer
    a = unit_outputs(state, run.spec, make_grid(run.dataset, 80))[0][1]
    image = next(ax for ax in fig.axes if ax.get_title() == "unit 3").images[0]
    assert image.norm.vmax < float(a[1].max())  # unit 2's peak no longer sets the scale
