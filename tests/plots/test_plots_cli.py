"""`mlplab plot RUN_DIR` redraws from the record; `mlplab plot activations`; bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from plots_testlib import XOR_NN, assert_image, trained

from conftest import assert_one_line_error, write_npz_bomb
from mlplab.engines.numpy.functional import ACTIVATIONS
from mlplab.plots.activations import activation_curves, activations_figure


def test_plot_redraws_identical_files_without_training(tmp_path_factory, run_cli):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    plots = xor.run_dir / "plots"
    before = {p.name: p.read_bytes() for p in plots.iterdir()}
    shutil.rmtree(plots)
    proc = run_cli("plot", xor.run_dir)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in plots.iterdir()) == sorted(before)
    for name, content in before.items():  # same model, same curves: the same bytes
        assert plots.joinpath(name).read_bytes() == content, name
    assert proc.stdout.split() == [str(plots / n) for n in xor.record["plot_files"]]
    assert "Traceback" not in proc.stderr


def test_plot_to_another_folder_as_svg(tmp_path_factory, tmp_path, run_cli):
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    proc = run_cli("plot", xor.run_dir, "--out", tmp_path / "svg", "--format", "svg")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == sorted(
        n.replace(".png", ".svg") for n in xor.record["plot_files"]
    )
    # Text stays text, which a paper's figure can edit and search: the title is there.
    svg = (tmp_path / "svg" / "loss.svg").read_text()
    assert "<text" in svg and "train" in svg


def test_plot_of_a_run_drawn_as_svg_redraws_svg(tmp_path, run_cli):
    """`mlplab plot RUN` of a run trained with --plots svg added png copies beside its svg
    pictures: --format's default was png, not the run's own format."""
    args = ("train", "--data", "xor", "--epoch", "20", "--plots", "svg", "--log_path", tmp_path)
    assert run_cli(*args).returncode == 0
    (plots,) = tmp_path.glob("exp/*/plots")
    before = sorted(p.name for p in plots.iterdir())
    assert before and all(n.endswith(".svg") for n in before)
    proc = run_cli("plot", plots.parent)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in plots.iterdir()) == before
    asked = run_cli("plot", plots.parent, "--format", "png", "--out", tmp_path / "png")
    assert asked.returncode == 0 and all(p.suffix == ".png" for p in (tmp_path / "png").iterdir())


def test_plot_of_a_run_without_checkpoints_draws_its_loss_from_the_record(
    tmp_path_factory, tmp_path, run_cli
):
    """Its checkpoints deleted to save room, a run's plot was one line and no picture,
    though its curves are in its record. A damaged or foreign checkpoint is still refused
    (tests/reliability/test_checkpoint_safety.py)."""
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    copy = tmp_path / "xor-run"
    shutil.copytree(xor.run_dir, copy)
    shutil.rmtree(copy / "checkpoints")
    proc = run_cli("plot", copy, "--out", tmp_path / "pictures")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path / "pictures" / "loss.png")]
    assert proc.stderr.startswith("mlplab: plot drew only the loss curves, from the record: ")
    assert "last.safetensors" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert_image(tmp_path / "pictures" / "loss.png")
    from mlplab.plots.commands import _data_of_record

    # What the picture is told of the data: the gate's one curve for its shared rows.
    info = _data_of_record(xor.record)
    assert (info.name, info.task, info.shared_splits) == ("xor", "binary", True)


def test_plot_bad_run_dir_is_one_line_exit_2(tmp_path, run_cli):
    assert_one_line_error(run_cli("plot", tmp_path / "nope"), "nope", "not a run directory")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_cli("plot", tmp_path / "empty"), "empty")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "result.json").write_text("{}")
    assert_one_line_error(run_cli("plot", tmp_path / "half"), "half")


def test_a_record_no_picture_can_be_drawn_from_says_so_in_one_line_each_and_exits_1(
    tmp_path, run_cli
):
    """A result.json whose test_acc was text: each picture failed as a Python warning of
    two lines (the source file and line of mlplab's code), and plot exited 0 with nothing
    drawn."""
    import json

    from mlplab import train

    # 16 hidden units: no network picture, the one picture that reads no test_acc.
    run = train(data="xor", epoch=3, hid_dim=16, verbose=False, log_path=str(tmp_path))
    run_dir = run.run_dir
    record = json.loads((run_dir / "result.json").read_text())
    assert "network.png" not in record["plot_files"]
    (run_dir / "result.json").write_text(json.dumps({**record, "test_acc": "abc"}))
    proc = run_cli("plot", run_dir, "--out", tmp_path / "pictures")
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == len(record["plot_files"]) + 1, proc.stderr
    for line, name in zip(lines, record["plot_files"], strict=False):
        assert line.startswith(f"mlplab: plot {name} failed (ValueError: ")
    assert lines[-1] == f"mlplab: plot drew no picture of {str(run_dir)!r}"
    assert not list((tmp_path / "pictures").glob("*"))


def test_a_picture_that_fails_among_drawn_ones_exits_1(tmp_path_factory, tmp_path, run_cli):
    """One picture that cannot be written (a full disk, or here a folder in its place)
    among others drawn: plot named it and exited 0, so `mlplab plot RUN || exit` went on
    as though every picture were there."""
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    out = tmp_path / "pictures"
    (out / "surface.png").mkdir(parents=True)
    proc = run_cli("plot", xor.run_dir, "--out", out)
    assert proc.returncode == 1, proc.stderr
    others = [n for n in xor.record["plot_files"] if n != "surface.png"]
    assert "surface.png" in xor.record["plot_files"] and others
    assert proc.stdout.split() == [str(out / n) for n in others]
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("mlplab: plot surface.png failed (IsADirectoryError: ")
    total = len(xor.record["plot_files"])
    assert lines[-1] == (
        f"mlplab: plot drew {total - 1} of the {total} pictures of {str(xor.run_dir)!r}"
    )
    assert len(lines) == 2 and (out / "surface.png").is_dir()


def test_plot_of_a_data_file_says_it_is_a_file(tmp_path, run_cli):
    data = tmp_path / "rows.csv"
    data.write_text("a,b,y\n1,2,0\n")
    line = assert_one_line_error(
        run_cli("plot", data), "rows.csv", "not a run directory (it is a file)", "activations"
    )
    assert "does not exist" not in line
    assert data.read_text() == "a,b,y\n1,2,0\n"


def test_plot_activations_draws_one_panel_each(tmp_path, run_cli):
    proc = run_cli("plot", "activations", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_image(tmp_path / "plots" / "activations.png")
    fig = activations_figure()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title().split(" (")[0] for ax in panels]
    assert titles == list(ACTIVATIONS)
    # leaky_relu looks like relu at this scale: its title names the slope below 0.
    assert panels[titles.index("leaky_relu")].get_title() == "leaky_relu (slope 0.01 for z < 0)"
    for ax in panels:
        assert len(ax.get_lines()) >= 2 and ax.get_legend() is not None

    # A derivative that jumps is not drawn as a vertical line at the jump: relu's has one
    # gap at z = 0; tanh's, smooth, has none.
    def derivative(name: str) -> np.ndarray:
        (line,) = [ln for ln in panels[titles.index(name)].get_lines() if ln.get_label() == "f′(z)"]
        return np.asarray(line.get_ydata(), dtype=float)

    assert np.isnan(derivative("relu")).sum() == 1
    assert not np.isnan(derivative("tanh")).any()


def test_activation_curves_come_from_the_engine_table():
    z, curves = activation_curves(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_allclose(curves["relu"][0], [0, 0, 2])
    np.testing.assert_allclose(curves["relu"][1], [0, 0, 1])  # relu'(0) = 0, as torch
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(curves["sigmoid"][1], s * (1 - s))


def test_plot_redraws_the_snapshot_animation_from_the_kept_frames(tmp_path_factory, run_cli):
    snap = trained(tmp_path_factory, "xor_snap", **{**XOR_NN, "epoch": 300, "snapshot_every": 20})
    plots = snap.run_dir / "plots"
    names = snap.record["snapshots"]
    assert names == ["boundary_evolution.gif", "boundary_evolution.png"]
    assert (snap.run_dir / "snapshots.npz").is_file()
    before = {n: (plots / n).read_bytes() for n in names}
    shutil.rmtree(plots)
    proc = run_cli("plot", snap.run_dir)
    assert proc.returncode == 0, proc.stderr
    for name, content in before.items():  # the same frames: the same bytes
        assert (plots / name).read_bytes() == content, name
    assert proc.stdout.split()[-2:] == [str(plots / n) for n in names]


@pytest.mark.parametrize("damage", ["text", "zip bomb"])
def test_plot_with_a_damaged_snapshot_file_is_one_line_exit_2_and_draws_nothing(
    tmp_path_factory, run_cli, damage
):
    snap = trained(tmp_path_factory, "xor_snap", **{**XOR_NN, "epoch": 300, "snapshot_every": 20})
    frames = snap.run_dir / "snapshots.npz"
    kept = frames.read_bytes()
    out = tmp_path_factory.mktemp("out")
    try:
        if damage == "text":
            frames.write_text("not a snapshot file")
        else:  # its arrays ask for 2 GiB: refused unread, as damaged
            write_npz_bomb(frames, ("steps", "frames"))
        proc = run_cli("plot", snap.run_dir, "--out", out)
    finally:
        frames.write_bytes(kept)
    assert_one_line_error(proc, "snapshots.npz")
    assert list(out.iterdir()) == []


def test_plot_of_an_unfinished_run_draws_the_frames_its_checkpoints_wrote(
    tmp_path_factory, tmp_path, run_cli
):
    """A run stopped before its end has its frames in snapshot_frames/, a file per
    checkpoint: plot draws them as the finished run's file; a damaged one is one line."""
    from mlplab.plots.recorder import FRAMES_DIR, SnapshotRecorder

    snap = trained(tmp_path_factory, "xor_snap", **{**XOR_NN, "epoch": 300, "snapshot_every": 20})
    run_dir = tmp_path / "run"
    shutil.copytree(snap.run_dir, run_dir, ignore=shutil.ignore_patterns("plots"))
    rec = SnapshotRecorder.load(run_dir / "snapshots.npz")
    (run_dir / "snapshots.npz").unlink()
    frames = rec.frames
    rec.frames = frames[:5]  # as two checkpoints wrote them
    rec.flush(run_dir)
    rec.frames = frames[5:]
    rec.flush(run_dir)
    proc = run_cli("plot", run_dir, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    for name in snap.record["snapshots"]:  # the same frames: the same bytes
        assert (tmp_path / "out" / name).read_bytes() == (
            snap.run_dir / "plots" / name
        ).read_bytes()
    (run_dir / FRAMES_DIR / "00000005.npz").write_text("not frames")
    (tmp_path / "again").mkdir()
    proc = run_cli("plot", run_dir, "--out", tmp_path / "again")
    assert_one_line_error(proc, FRAMES_DIR)
    assert list((tmp_path / "again").iterdir()) == []


def test_plot_takes_activations_as_the_switch_people_guess(tmp_path, run_cli):
    """`mlplab plot --activations` was "the following arguments are required:
    RUN_DIR|activations"; it draws them, and a plot with neither names both forms."""
    proc = run_cli("plot", "--activations", "--out", tmp_path / "act", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_image(tmp_path / "act" / "activations.png")
    assert_one_line_error(run_cli("plot", cwd=tmp_path), "give a RUN_DIR", "--activations")
    assert_one_line_error(
        run_cli("plot", tmp_path, "--activations", cwd=tmp_path), "or --activations, not both"
    )


def test_plot_checkpoint_best_draws_the_best_model_with_its_own_test_metrics(tmp_path, run_cli):
    """An overfit run's pictures showed only its last model, titled with the record's
    metrics: the best checkpoint, which `predict --checkpoint best` uses, had no picture."""
    import mlplab
    from mlplab.restore import load_run
    from mlplab.training.metrics import split_metrics

    res = mlplab.train(
        data="moons", n_samples=80, noise=0.8, n_layer=2, hid_dim=64, optim="adam", lr=0.02,
        epoch=200, validate_every=10, log_every=0, plots="none", verbose=False,
        log_path=str(tmp_path / "runs"),
    )  # fmt: skip
    best_epoch = res.record["best_epoch"]
    assert best_epoch < 200 and res.record["val_loss"] > 2 * res.record["best_val_loss"]
    proc = run_cli("plot", res.run_dir, "--checkpoint", "best", "--format", "svg")
    assert proc.returncode == 0, proc.stderr
    out = res.run_dir / "plots-best"
    assert proc.stdout.split() == [
        str(out / n) for n in ("loss.svg", "surface.svg", "confusion.svg")
    ]
    best = load_run(res.run_dir, which="best")
    acc = split_metrics("binary", best.dataset.y_test, best.model_outputs(best.dataset.X_test))
    title = f"best model (epoch {best_epoch}), test acc {acc['acc']:.3f}"
    assert title in (out / "surface.svg").read_text()
    # The last model's pictures are another model's: drawn where they were, titled as before.
    assert run_cli("plot", res.run_dir, "--format", "svg").returncode == 0
    last = (res.run_dir / "plots" / "surface.svg").read_text()
    assert "best model" not in last and f"test acc {res.record['test_acc']:.3f}" in last
    # No best checkpoint: one line, nothing drawn in its place.
    (res.run_dir / "checkpoints" / "best.safetensors").unlink()
    shutil.rmtree(out)
    gone = run_cli("plot", res.run_dir, "--checkpoint", "best")
    assert_one_line_error(gone, "best.safetensors")
    assert not out.exists()
    assert_one_line_error(
        run_cli("plot", "activations", "--checkpoint", "best"), "--checkpoint", "activations"
    )
    from mlplab.plots.titles import DRAWN_CHECKPOINT, metric_text

    # A record without a best epoch (edited by hand) names no "epoch None".
    assert metric_text({DRAWN_CHECKPOINT: "best", "test_acc": 0.5}, "binary") == (
        "best model, test acc 0.500"
    )
    # A network small enough to draw says whose weights it shows, as the titles do.
    gate = mlplab.train(data="xor", n_layer=1, hid_dim=2, epoch=600, validate_every=1,
                        log_every=0, plots="none", verbose=False, log_path=str(tmp_path / "g"))  # fmt: skip
    (gate.run_dir / "curves.npz").unlink()  # result.json's points alone: said so
    shown = run_cli("plot", gate.run_dir, "--checkpoint", "best", "--format", "svg")
    assert shown.returncode == 0, shown.stderr
    assert "drew the curves from result.json's" in shown.stderr
    drawn = (gate.run_dir / "plots-best" / "network.svg").read_text()
    assert f"best model (epoch {gate.record['best_epoch']}): 9 parameters" in drawn


def test_plot_does_not_write_through_a_linked_plots_folder(tmp_path_factory, tmp_path, run_cli):
    """A run folder handed over with `plots` a link: `mlplab plot RUN` replaced the files of
    that name (loss.png, ...) in the folder the link named."""
    xor = trained(tmp_path_factory, "xor", **XOR_NN)
    copy = tmp_path / "xor-run"
    shutil.copytree(xor.run_dir, copy)
    shutil.rmtree(copy / "plots")
    victim = tmp_path / "mine"
    victim.mkdir()
    (victim / "loss.png").write_text("my own notes")
    (copy / "plots").symlink_to(victim, target_is_directory=True)
    assert_one_line_error(run_cli("plot", copy), "plots", "is a link", "--out")
    assert (victim / "loss.png").read_text() == "my own notes"
    assert sorted(p.name for p in victim.iterdir()) == ["loss.png"]
    proc = run_cli("plot", copy, "--out", tmp_path / "pictures")  # the way out it names
    assert proc.returncode == 0, proc.stderr


def test_plot_activations_out_with_a_picture_name_writes_that_file(tmp_path, run_cli):
    """`mlplab plot activations --out act.png` made a folder named act.png; it writes the
    picture there, in the format its name gives. A run's plots, several files, refuse a
    picture name in one line rather than make such a folder."""
    proc = run_cli("plot", "activations", "--out", "act.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "act.png").is_file() and proc.stdout.strip() == "act.png"
    assert_image(tmp_path / "act.png")
    proc = run_cli("plot", "activations", "--out", "figs/act.svg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "figs" / "act.svg").read_text().lstrip().startswith("<?xml")
    assert_one_line_error(
        run_cli("plot", "activations", "--out", "a.png", "--format", "svg", cwd=tmp_path),
        "--out 'a.png' is a .png file but --format is svg",
    )
    assert not (tmp_path / "a.png").exists()
    (tmp_path / "run").mkdir()
    assert_one_line_error(
        run_cli("plot", "run", "--out", "loss.png", cwd=tmp_path), "give --out a folder"
    )
    assert not (tmp_path / "loss.png").exists()
    # A picture of a format not drawn (.jpg, .pdf) was made a folder of that name too.
    for target, name in (("activations", "act.jpg"), ("run", "figs.PDF")):
        assert_one_line_error(
            run_cli("plot", target, "--out", name, cwd=tmp_path),
            f"--out '{name}' names a {Path(name).suffix.lower()} picture; mlplab draws .png or .svg",
        )
        assert not (tmp_path / name).exists()
    # A trailing slash asks for a folder, whatever its name.
    proc = run_cli("plot", "activations", "--out", "act.pdf/", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "act.pdf" / "activations.png").is_file()


def test_plot_draws_a_regressions_residuals_and_its_help_names_them(tmp_path, run_cli):
    """A regression run's residuals (true - predicted against predicted) are among the
    pictures `mlplab plot` redraws, one panel per target, as training draws them."""
    import mlplab

    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (120, 2))
    rows = "\n".join(f"{a:.5f},{b:.5f},{a * b:.5f},{100 * (a + b):.5f}" for a, b in x)
    (tmp_path / "two.csv").write_text("a,b,small,large\n" + rows + "\n")
    run = mlplab.train(data=str(tmp_path / "two.csv"), target=["small", "large"], epoch=5,
                       engine="numpy", log_every=0, plots="none", verbose=False,
                       log_path=str(tmp_path / "runs"))  # fmt: skip
    proc = run_cli("plot", run.run_dir)
    assert proc.returncode == 0, proc.stderr
    assert str(run.run_dir / "plots" / "residuals.png") in proc.stdout.split()
    assert_image(run.run_dir / "plots" / "residuals.png")
    from mlplab.plots.run_plots import run_figures

    fig = run_figures(run.record, run.dataset, run.model_outputs, run.spec)["residuals"]()
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "residual: true - predicted small",
        "residual: true - predicted large",
    ]
    helped = " ".join(run_cli("plot", "--help").stdout.split())
    assert "pred_vs_true and residuals (true - predicted against predicted" in helped
