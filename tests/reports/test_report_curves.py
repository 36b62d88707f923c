"""The report's curves: every curve at its validation epochs (older records: per epoch),
resampled onto one grid with NaN outside each run's epochs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from mlplab.reports.plots import curve_points, curve_set


def _row(train_losses: list[float], epochs: list[int] | None = None) -> dict:
    epochs = epochs or [100, 200]
    return {
        "lr": 0.1,
        "train_losses": train_losses,
        "val_losses": [0.6, 0.3][: len(epochs)],
        "val_epochs": epochs,
        "train_accs": [0.5, 1.0][: len(epochs)],
        "val_accs": [0.5, 1.0][: len(epochs)],
    }


def test_train_loss_sampled_at_validations_is_drawn_at_val_epochs() -> None:
    points = curve_points(_row([0.7, 0.2]), "loss")
    for split in ("train", "val"):
        assert points[split][0].tolist() == [100, 200]


def test_train_loss_of_an_older_record_is_per_epoch() -> None:
    points = curve_points(_row([0.7, 0.5, 0.3]), "loss")
    assert points["train"][0].tolist() == [1, 2, 3]
    assert points["train"][1].tolist() == [0.7, 0.5, 0.3]
    assert curve_points(_row([0.7, 0.5, 0.3]), "acc")["train"][0].tolist() == [100, 200]


def test_curves_of_runs_that_stopped_early_are_nan_after_their_end() -> None:
    runs = pd.DataFrame([_row([0.7, 0.2]), _row([0.9], [100])])
    data = curve_set(runs, "loss")
    assert data is not None
    assert data.epochs[0] == 100 and data.epochs[-1] == 200
    assert data.val.shape == (2, len(data.epochs))
    assert np.isnan(data.val[1, -1]) and data.val[1, 0] == 0.6
    assert data.val[0, -1] == 0.3


def test_resampling_many_runs_at_once_equals_np_interp_run_by_run() -> None:
    from mlplab.reports.plots import resample

    rng = np.random.default_rng(0)
    epochs = np.array([1.0, 5, 10, 40, 41, 100])
    values = rng.standard_normal((7, len(epochs)))
    grid = np.unique(np.linspace(0, 120, 50).round())
    got = resample(epochs, values, grid)
    for row, want in zip(got, values, strict=True):
        expected = np.interp(grid, epochs, want, left=np.nan, right=np.nan)
        np.testing.assert_allclose(row, expected, equal_nan=True)


def test_a_crowded_panel_draws_its_mean_and_band_not_every_run(monkeypatch) -> None:
    from mlplab.reports import plots

    rows = [{**_row([0.7, 0.2]), "lr": lr, "test_acc": 0.5} for lr in (0.1, 1.0) for _ in range(3)]
    runs = pd.DataFrame(rows)
    few = plots.curves(runs, "lr", None, "loss", "acc")
    assert few is not None and "thin lines each run" in few.caption
    assert few.png.startswith(b"\x89PNG")
    monkeypatch.setattr(plots, "MAX_LINES", 2)
    crowded = plots.curves(runs, "lr", None, "loss", "acc")
    assert crowded is not None and "thin lines" not in crowded.caption


def test_accuracy_bands_stay_within_0_and_1() -> None:
    from mlplab.reports.plots import clipped_band, mean_std

    mean, std = mean_std(np.array([[1.0, 0.2], [0.6, 0.0]]))
    low, high = clipped_band(mean, std, "val_accs")
    assert mean.tolist() == [0.8, 0.1]
    assert high[0] == 1.0 and low[1] == 0.0  # 0.8 + 0.28 and 0.1 - 0.14, clipped


def test_loss_panels_go_log_where_early_spikes_would_flatten_the_rest(monkeypatch) -> None:
    """As a run's own loss plot: losses spanning more than LOG_SPAN share a log axis;
    accuracy never does."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    spiky = [{**_row([200.0, 2.0]), "val_losses": [150.0, 2.5], "test_acc": 0.5}]
    calm = [{**_row([0.7, 0.2]), "test_acc": 0.5}]
    for rows, scale in ((spiky, "log"), (calm, "linear")):
        runs = pd.DataFrame(rows * 2)
        assert plots.curves(runs, None, None, "loss", "acc") is not None
        assert {ax.get_yscale() for ax in figures[-1].axes} == {scale}
    assert plots.curves(pd.DataFrame(spiky * 2), None, None, "acc", "acc") is not None
    assert {ax.get_yscale() for ax in figures[-1].axes} == {"linear"}


def test_whole_number_settings_get_whole_number_ticks(monkeypatch) -> None:
    """Widths 4 and 16 were drawn with ticks at 5.0, 7.5, ...: a width of 7.5 is no setting."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    rows = [
        {"hid_dim": w, "lr": lr, "val_acc": 0.8, "test_acc": 0.7}
        for w in (4, 16)
        for lr in (0.05, 0.1)
        for _ in range(2)
    ]
    assert plots.vs_param(pd.DataFrame(rows), ["hid_dim", "lr"], "acc") is not None
    width_ax, lr_ax = figures[-1].axes[:2]
    figures[-1].canvas.draw()
    lo, hi = width_ax.get_xlim()
    ticks = [t for t in width_ax.get_xticks() if lo <= t <= hi]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert not all(float(t).is_integer() for t in lr_ax.get_xticks())  # 0.05 and 0.1


def test_bar_labels_of_many_sampled_values_do_not_overlap(monkeypatch) -> None:
    """A random search's lr values (0.00107908, 0.0163407, ...) stood side by side as one
    run of unreadable text under the bars; a few short levels stay level."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    rng = np.random.default_rng(0)
    for levels in (10.0 ** rng.uniform(-3, -1, 7), np.array([0.01, 0.1])):
        rows = [{"lr": lr, "train_acc": 0.8, "val_acc": 0.7, "test_acc": 0.6} for lr in levels]
        assert plots.bars(pd.DataFrame(rows * 2), "lr", None, "acc") is not None
        fig = figures[-1]
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        for ax in fig.axes:
            boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
            assert len(boxes) == len(levels)
            assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes)), levels
            # Upright, they stood past the figure's foot, the axis title with them.
            assert min(b.y0 for b in boxes) >= 0, levels
            assert ax.xaxis.label.get_window_extent(renderer).y0 >= 0, levels
        assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == (
            {90.0} if len(levels) > 2 else {0.0}
        )


