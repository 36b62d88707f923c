"""--snapshot_every: the surface captured during training, written as a GIF and a grid."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from PIL import Image
from plots_testlib import IRIS, MOONS, RING, SINLOG, assert_image, trained

from mlplab.plots import surfaces
from mlplab.plots.snapshots import SnapshotRecorder, grid_figure, pick, write_snapshots


@pytest.fixture(scope="module")
def moons_snap(tmp_path_factory):
    return trained(tmp_path_factory, "moons_snap", **{**MOONS, "epoch": 60, "snapshot_every": 10})


def test_train_writes_an_animated_gif_and_a_grid(moons_snap):
    names = moons_snap.record["snapshots"]
    assert names == ["boundary_evolution.gif", "boundary_evolution.png"]
    plots = moons_snap.run_dir / "plots"
    with Image.open(plots / "boundary_evolution.gif") as gif:
        assert gif.format == "GIF" and gif.is_animated
        assert gif.n_frames == 7  # steps 0, 10, ..., 50, and 60: the model that finished
    assert_image(plots / "boundary_evolution.png")


def test_the_last_frame_is_the_model_that_finished(tmp_path_factory):
    """A run that ends between two captures (60 steps, a frame every 25) ended its
    animation at step 50, not at the model it trained."""
    from mlplab.plots.recorder import SNAPSHOT_FILE
    from mlplab.restore import load_run

    res = trained(tmp_path_factory, "moons_25", **{**MOONS, "epoch": 60, "snapshot_every": 25})
    rec = SnapshotRecorder.load(res.run_dir / SNAPSHOT_FILE)
    assert rec.steps == [0, 25, 50, 60]
    final = load_run(res.run_dir)
    fresh = SnapshotRecorder(final.dataset, final.spec)  # the same grid, over the same data
    fresh.capture(60, final.model_outputs)
    np.testing.assert_allclose(rec.frames[3], fresh.frames[0], atol=1e-6)
    assert not np.allclose(rec.frames[2], fresh.frames[0], atol=1e-3)


def test_a_frames_step_counts_the_updates_done(tmp_path_factory):
    """ "step 25" is the model after 25 updates (full batch: as a 25-epoch run ends) and
    "step 0" the model before training, the same whatever the lr. Frames used to be taken
    one update late: "step 0" was the model after its first update."""
    from mlplab.plots.recorder import SNAPSHOT_FILE

    def frames(name: str, **settings) -> SnapshotRecorder:
        res = trained(tmp_path_factory, name, **{**MOONS, "snapshot_every": 25, **settings})
        return SnapshotRecorder.load(res.run_dir / SNAPSHOT_FILE)

    long, short = frames("moons_25", epoch=60), frames("moons_25_short", epoch=25)
    other_lr = frames("moons_25_lr", epoch=25, lr=0.1)
    assert short.steps == other_lr.steps == [0, 25]
    np.testing.assert_array_equal(long.frames[1], short.frames[1])
    np.testing.assert_array_equal(short.frames[0], other_lr.frames[0])
    assert not np.array_equal(short.frames[1], other_lr.frames[1])


def test_snapshots_are_the_models_surface_at_that_step(tmp_path_factory):
    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=30)
    rec.capture(7, moons.model_outputs)
    assert rec.steps == [7] and rec.frames[0].shape == (30, 30)
    snap = rec.surface(0)
    assert isinstance(snap, surfaces.ClassSurface)
    direct = surfaces.class_surface(moons.model_outputs, "binary", rec.grid)
    np.testing.assert_allclose(snap.p1, direct.p1, atol=1e-6)  # stored as float32
    np.testing.assert_array_equal(snap.classes, direct.classes)


def test_grid_titles_carry_the_steps(moons_snap, tmp_path_factory):
    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=20)
    for step in range(0, 300, 10):  # 30 snapshots: the grid shows 12, first and last kept
        rec.capture(step, moons.model_outputs)
    fig = grid_figure(rec)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(titles) == 12
    assert titles[0] == "step 0" and titles[-1] == "step 290"
    assert "moons" in fig.get_suptitle() and "mlp 2-8-8-1 tanh" in fig.get_suptitle()


def test_a_minibatch_runs_frames_give_their_epoch_as_the_loss_plot_counts(tmp_path_factory):
    """Frames said "step 20" alone, which the loss plot, counted in epochs, could not be
    matched to; and the grid did not say whose points it draws."""
    from mlplab.plots.recorder import SNAPSHOT_FILE
    from mlplab.plots.snapshots import gif_frames

    # 240 training rows (of 300) in batches of 60: 4 updates an epoch.
    run = trained(tmp_path_factory, "moons_minibatch",
                  **{**MOONS, "epoch": 5, "batch_size": 60, "snapshot_every": 6})  # fmt: skip
    rec = SnapshotRecorder.load(run.run_dir / SNAPSHOT_FILE)
    assert rec.steps == [0, 6, 12, 18, 20]
    assert [rec.moment(i) for i in range(len(rec.steps))] == [
        "step 0 (epoch 0)", "step 6 (epoch 1.5)", "step 12 (epoch 3)", "step 18 (epoch 4.5)",
        "step 20 (epoch 5)",
    ]  # fmt: skip
    fig = grid_figure(rec)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles[-1] == "step 20 (epoch 5)"
    assert fig.get_suptitle().endswith("; points: training rows")
    assert len(gif_frames(rec, max_frames=2)) == 2
    full = trained(tmp_path_factory, "moons_snap", **{**MOONS, "epoch": 60, "snapshot_every": 10})
    assert SnapshotRecorder.load(full.run_dir / SNAPSHOT_FILE).moment(1) == "step 10"


def test_regression_snapshots(tmp_path_factory, tmp_path):
    sinlog = trained(tmp_path_factory, "sinlog", **SINLOG)
    rec = SnapshotRecorder(sinlog.dataset, sinlog.spec, grid_size=20)
    rec.capture(0, sinlog.model_outputs)
    rec.capture(1, sinlog.model_outputs)
    pts = rec.grid.model_inputs
    np.testing.assert_allclose(rec.frames[1].ravel(), sinlog.model_outputs(pts)[:, 0], rtol=1e-5)
    assert write_snapshots(rec, tmp_path, fmt="svg") == [
        "boundary_evolution.gif",
        "boundary_evolution.svg",
    ]


def test_non_planar_data_captures_and_writes_nothing(tmp_path_factory, tmp_path):
    iris = trained(tmp_path_factory, "iris", **IRIS)
    rec = SnapshotRecorder(iris.dataset, iris.spec)
    rec.capture(0, iris.model_outputs)
    assert rec.frames == [] and write_snapshots(rec, tmp_path / "plots") == []
    assert not (tmp_path / "plots").exists()


def test_pick_keeps_first_and_last():
    assert pick(5, 12) == [0, 1, 2, 3, 4]
    chosen = pick(101, 12)
    assert chosen[0] == 0 and chosen[-1] == 100 and len(chosen) == 12


def test_only_the_gifs_frames_are_drawn_however_many_were_captured(tmp_path_factory, tmp_path):
    from mlplab.plots.recorder import MAX_FRAMES

    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    for step in range(200):
        rec.capture(step, moons.model_outputs)
    drawn = rec.for_drawing()
    assert len(drawn.frames) == MAX_FRAMES == len(drawn.steps)
    assert drawn.steps[0] == 0 and drawn.steps[-1] == 199
    assert drawn.steps == [rec.steps[i] for i in pick(200, MAX_FRAMES)]
    assert len(rec.frames) == 200  # the recorder keeps all it captured
    assert drawn.grid.model_inputs.size == 0 and rec.grid.model_inputs.size > 0
    assert write_snapshots(rec, tmp_path) == ["boundary_evolution.gif", "boundary_evolution.png"]
    with Image.open(tmp_path / "boundary_evolution.gif") as gif:
        assert gif.n_frames == MAX_FRAMES


def test_a_save_keeps_only_the_later_frames_in_memory(tmp_path_factory, tmp_path):
    """A run kept every frame in memory to its end: each save now writes the frames since
    the one before into the run's folder and forgets them, and the pictures choose among
    every frame, those written and those in memory, as they did."""
    from mlplab.plots.recorder import FRAMES_DIR

    moons = trained(tmp_path_factory, "moons", **MOONS)

    def predict(step):  # a model whose surface moves with the step
        return lambda X: moons.model_outputs(X * (1 + step / 50))

    whole = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    for step in range(200):
        for r in (whole, rec):
            r.capture(step, predict(step))
        if step % 70 == 69:
            rec.flush(tmp_path)
            assert rec.frames == [] and rec.saved == step + 1
    assert len(rec.frames) == 60 and len(rec.steps) == 200
    assert sorted(p.name for p in (tmp_path / FRAMES_DIR).iterdir()) == [
        "00000000.npz",
        "00000070.npz",
        "head.npz",
    ]
    np.testing.assert_array_equal(rec.changes(), whole.changes())
    drawn, alone = rec.for_drawing(), whole.for_drawing()
    assert drawn.steps == alone.steps
    for a, b in zip(drawn.frames, alone.frames, strict=True):
        np.testing.assert_array_equal(a, b)
    # What `mlplab plot` draws of the unfinished run: the frames written.
    kept = SnapshotRecorder.of_run(tmp_path)
    assert kept.steps == list(range(140))
    np.testing.assert_array_equal(list(kept.each_frame())[139], whole.frames[139])


def test_a_resume_takes_back_the_frames_to_its_step_and_removes_the_later_ones(
    tmp_path_factory, tmp_path
):
    from mlplab.plots.recorder import FRAMES_DIR

    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    for step in range(0, 50, 5):
        rec.capture(step, lambda X, s=step: moons.model_outputs(X * (1 + s / 50)))
        if step in (15, 40):
            rec.flush(tmp_path)  # frames 0-15, then 20-40
    again = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    again.restore(tmp_path, 30)  # a resume from step 30: frames 35 and 40 are past it
    assert again.steps == [0, 5, 10, 15, 20, 25, 30] and again.frames == []
    assert SnapshotRecorder.of_run(tmp_path).steps == again.steps
    again = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    again.restore(tmp_path, 10)  # an earlier checkpoint: the second file goes
    assert again.steps == [0, 5, 10]
    assert sorted(p.name for p in (tmp_path / FRAMES_DIR).iterdir()) == [
        "00000000.npz",
        "head.npz",
    ]
    assert SnapshotRecorder.of_run(tmp_path).steps == [0, 5, 10]


def test_a_binary_frame_draws_its_decision_boundary_where_it_has_one(tmp_path_factory):
    """As the surface plot does: P = 0.5 as a line. A frame near 0.5 everywhere (the
    untrained model, a plateau) is shaded too faintly to show its split without it; a
    constant frame draws none."""
    from matplotlib.contour import QuadContourSet

    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=20)
    rec.capture(0, lambda X: np.zeros((len(X), 1)))  # P = 0.5 everywhere: no boundary
    rec.capture(10, moons.model_outputs)
    fig = grid_figure(rec)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("step")]
    lines = [[c for c in ax.get_children() if isinstance(c, QuadContourSet)] for ax in panels]
    assert [len(found) for found in lines] == [0, 1]
    (boundary,) = lines[1]
    assert list(boundary.levels) == [0.5]


# Linear(2, 3): three regions meeting at (2.5, 0), inside the ring's plane.
W3 = np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
B3 = -W3 @ np.array([2.5, 0.0])


def _linear3(X: np.ndarray) -> np.ndarray:
    return X @ W3.T + B3


def _boundary_lines(fig) -> list[np.ndarray]:
    """The vertices of each snapshot panel's boundary lines, [n, 2] per panel."""
    from matplotlib.contour import ContourSet

    panels = [ax for ax in fig.axes if ax.get_title().startswith("step")]
    out = []
    for ax in panels:
        sets = [c for c in ax.get_children() if isinstance(c, ContourSet)]
        segs = [seg for cs in sets for level in cs.allsegs for seg in level]
        out.append(np.concatenate(segs) if segs else np.empty((0, 2)))
    return out