def test_a_long_file_name_swept_as_data_is_drawn_cut_and_the_figures_stay_their_size(
    monkeypatch,
) -> None:
    """A 200-letter file name swept as `data` made the bar chart 1073 x 2166 pixels (a strip
    of bars above its upright label), and the curve panels' titles ran together."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    names = ["data/" + "d" * 200 + ".csv", "data/short.csv", "data/" + "e" * 200 + ".csv"]
    rows = [{"data": n, "train_acc": 0.8, "val_acc": 0.7, "test_acc": 0.6} for n in names]
    runs = pd.DataFrame(rows * 2)
    assert plots.bars(runs, "data", None, "acc") is not None
    assert plots.vs_param(runs, ["data"], "acc") is not None
    for fig in figures:
        width, height = fig.get_size_inches() * fig.dpi
        assert height < 800, (width, height)
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
        assert len(ticks) == 3 and max(map(len, ticks)) <= plots.LABEL_CHARS
        assert "data/short.csv" in ticks and len(set(ticks)) == 3  # told apart by their ends
    # The tables keep them whole.
    assert set(plots.level_order(runs["data"])) == set(names)


def test_swept_values_are_the_ticks_and_a_decade_of_rates_goes_log(monkeypatch) -> None:
    """Widths 8, 16 and 32 had ticks at 9, 12, ..., 33, and lr 0.01, 0.03 and 0.1 bunched up
    at the left of a linear axis."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    rows = [
        {"hid_dim": w, "lr": lr, "val_acc": 0.8, "test_acc": 0.7}
        for w in (8, 16, 32)
        for lr in (0.01, 0.03, 0.1)
    ]
    assert plots.vs_param(pd.DataFrame(rows), ["hid_dim", "lr"], "acc") is not None
    width_ax, lr_ax = figures[-1].axes[:2]
    assert width_ax.get_xticks().tolist() == [8, 16, 32]
    assert [t.get_text() for t in width_ax.get_xticklabels()] == ["8", "16", "32"]
    assert lr_ax.get_xscale() == "log" and lr_ax.get_xticks().tolist() == [0.01, 0.03, 0.1]
    assert width_ax.get_xscale() == "linear"


def test_a_loss_band_on_a_log_axis_stays_above_the_lowest_run(monkeypatch) -> None:
    """Where mean - std was <= 0, the band plunged to the foot of the log axis: wedges that
    said the loss had reached about 0."""
    from matplotlib.collections import PolyCollection

    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    rows = [
        {**_row([0.7, 0.02]), "val_losses": [0.69, v], "test_acc": 1.0}
        for v in (0.0002, 0.0003, 0.5)  # the mean is 0.17, its std 0.29
    ]
    assert plots.curves(pd.DataFrame(rows), None, None, "loss", "acc") is not None
    (ax,) = figures[-1].axes
    assert ax.get_yscale() == "log"
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    lowest = min(path.vertices[:, 1].min() for band in bands for path in band.get_paths())
    assert lowest >= 0.0002


def test_a_heatmap_is_drawn_for_a_grid_not_for_a_random_searchs_scattered_values(
    monkeypatch,
) -> None:
    """A random search's hid_dim x lr made a 15x16 heatmap with 16 filled cells, its tick
    labels running together; a grid's table of means is drawn as before."""
    from mlplab.reports import plots

    monkeypatch.setattr(plots, "to_png", lambda fig: b"\x89PNG")
    rng = np.random.default_rng(0)
    sampled = pd.DataFrame({
        "hid_dim": rng.integers(4, 33, 16),
        "lr": 10.0 ** rng.uniform(-3, 0, 16),
        "val_acc_mean": rng.uniform(0.5, 1, 16),
    })  # fmt: skip
    assert plots.heatmap(sampled, "lr", "hid_dim", "acc") is None
    grid = pd.DataFrame(
        [{"hid_dim": h, "lr": lr, "val_acc_mean": 0.9} for h in (4, 8, 16) for lr in (0.01, 0.1, 1)]
    )
    assert plots.heatmap(grid, "lr", "hid_dim", "acc") is not None
    # A grid with a few missing configs (failed or not yet run) keeps its heatmap.
    assert plots.heatmap(grid.drop(index=[0, 4]), "lr", "hid_dim", "acc") is not None


def _drawn(monkeypatch, runs: pd.DataFrame, var1: str | None, kind: str = "loss"):
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    plot = plots.curves(runs, var1, None, kind, "acc")
    assert plot is not None
    return plot, figures[-1]