def _off_the_exact_boundary(vertices: np.ndarray) -> np.ndarray:
    """Each vertex's distance from the line where its two likeliest classes tie, for the
    vertices more than two grid cells from the point where all three meet."""
    z = _linear3(vertices)
    order = np.argsort(z, axis=1)
    rows = np.arange(len(z))
    first, second = order[:, -1], order[:, -2]
    off = (z[rows, first] - z[rows, second]) / np.linalg.norm(W3[first] - W3[second], axis=1)
    far = np.linalg.norm(vertices - [2.5, 0.0], axis=1) > 0.3
    return np.abs(off[far])


@pytest.fixture(scope="module")
def ring_rec(tmp_path_factory) -> SnapshotRecorder:
    """A constant model's frame, then a linear model's, over the ring's plane."""
    ring = trained(tmp_path_factory, "ring_snap", **{**RING, "epoch": 2})
    rec = SnapshotRecorder(ring.dataset, ring.spec)
    rec.capture(0, lambda X: np.zeros((len(X), 3)))  # class 0 everywhere: no boundary
    rec.capture(10, _linear3)
    return rec


def test_a_multiclass_frame_draws_its_class_boundaries_as_the_surface_plot(ring_rec):
    """Snapshots drew a boundary for binary tasks only. A multiclass frame draws each
    class's margin at 0, as the surface plot does: for a linear model, three straight
    lines on the exact ties (not a staircase of grid cells); a constant one, none."""
    const, linear = _boundary_lines(grid_figure(ring_rec))
    assert len(const) == 0
    off = _off_the_exact_boundary(linear)
    assert len(off) > 60 and off.max() < 1e-4, off.max()  # float32 frames


def test_a_saved_multiclass_snapshot_keeps_its_boundaries(ring_rec, tmp_path):
    """``mlplab plot RUN_DIR`` redraws from the file: the same lines. A file written
    before frames kept the lead draws the class regions' edges on the grid's cells."""
    import json

    ring_rec.save(tmp_path / "snap.npz")
    loaded = SnapshotRecorder.load(tmp_path / "snap.npz")
    drawn = _boundary_lines(grid_figure(loaded))
    np.testing.assert_allclose(drawn[1], _boundary_lines(grid_figure(ring_rec))[1])

    with np.load(tmp_path / "snap.npz") as z:
        old = dict(z)
    meta = json.loads(str(old["meta"]))
    old["meta"] = np.asarray(json.dumps({**meta, "frames": "class,probability"}))
    old["frames"] = old["frames"][..., :2]
    np.savez(tmp_path / "old.npz", **old)
    const, staircase = _boundary_lines(grid_figure(SnapshotRecorder.load(tmp_path / "old.npz")))
    assert len(const) == 0 and len(staircase) > 60
    assert _off_the_exact_boundary(staircase).max() > 0.01  # steps along the cells

    # Older still: every class's probability, no "frames" in the meta. Log-probabilities
    # differ as the logits do: the exact lines again.
    z = _linear3(np.column_stack([old["xx"].ravel(), old["yy"].ravel()]))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = (p / p.sum(axis=1, keepdims=True)).reshape(*old["xx"].shape, 3)
    old["meta"] = np.asarray(json.dumps({"info": meta["info"], "label": meta["label"]}))
    old["frames"] = np.stack([np.full_like(p, 1 / 3), p])
    np.savez(tmp_path / "older.npz", **old)
    const, linear = _boundary_lines(grid_figure(SnapshotRecorder.load(tmp_path / "older.npz")))
    assert len(const) == 0 and _off_the_exact_boundary(linear).max() < 1e-4