def test_one_seeds_spike_neither_sets_the_panels_range_nor_drags_their_line(monkeypatch) -> None:
    """One seed of six configs spiked to 7e9: every panel shared a y axis up to 1e10, the
    other five drew flat along its foot, and the spiking panel's mean followed the spike."""
    epochs = list(range(10, 410, 10))  # 40 validations
    falling = list(np.geomspace(0.69, 0.05, len(epochs)))
    rows = [
        {**_row(falling, epochs), "lr": lr, "seed": seed, "val_losses": falling, "test_acc": 1.0}
        for lr in (0.01, 0.1) for seed in (0, 1)
    ]  # fmt: skip
    rows[3]["val_losses"] = [7e9, *falling[1:]]  # lr 0.1, seed 1: a spike at the first
    plot, fig = _drawn(monkeypatch, pd.DataFrame(rows), "lr")
    left, right = fig.axes[:2]
    assert left.get_yscale() == "log" and left.get_ylim() == right.get_ylim()  # still shared
    assert left.get_ylim()[1] < 10  # the points but the spike's: 0.69 at most, and a margin
    # The spiking panel's val line at the first epoch: the geometric mean of 0.69 and 7e9.
    val_line = [
        ln for ln in right.get_lines() if ln.get_color() == right.get_lines()[1].get_color()
    ]
    first = val_line[0].get_ydata()[0]
    assert np.isclose(first, np.sqrt(0.69 * 7e9), rtol=1e-6)
    assert "geometric mean" in plot.caption and "may leave its panel" in plot.caption


def test_a_log_axis_of_less_than_a_decade_gets_labels_to_read_it_by(monkeypatch) -> None:
    """A sine sweep's loss panels, 0.04 to 0.3 once an early spike is left out of the
    range, had one labelled tick (0.1): their curves could not be read off."""
    epochs = list(range(10, 410, 10))
    falling = list(np.geomspace(0.3, 0.04, len(epochs)))
    rows = [
        {**_row(falling, epochs), "lr": lr, "seed": seed, "val_losses": falling, "test_acc": 1.0}
        for lr in (0.01, 0.1) for seed in (0, 1)
    ]  # fmt: skip
    rows[3]["val_losses"] = [7e3, *falling[1:]]  # a spike: a log axis, left out of the range
    _, fig = _drawn(monkeypatch, pd.DataFrame(rows), "lr")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert ax.get_yscale() == "log" and high / low < 20
    shown = [v for v in ax.yaxis.get_majorticklocs() if low <= v <= high]
    assert len(shown) >= 3, shown


def test_runs_of_many_configs_in_one_panel_draw_their_median_not_a_mean_band(monkeypatch) -> None:
    """A random search's 30 lrs shared one panel whose mean ± std band covered 0.4 to 1.0:
    a spread of different configs read as the noise of one."""
    lrs = 10.0 ** np.linspace(-4, 1, 12)
    accs = np.linspace(0.3, 1.0, 12)
    rows = [
        {**_row([0.7, 0.2]), "lr": lr, "train_accs": [0.5, a], "val_accs": [0.5, a], "test_acc": a}
        for lr, a in zip(lrs, accs, strict=True)
    ]
    plot, fig = _drawn(monkeypatch, pd.DataFrame(rows), "lr", kind="acc")
    (ax,) = fig.axes
    thick = [ln for ln in ax.get_lines() if ln.get_linewidth() > 1]
    assert np.isclose(thick[1].get_ydata()[-1], np.median(accs))  # the val line's end
    assert "median over the panel's runs (configs of different settings)" in plot.caption