def test_the_animation_draws_each_frames_own_boundaries(ring_rec):
    """The GIF swaps the lines with the frame: the linear model's frame has them, the
    constant model's frame, drawn after it, has none left over."""
    from mlplab.plots.snapshots import gif_frames

    rec = copy.copy(ring_rec)
    rec.steps, rec.frames = [0, 10, 20], [*ring_rec.frames, ring_rec.frames[0]]
    frames = gif_frames(rec)
    h, w = frames[0].shape[:2]  # the axes: (0.12, 0.12) to (0.78, 0.86) of the figure
    inside = [f[int(0.15 * h) : int(0.87 * h), int(0.13 * w) : int(0.77 * w)] for f in frames]
    dark = [(f.sum(axis=-1) < 60).sum() for f in inside]
    assert dark[0] == dark[2] and dark[1] > dark[0] + 100, dark


def test_a_snapshot_file_whose_arrays_ask_for_more_than_it_holds_is_refused_unread(
    tmp_path_factory, tmp_path
):
    """mlplab writes its snapshot files unpacked: a frames file, or snapshots.npz, whose
    headers ask for 1 GiB from a few hundred bytes is a zip bomb, refused before anything
    is unpacked (`mlplab plot` names it as a damaged file)."""
    from conftest import write_npz_bomb
    from mlplab.plots.recorder import FRAMES_DIR, SNAPSHOT_FILE

    moons = trained(tmp_path_factory, "moons", **MOONS)
    rec = SnapshotRecorder(moons.dataset, moons.spec, grid_size=10)
    for step in range(5):
        rec.capture(step, moons.model_outputs)
    rec.flush(tmp_path)
    assert SnapshotRecorder.of_run(tmp_path).steps == list(range(5))
    write_npz_bomb(tmp_path / FRAMES_DIR / "00000000.npz", ("steps", "frames"))
    with pytest.raises(ValueError, match="would unpack into 2,147,483,648 bytes"):
        SnapshotRecorder.of_run(tmp_path)
    write_npz_bomb(tmp_path / SNAPSHOT_FILE, ("steps", "frames", "meta"))
    with pytest.raises(ValueError, match="would unpack into 3,221,225,472 bytes"):
        SnapshotRecorder.of_run(tmp_path)