def test_widths_over_a_decade_go_log_and_val_and_test_stand_side_by_side(monkeypatch) -> None:
    """hid_dim 4, 16 and 64 on a linear axis crowded 4 and 16 at the left, and each level's
    val and test bars were drawn one over the other."""
    rows = [
        {"hid_dim": w, "seed": s, "val_acc": 0.8 + 0.01 * s, "test_acc": 0.7}
        for w in (4, 16, 64) for s in (0, 1)
    ]  # fmt: skip
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    assert plots.vs_param(pd.DataFrame(rows), ["hid_dim"], "acc") is not None
    (ax,) = figures[-1].axes[:1]
    assert ax.get_xscale() == "log" and ax.get_xticks().tolist() == [4, 16, 64]
    (val_line,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    (test_line,) = [ln for ln in ax.get_lines() if ln.get_marker() == "s"]
    # Told apart by marker and line, not only by colour (tab10's orange and green were
    # one colour to readers with protanopia).
    assert val_line.get_linestyle() == "-" and test_line.get_linestyle() == "--"
    assert (val_line.get_color(), test_line.get_color()) == ("#ff7f0e", "#009e73")
    val, test = val_line.get_xdata(), test_line.get_xdata()
    assert all(v < t for v, t in zip(val, test, strict=True))  # side by side, val left
    assert np.allclose(np.sqrt(np.asarray(val) * np.asarray(test)), [4, 16, 64])


def test_no_bar_colour_is_pale_on_the_white_page() -> None:
    """The last of viridis' colours (#bddf26) stood at 1.5:1 against white."""
    from matplotlib.colors import to_rgb

    from mlplab.reports.plots import palette

    def luminance(color) -> float:  # WCAG's relative luminance
        c = np.array(to_rgb(color))
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    for n in (2, 3, 8):
        assert min(1.05 / (luminance(c) + 0.05) for c in palette(n)) >= 1.8


def test_the_test_note_stands_clear_of_the_curves(monkeypatch) -> None:
    """The note sat in the lower left, over loss curves that ended along the panel's foot."""
    epochs = list(range(10, 410, 10))
    falling = list(np.geomspace(50, 0.05, len(epochs)))
    rows = [
        {**_row(falling, epochs), "lr": lr, "val_losses": falling, "test_acc": 0.9}
        for lr in (0.01, 0.1)
    ]
    _, fig = _drawn(monkeypatch, pd.DataFrame(rows), "lr")
    fig.canvas.draw()
    for ax in fig.axes[:2]:
        note = ax.get_legend()
        assert note is not None and note.get_title().get_text().startswith("test accuracy 0.900")
        box = note.get_window_extent()
        for line in ax.get_lines():
            xy = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
            assert not any(box.contains(x, y) for x, y in xy), line.get_label()


def test_a_gates_curves_are_one_line_named_for_its_three_splits(monkeypatch) -> None:
    """A sweep on xor drew a blue train line under its orange val line (the same 4 rows, a
    step apart): the legend named a train curve no one could see."""
    epochs = list(range(10, 110, 10))
    falling = list(np.geomspace(0.69, 0.05, len(epochs)))
    rows = [
        {**_row(falling, epochs), "lr": lr, "val_losses": falling, "test_acc": 1.0}
        for lr in (0.1, 1.0)
    ]
    for data, names in (("xor", ["val (= train = test rows)"]), ("moons", ["train", "val"])):
        runs = pd.DataFrame(rows).assign(data=data)
        plot, fig = _drawn(monkeypatch, runs, "lr")
        assert [t.get_text() for t in fig.legends[0].get_texts()] == names
        for ax in fig.axes[:2]:
            thick = [ln for ln in ax.get_lines() if ln.get_linewidth() > 1]
            assert len(thick) == len(names)
        assert plot.caption.startswith("val loss against epoch (the gate's 4 rows") == (
            data == "xor"
        )


def test_a_random_searchs_two_settings_are_no_grid_of_bars_panels_or_heatmap(monkeypatch):
    """8 sampled lrs and 2 widths drew a bar chart by lr, 2 x 8 curve panels and a 2 x 8
    heatmap, each half empty: most pairs of the two never ran."""
    from mlplab.reports import plots
    from mlplab.reports.aggregate import aggregate

    monkeypatch.setattr(plots, "to_png", lambda fig: b"\x89PNG")
    rng = np.random.default_rng(1)
    epochs = [10, 20]

    def rows(pairs):
        return pd.DataFrame(
            {**_row([0.7, 0.5], epochs), "lr": lr, "hid_dim": w, "seed": s,
             "train_acc": 0.8, "val_acc": 0.7, "test_acc": 0.6}
            for lr, w in pairs for s in (0, 1)
        )  # fmt: skip

    search = rows(zip(10.0 ** rng.uniform(-2, 0, 8), rng.choice([4, 16], 8), strict=True))
    grid = rows(itertools.product([0.01, 0.1], [4, 16]))
    for runs, scattered in ((search, True), (grid, False)):
        summary = aggregate(runs, ["lr", "hid_dim"], ["val_acc"])
        titles = [p.title for p in plots.report_plots(runs, summary, ["lr", "hid_dim"], "binary")]
        kinds = {t.split(" ")[0] for t in titles}
        if scattered:
            assert titles == [
                "loss curves",
                "accuracy curves",
                "accuracy against each swept setting",
            ]
        else:
            assert "train" in kinds and "val" in kinds  # the bars and the heatmap
            assert "loss curves: rows hid_dim, columns lr" in titles


def test_ticks_at_sampled_values_that_crowd_give_way_to_the_axis_own(monkeypatch) -> None:
    """Five sampled lrs from 0.0101 to 0.0121 and three near 1, each a tick labelled with
    its value, ran together into one blot at the left of the log axis."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    lrs = [0.0101, 0.0107, 0.0112, 0.0117, 0.0121, 0.67, 0.74, 0.95]
    rows = [{"lr": lr, "val_acc": 0.7, "test_acc": 0.6} for lr in lrs]
    assert plots.vs_param(pd.DataFrame(rows), ["lr"], "acc") is not None
    ax = figures[-1].axes[0]
    assert ax.get_xscale() == "log"
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figures[-1]).get_renderer()
    figures[-1].draw(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert boxes and not any(a.overlaps(b) for a, b in itertools.pairwise(boxes))


def test_a_random_searchs_widths_on_a_log_axis_are_labelled_in_plain_numbers(monkeypatch):
    """hid_dim drawn from 4 to 64: matplotlib labelled the log axis' minor ticks as well,
    and 4×10⁰ 6×10⁰ 2×10¹ ... ran together under the panel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    rng = np.random.default_rng(0)
    widths = rng.integers(4, 65, size=60)
    rows = [{"hid_dim": int(w), "val_acc": 0.7, "test_acc": 0.6} for w in widths]
    assert plots.vs_param(pd.DataFrame(rows), ["hid_dim"], "acc") is not None
    fig = figures[-1]
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    labels = [t for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True) if t.get_text()]
    shown = [t for t in labels if ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    assert [t.get_text() for t in shown] == ["5", "10", "20", "50"]
    boxes = sorted((t.get_window_extent(renderer) for t in shown), key=lambda b: b.x0)
    assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes))


def test_a_heatmaps_cells_are_written_to_one_precision(monkeypatch) -> None:
    """A sine sweep's cells read "0.05316" beside "0.05": numbers of one precision written
    as if of two."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    losses = {(16, 0.01): 0.05316, (16, 0.1): 0.05, (64, 0.01): 0.1234, (64, 0.1): 2.5}
    summary = pd.DataFrame(
        [{"hid_dim": h, "lr": lr, "val_loss_mean": v} for (h, lr), v in losses.items()]
    )
    heat = plots.heatmap(summary, "lr", "hid_dim", "loss")
    assert heat is not None and "however close" in heat.caption
    cells = sorted(t.get_text() for t in figures[-1].axes[0].texts)
    assert cells == ["0.0500", "0.0532", "0.1234", "2.5000"]
    # Cells decades apart: each its own three significant digits, none 35.200000 wide.
    summary["val_loss_mean"] = [4e-4, 0.05, 1.5, 35.2]
    assert plots.heatmap(summary, "lr", "hid_dim", "loss") is not None
    assert sorted(t.get_text() for t in figures[-1].axes[0].texts) == [
        "0.0004", "0.05", "1.5", "35.2"
    ]  # fmt: skip


def test_a_heatmap_marks_configs_that_never_finished_and_spans_decades_by_log(
    monkeypatch,
) -> None:
    """An lr sweep's all-diverged configs were white cells, as if never run, and one
    blown-up config (val MSE 9491) painted every other cell the same colour."""
    from matplotlib.colors import LogNorm

    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    losses = {("relu", 0.01): 0.12, ("relu", 1.0): None, ("tanh", 0.01): 0.3,
              ("tanh", 1.0): 9491.0}  # fmt: skip
    summary = pd.DataFrame(
        [{"act": a, "lr": lr, "val_loss_mean": v} for (a, lr), v in losses.items()]
    )
    heat = plots.heatmap(summary, "lr", "act", "loss")
    assert heat is not None and "'none finished'" in heat.caption
    fig = figures[-1]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("none\nfinished") == 1 and len(texts) == 4
    assert isinstance(fig.axes[0].images[0].norm, LogNorm)
    assert fig.axes[1].get_ylabel() == "val loss (log scale)"
    # A whole row of configs that never finished (an lr too high for each) stays, marked.
    rows = [{"act": a, "lr": lr, "val_loss_mean": v} for a in ("relu", "tanh")
            for lr, v in ((0.01, 0.2), (0.1, 0.3), (50.0, None))]  # fmt: skip
    assert plots.heatmap(pd.DataFrame(rows), "act", "lr", "loss") is not None
    ax = figures[-1].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.01", "0.1", "50"]
    assert [t.get_text() for t in ax.texts].count("none\nfinished") == 2
    # Within two decades, the colours stay linear.
    summary["val_loss_mean"] = [0.12, None, 0.3, 5.0]
    plots.heatmap(summary, "lr", "act", "loss")
    assert not isinstance(figures[-1].axes[0].images[0].norm, LogNorm)
    assert figures[-1].axes[1].get_ylabel() == "val loss"


def test_a_heatmap_shows_the_metric_the_table_ranks_by(monkeypatch) -> None:
    """A regression's heatmap showed val MAE while its table ranked by val loss: (16, 0.1)
    looked best in the picture and ranked third in the table. Then it showed the val loss
    (on the scaled target, under standardize_target) whatever the table ranked by: val_mse
    by default, or --rank_by val_mae, which ordered the configs otherwise."""
    from mlplab.reports import plots

    monkeypatch.setattr(plots, "to_png", lambda fig: b"\x89PNG")
    summary = pd.DataFrame(
        [{"hid_dim": h, "lr": lr, "val_loss_mean": 3000.0 - h - lr, "val_mae_mean": 43.0 + h,
          "val_mse_mean": 1.2e5 + h, "val_r2_mean": 0.5 + h / 100, "val_acc_mean": 0.9,
          "val_bacc_mean": 0.7} for h in (16, 64) for lr in (0.01, 0.1)]
    )  # fmt: skip
    heat = plots.heatmap(summary, "lr", "hid_dim", "mae")
    assert heat is not None and heat.name == "heatmap_mae"
    assert heat.title.startswith("val MAE") and "of val MAE in the target's units, the" in (
        heat.caption
    )
    assert "ranks by" in heat.caption
    drawn: list[str] = []
    monkeypatch.setattr(plots, "heatmap", lambda s, v1, v2, metric: drawn.append(metric))
    for other in ("bars", "curves", "vs_param"):
        monkeypatch.setattr(plots, other, lambda *a, **k: None)
    runs = summary.assign(status="finished")
    args = (runs, summary, ["lr", "hid_dim"])
    plots.report_plots(*args, "regression")  # the default ranking: val_mse
    plots.report_plots(*args, "regression", "val_mse")
    plots.report_plots(*args, "regression", "val_mae")
    plots.report_plots(*args, "regression", "val_r2")
    plots.report_plots(*args, "classification")
    plots.report_plots(*args, "classification", "val_bacc")
    assert drawn == ["mse", "mse", "mae", "r2", "acc", "bacc"]


def test_a_heatmaps_best_cell_is_bright_whichever_way_its_metric_goes(monkeypatch) -> None:
    """R² and accuracy are best highest, errors lowest: the colours turn with them."""
    from matplotlib.figure import Figure

    from mlplab.reports import plots

    figures: list[Figure] = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    summary = pd.DataFrame(
        [{"hid_dim": h, "lr": lr, "val_mse_mean": 1.0 + h, "val_r2_mean": 0.5 + h / 100,
          "val_rmse_mean": (1.0 + h) ** 0.5} for h in (16, 64) for lr in (0.01, 0.1)]
    )  # fmt: skip
    plots.heatmap(summary, "lr", "hid_dim", "mse")
    plots.heatmap(summary, "lr", "hid_dim", "r2")
    plots.heatmap(summary, "lr", "hid_dim", "rmse")  # --rank_by val_rmse: an error too
    cmaps = [f.axes[0].images[0].cmap.name for f in figures]
    assert cmaps == ["viridis_r", "viridis", "viridis_r"]
    assert figures[1].axes[1].get_ylabel() == "val R²"
    assert figures[2].axes[1].get_ylabel() == "val RMSE"


def test_a_regression_reports_heatmap_is_of_its_ranking_metric(tmp_path) -> None:
    """The heatmap of report.html, by default and under rank_by, is the table's metric."""
    from mlplab.reports.api import report
    from mlplab.sweeps.api import sweep

    sweep(
        data="sinlog", n_samples=120, hid_dim=[4, 8], lr=[0.01, 0.003], epoch=2,
        engine="numpy", log_every=0, plots="none", log_path=str(tmp_path / "runs"),
        exp_name="grid", standardize_target=True, workers=1, report=False, verbose=False,
    )  # fmt: skip
    for rank_by, label in ((None, "MSE"), ("val_mae", "MAE"), ("val_r2", "R²")):
        rep = report(tmp_path / "runs", out=tmp_path / str(rank_by), verbose=False,
                     rank_by=rank_by)  # fmt: skip
        page = rep.html_path.read_text()
        assert f"<b>val {label}: lr × hid_dim</b>" in page, rank_by
        assert "val loss: lr" not in page