def test_long_class_names_are_shortened_as_the_surface_has_them_and_stay_in_the_gif(ring_rec):
    """The GIF's colour bar cut four classes experimental_condition_alpha ... to their
    first 11 characters, 'experimenta', the same for all four, and its label was off the
    frame; the grid named them whole, unlike surface.png."""
    from matplotlib.colorbar import Colorbar

    from mlplab.plots.snapshots import gif_frames
    from mlplab.plots.titles import class_names

    rec = copy.copy(ring_rec)
    names = [f"experimental_condition_{w}" for w in ("alpha", "beta", "gamma")]
    rec.info = dataclasses.replace(ring_rec.info, class_names=names)
    shown = class_names(rec.info, 3)
    assert shown != names and len(set(shown)) == 3  # shortened, still apart
    fig = grid_figure(rec)
    (bar,) = [ax for ax in fig.axes if isinstance(getattr(ax, "_colorbar", None), Colorbar)]
    assert [t.get_text() for t in bar.get_yticklabels()] == shown
    last = gif_frames(rec)[-1]
    ink = last.astype(int).sum(axis=-1) < 3 * 160  # text and lines, not the background
    assert ink[:, -int(0.4 * last.shape[1]) :].any()  # the bar and its names ...
    assert not ink[:, -3:].any()  # ... end before the frame's right edge


def test_more_frames_than_a_run_keeps_are_refused_before_it_trains(run_cli, tmp_path):
    """`--snapshot_every 1` over a million steps kept every frame, in memory and on disk
    (12 MB a second), of which the animation shows 60: refused in one line, with the
    least snapshot_every that fits; as --print_run_dir and a sweep say it."""
    from mlplab.assemble import MAX_SNAPSHOT_FRAMES

    args = ["--data", "xor", "--epoch", "1000000", "--snapshot_every", "1",
            "--log_path", tmp_path]  # fmt: skip
    want = (
        "mlplab: setting 'snapshot_every': 1 would keep 1,000,001 frames of this run's "
        f"1,000,000 steps, more than the {MAX_SNAPSHOT_FRAMES:,} a run keeps (its animation "
        "shows 60 of them): give --snapshot_every 245 or more\n"
    )
    for command in (["train", *args], ["train", *args, "--print_run_dir"],
                    ["sweep", *args, "--lr", "0.1", "0.2"]):  # fmt: skip
        proc = run_cli(*command)
        assert (proc.returncode, proc.stderr) == (2, want), command
    assert not list(tmp_path.rglob("result.json"))
    # The least it names fits; and without plots no frames are kept, so none is refused.
    fits = run_cli("train", *args[:-4], "--snapshot_every", "245", "--print_run_dir",
                   "--log_path", tmp_path)  # fmt: skip
    assert fits.returncode == 0, fits.stderr
    plain = run_cli("train", *args, "--plots", "none", "--print_run_dir")
    assert plain.returncode == 0, plain.stderr