def _y_ticks_in_view(ax) -> list[float]:
    low, high = ax.get_ylim()
    return [float(t) for t in ax.get_yticks() if low <= t <= high]


def test_accuracy_axes_end_at_1_with_no_tick_above(monkeypatch) -> None:
    """Every xor-nn run of a sweep reached accuracy 1: the axis of accuracy against each
    setting ran to 1.055, ticked at 1.02 and 1.05. Both accuracy figures now end a sliver
    above 1, where the markers at 1 are drawn whole, with 1 the highest tick."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    rows = [
        {**_row([0.7, 0.2]), "hid_dim": w, "seed": s, "val_acc": 1.0, "test_acc": 1.0}
        for w in (2, 4) for s in (0, 1, 2)
    ]  # fmt: skip
    runs = pd.DataFrame(rows)
    assert plots.vs_param(runs, ["hid_dim"], "acc") is not None
    assert plots.curves(runs, "hid_dim", None, "acc", "acc") is not None
    assert plots.bars(runs.assign(train_acc=1.0), "hid_dim", None, "acc") is not None
    *figures, bars = figures
    # The bars of train / val / test accuracy: 0 to 1 labelled, 1 among them (they were
    # ticked 0, 0.3, 0.6 and 0.9, and 1 left to guess).
    for ax in bars.axes:
        assert ax.get_ylim() == (0.0, 1.05)
        assert _y_ticks_in_view(ax) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    for fig in figures:
        ax = fig.axes[0]
        low, high = ax.get_ylim()
        assert 1.0 < high <= 1.0 + 0.05 * (1.0 - low), (low, high)
        ticks = _y_ticks_in_view(ax)
        assert max(ticks) == 1.0, ticks


def _contrast(a, b) -> float:
    from matplotlib.colors import to_rgb

    def lum(color) -> float:  # WCAG's relative luminance
        c = np.array(to_rgb(color))
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_number_in_a_heatmap_and_a_confusion_matrix_reads_at_45_to_1(monkeypatch):
    """White on viridis teal stood at 2.9:1, and on a mid-blue confusion cell at 2.8:1:
    below the 4.5:1 that WCAG asks of text. Each number now takes the ink its cell wants."""
    from mlplab.plots.inputs import Confusion, DataInfo
    from mlplab.plots.predictions import confusion_figure
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    values = np.linspace(0.5, 1.0, 12)  # every shade of the colour map
    summary = pd.DataFrame(
        [{"hid_dim": h, "lr": lr, "val_acc_mean": values[4 * i + j]}
         for i, h in enumerate((4, 8, 16)) for j, lr in enumerate((0.01, 0.03, 0.1, 0.3))]
    )  # fmt: skip
    assert plots.heatmap(summary, "lr", "hid_dim", "acc") is not None
    ax = figures[-1].axes[0]
    (image,) = ax.get_images()
    cells = np.asarray(image.get_array())
    assert len(ax.texts) == 12
    for t in ax.texts:
        i, j = (round(v) for v in reversed(t.get_position()))
        assert _contrast(t.get_color(), image.cmap(image.norm(cells[i, j]))) >= 4.5, t
    counts = np.array([[185, 10, 5], [20, 228, 2], [0, 60, 140]])
    data = DataInfo("ring", "multiclass", ["x1", "x2"], ["y"], ["0", "1", "2"])
    confusion = Confusion(counts, np.arange(3), 3, int(counts.sum()))
    fig = confusion_figure(confusion, data, {"task_type": "multiclass"})
    ax = fig.axes[0]
    (image,) = ax.get_images()
    for t in ax.texts:
        j, i = (round(v) for v in t.get_position())
        assert _contrast(t.get_color(), image.cmap(image.norm(counts[i, j]))) >= 4.5, t


def test_text_levels_sort_by_the_numbers_in_them() -> None:
    """hid_dims 4-4 16-16 64-64 16-16-16-16 came out as strings sort, 16-16 first and 4-4
    third, on every axis of a report's figures; numbers sort as numbers, `–` last."""
    from mlplab.reports.plots import level_order

    widths = pd.Series(["64-64", "4-4", "16-16-16-16", "16-16", None])
    assert level_order(widths) == ["4-4", "16-16", "16-16-16-16", "64-64", "–"]
    assert level_order(pd.Series(["relu", "gelu", "tanh"])) == ["gelu", "relu", "tanh"]
    assert level_order(pd.Series([0.1, 0.03, 1.0])) == ["0.03", "0.1", "1"]
    assert level_order(pd.Series(["layer10", "layer9", "b"])) == ["b", "layer9", "layer10"]
    noise = pd.Series(["noise0.05.csv", "noise0.1.csv", "noise0.2.csv", "noise0.15.csv"])
    assert level_order(noise) == ["noise0.05.csv", "noise0.1.csv", "noise0.15.csv", "noise0.2.csv"]


def test_val_curves_are_dashed_so_that_they_read_without_colour(monkeypatch) -> None:
    """Train and val were two solid lines told apart by colour alone: one line to a reader
    who sees no colour, or prints in grey. A run's own loss plot already dashed val."""
    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    runs = pd.DataFrame([{**_row([0.7, 0.2]), "test_acc": 0.5}] * 2)
    assert plots.curves(runs, None, None, "loss", "acc") is not None
    styles = {
        line.get_color(): line.get_linestyle() for ax in figures[-1].axes for line in ax.lines
    }
    assert styles == {plots.SERIES["train"]: "-", plots.SERIES["val"]: "--"}, styles
    legend = figures[-1].legends[0]
    assert [h.get_linestyle() for h in legend.legend_handles] == ["-", "--"]


ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus",
        "mish", "identity"]  # fmt: skip


def _act_runs(acts: list[str], **more: list) -> pd.DataFrame:
    ((name, values),) = more.items() if more else (("seed", [0]),)
    return pd.DataFrame(
        {**_row([0.7, 0.5], [10, 20]), "act": a, name: v, "seed": s,
         "train_acc": 0.8, "val_acc": 0.7, "test_acc": 0.6}
        for a in acts for v in values for s in (0, 1)
    )  # fmt: skip


def test_a_sweep_of_all_activations_gets_a_bar_and_a_panel_each_in_wrapped_rows(monkeypatch):
    """mlplab's 11 activations were over the 8 values that get panels: the report drew all 55
    runs in one panel, and no bars, without saying why."""
    from mlplab.engines.numpy.functional import ACTIVATIONS
    from mlplab.reports import plots
    from mlplab.reports.aggregate import aggregate

    assert sorted(ACTS) == sorted(ACTIVATIONS)
    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    runs = _act_runs(ACTS)
    summary = aggregate(runs, ["act"], ["val_acc"])
    shown = plots.report_plots(runs, summary, ["act"], "binary")
    titles = [p.title for p in shown]
    assert titles[:3] == ["train / val / test accuracy by act", "loss curves by act",
                          "accuracy curves by act"]  # fmt: skip
    loss = figures[titles.index("loss curves by act")]
    visible = [ax for ax in loss.axes if ax.get_visible()]
    assert sorted(ax.get_title() for ax in visible) == sorted(f"act = {a}" for a in ACTS)
    assert len(loss.axes) == 12 and not loss.axes[-1].get_visible()  # 2 rows of 6
    # Every column's lowest panel says what its x axis is, the one above the gap too.
    assert [ax.get_xlabel() for ax in loss.axes[5:11]] == ["epoch"] * 6
    assert "share this panel" not in shown[1].caption


def test_named_values_beside_a_second_setting_say_why_they_share_a_panel(monkeypatch):
    from mlplab.reports import plots
    from mlplab.reports.aggregate import aggregate

    monkeypatch.setattr(plots, "to_png", lambda fig: b"\x89PNG")
    runs = _act_runs(ACTS, init=["default", "xavier"])
    summary = aggregate(runs, ["act", "init"], ["val_acc"])
    shown = plots.report_plots(runs, summary, ["act", "init"], "binary")
    assert [p.title for p in shown][:2] == ["loss curves", "accuracy curves"]
    for p in shown[:2]:
        assert "act has 11 values, more than the 8" in p.caption, p.caption
        assert "split the sweep" in p.caption


def test_the_labels_of_a_setting_of_names_against_the_metric_do_not_overlap(monkeypatch):
    """All 11 activations ran together as 'elugeluidentity...', 8 as 'gelu leaky_relumish';
    and the caption spoke of one point per run where each value has its mean ± std."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mlplab.reports import plots

    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    for acts in (ACTS, ACTS[:8], ACTS[:3]):
        plot = plots.vs_param(_act_runs(acts), ["act"], "acc")
        assert plot is not None and "one point per run" not in plot.caption
        fig = figures[-1]
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        boxes = [t.get_window_extent(renderer) for t in fig.axes[0].get_xticklabels()]
        assert len(boxes) == len(acts)
        assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes)), acts
        assert min(b.y0 for b in boxes) >= 0, acts  # within the figure
    rng = np.random.default_rng(0)
    sampled = pd.DataFrame({"lr": 10.0 ** rng.uniform(-3, -1, 12), "val_acc": 0.7, "test_acc": 0.6})
    plot = plots.vs_param(sampled, ["lr"], "acc")
    assert plot is not None and "one point per run" in plot.caption


def test_the_epoch_axis_of_a_short_sweep_is_labelled_with_whole_epochs(monkeypatch) -> None:
    """The curves of runs of 2 to 5 epochs put their epoch ticks at 1.2, 1.5, 1.8 or 1.5,
    3.0, 4.5: an epoch is a whole number, as a run's own loss plot labels it."""
    for last in (2, 3, 5):
        epochs = list(range(1, last + 1))
        row = {**_row([0.7] * last, epochs), "val_losses": [0.6] * last, "test_acc": 0.5}
        row |= {"train_accs": [0.5] * last, "val_accs": [0.5] * last}
        for kind in ("loss", "acc"):
            _, fig = _drawn(monkeypatch, pd.DataFrame([row, row]), None, kind)
            fig.canvas.draw()
            ticks = [t for ax in fig.axes for t in ax.get_xticks() if ax.get_visible()]
            lo, hi = fig.axes[0].get_xlim()
            shown = [t for t in ticks if lo <= t <= hi]
            assert shown and all(float(t).is_integer() for t in shown), (last, kind, shown)


def test_a_sweep_over_linear_and_mlp_draws_a_panel_per_model(tmp_path, monkeypatch) -> None:
    """`--model linear mlp`: the MLP's own settings (hid_dim 2 there, none for the linear
    model) counted as swept variables, so no grid was whole: one panel pooled both models'
    runs ("test accuracy 0.750 ± 0.274", neither model's), no bars were drawn, and each
    setting the user never swept got a panel of "2 vs –"."""
    import mlplab
    from mlplab.reports import plots

    mlplab.sweep(data="xor", model=["linear", "mlp"], seed=[1, 2], hid_dim=2, act="sigmoid",
                 lr=1.0, epoch=30, log_every=0, plots="none", verbose=False,
                 log_path=str(tmp_path))  # fmt: skip
    rep = mlplab.report(tmp_path, verbose=False, out=tmp_path / "page")
    captured = []
    monkeypatch.setattr(plots, "to_png", lambda fig: captured.append(fig) or b"\x89PNG")
    made = plots.report_plots(rep.runs, rep.summary, rep.variables, rep.kind, rep.metric)
    assert len(captured) == len(made)  # a figure per plot, in order
    names = {p.name: p.title for p in made}
    assert names["bars_acc"] == "train / val / test accuracy by model"
    assert names["curves_loss"] == "loss curves by model"
    figure = dict(zip([p.name for p in made], captured, strict=True))
    assert [ax.get_title() for ax in figure["vs_param_acc"].axes] == ["model"]
    assert len([ax for ax in figure["curves_acc"].axes if ax.get_title()]) == 2  # a panel each


def test_loss_curves_of_a_standardized_target_say_so(monkeypatch) -> None:
    """A sweep's loss panels of a standardize_target regression were labelled "loss": an
    MSE of 0.02 beside the table's val_mse of 0.16 read as a wrong number."""
    epochs = list(range(10, 60, 10))
    falling = list(np.geomspace(0.5, 0.02, len(epochs)))
    rows = [{**_row(falling, epochs), "lr": lr, "val_losses": falling} for lr in (0.01, 0.1)]
    for scaled, said in (
        (["true", "true"], " (standardized target)"),
        (["true", "false"], " (standardized target in some runs)"),
        (["false", "false"], ""),
    ):
        runs = pd.DataFrame(rows).assign(data="reg.csv", standardize_target=scaled)
        runs["task_type"] = "regression"
        plot, fig = _drawn(monkeypatch, runs, "lr")
        assert plot.caption.startswith(f"train and val loss{said} against epoch")
        assert fig.axes[0].get_ylabel() == f"loss{said}"
    # A classification takes the setting and leaves it unused: its loss is no target's.
    runs = pd.DataFrame(rows).assign(standardize_target="true", task_type="binary")
    plot, fig = _drawn(monkeypatch, runs, "lr")
    assert plot.caption.startswith("train and val loss against epoch")


def test_settings_past_the_sixth_are_named_in_the_caption_not_left_out_silently(monkeypatch):
    """Nine settings changed one at a time: epoch and batch_size, the 8th and 9th, had no
    panel, and the caption said "against each swept setting"."""
    from mlplab.reports import plots

    names = ["hid_dim", "act", "dp_rate", "init", "optim", "lr", "mm", "epoch", "batch_size"]
    rows = [{**dict.fromkeys(names, 1), n: 2, "val_acc": 0.9, "test_acc": 0.8} for n in names]
    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    plot = plots.vs_param(pd.DataFrame(rows), names, "acc")
    assert plot is not None and len(figures[-1].axes) == 6
    assert [ax.get_title() for ax in figures[-1].axes] == names[:6]
    assert plot.caption.endswith(
        "; the first 6 of 9 settings: mm, epoch, batch_size not drawn (the table has them)"
    )
    assert "not drawn" not in plots.vs_param(pd.DataFrame(rows), names[:6], "acc").caption


def test_runs_that_change_one_setting_at_a_time_are_compared_with_the_shared_config(
    monkeypatch,
) -> None:
    """A student's runs, each one change from a shared config: the act panel's relu point
    averaged in the SGD run (0.43), and sigmoid read as the better activation."""
    from mlplab.reports import plots

    def run(act, optim, acc, seed):
        return {"act": act, "optim": optim, "seed": seed, "val_acc": acc, "test_acc": acc}

    rows = [run("relu", "adam", 0.98, s) for s in (0, 1)]
    rows += [run("sigmoid", "adam", 0.95, s) for s in (0, 1)] + [run("relu", "sgd", 0.43, 0)]
    runs = pd.DataFrame(rows)
    assert plots.one_at_a_time(runs, ["act", "optim"]) == {"act": "relu", "optim": "adam"}
    figures = []
    monkeypatch.setattr(plots, "to_png", lambda fig: figures.append(fig) or b"\x89PNG")
    plot = plots.vs_param(runs, ["act", "optim"], "acc")
    act, optim = figures[-1].axes[:2]
    (val,) = [ln for ln in act.get_lines() if ln.get_marker() == "o"]
    assert [t.get_text() for t in act.get_xticklabels()] == ["relu", "sigmoid"]
    assert val.get_ydata().tolist() == pytest.approx([0.98, 0.95])  # relu above, as it is
    (val,) = [ln for ln in optim.get_lines() if ln.get_marker() == "o"]
    assert val.get_ydata().tolist() == pytest.approx([0.98, 0.43])  # adam's: relu's alone
    assert (
        "that change this setting alone, of the config most runs share (act relu, optim adam)"
        in (plot.caption)
    )
    # A setting that a run does not apply (mm beside adam: blank) is no change of it.
    sgd = [
        {"optim": o, "mm": m, "lr": lr, "seed": 0, "val_acc": a, "test_acc": a}
        for o, m, lr, a in [("sgd", 0.9, 0.1, 0.9), ("sgd", 0.5, 0.1, 0.8),
                            ("sgd", 0.9, 0.01, 0.7), ("adam", None, 0.1, 0.95)]
    ]  # fmt: skip
    base = plots.one_at_a_time(pd.DataFrame(sgd), ["optim", "mm", "lr"])
    assert base == {"optim": "sgd", "mm": "0.9", "lr": "0.1"}
    # Rows of a list that share no config (adam sigmoid, sgd relu): no base to compare with.
    rows_only = pd.DataFrame([run("sigmoid", "adam", 0.9, 0), run("relu", "sgd", 0.8, 0)])
    assert plots.one_at_a_time(rows_only, ["act", "optim"]) is None
    # A grid (a run of two changes) is averaged over the other settings, as it says.
    grid = pd.DataFrame([*rows, run("sigmoid", "sgd", 0.5, 0)])
    assert plots.one_at_a_time(grid, ["act", "optim"]) is None
    assert (
        "over seeds and the other settings" in plots.vs_param(grid, ["act", "optim"], "acc").caption
    )
