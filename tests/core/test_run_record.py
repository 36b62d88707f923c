"""The run record: result.json in the lectures' format, metrics.csv, TensorBoard, checkpoints."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

import mlplab
from conftest import EXAMPLES
from mlplab.config import Config
from mlplab.runs.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    log = tmp_path_factory.mktemp("runs")
    res = mlplab.train(
        data="ring",
        n_samples=600,
        n_layer=1,
        hid_dim=16,
        optim="adam",
        lr=0.01,
        epoch=12,
        batch_size=64,
        validate_every=2,
        log_every=0,
        log_path=str(log),
        exp_name="rec",
        plots="none",
        verbose=False,
        engine="torch",
    )
    return res


def test_result_json_holds_settings_and_results(ring_run):
    r = json.loads((ring_run.run_dir / "result.json").read_text())
    for name in Config.model_fields:  # every setting but where the record lies
        assert (name in r) == (name != "log_path"), name
    for key in (
        "train_losses",
        "val_losses",
        "train_accs",
        "val_accs",
        "train_acc",
        "val_acc",
        "test_acc",
        "train_bacc",
        "val_bacc",
        "test_bacc",
        "train_f1",
        "val_f1",
        "test_f1",
        "train_loss",
        "val_loss",
        "test_loss",
        "wall_time_s",
        "status",
    ):
        assert key in r, key
    assert r["status"] == "finished"
    # The curves are taken at each validation, and all aligned with val_epochs.
    assert r["val_epochs"] == [2, 4, 6, 8, 10, 12]
    for curve in ("train_losses", "val_losses", "train_accs", "val_accs", "lrs"):
        assert len(r[curve]) == 6, curve
    assert len(r["val_losses"]) == len(r["val_accs"]) == 6
    assert ring_run.run_dir.name == f"rec-{r['run_id'].split('-')[-1]}"
    assert yaml.safe_load((ring_run.run_dir / "config.yaml").read_text())["hid_dim"] == 16


def test_metrics_csv_matches_curves(ring_run):
    with (ring_run.run_dir / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    r = ring_run.record
    assert [float(x["train_loss"]) for x in rows] == pytest.approx(r["train_losses"])
    assert [float(x["val_loss"]) for x in rows if x["val_loss"]] == pytest.approx(r["val_losses"])
    # Every column, each from its own curve: a train_acc column of the val_accs passed.
    assert [float(x["lr"]) for x in rows] == pytest.approx(r["lrs"])
    for column, curve in (("train_acc", "train_accs"), ("val_acc", "val_accs")):
        assert r[curve] != r["val_accs" if curve == "train_accs" else "train_accs"]
        assert [float(x[column]) for x in rows if x[column]] == pytest.approx(r[curve]), column


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    """A write cut short (a full disk, a crash of the writer) kept no half file and no
    '.NAME.*.tmp' beside it; no test had made a write fail."""
    import errno

    from mlplab.runs.atomic import atomic_open, atomic_write_json, atomic_write_text

    path = tmp_path / "result.json"
    atomic_write_json(path, {"status": "finished", "epochs_run": 3})
    before = path.read_bytes()
    with pytest.raises(OSError) as err, atomic_open(path) as f:
        f.write('{"status": ')
        f.flush()  # half a record on disk, somewhere
        raise OSError(errno.ENOSPC, "No space left on device")
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["result.json"]
    atomic_write_text(path, "new")  # and a write that does not fail replaces it whole
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["result.json"]


def test_tensorboard_events_read_back(ring_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(ring_run.run_dir))
    ea.Reload()
    tags = ea.Tags()["scalars"]
    assert "train/loss" in tags and "val/loss" in tags and "val/acc" in tags
    assert [e.value for e in ea.Scalars("val/loss")] == pytest.approx(
        ring_run.record["val_losses"], rel=1e-6
    )
    for name in ("test_acc", "test_bacc", "val_f1"):
        assert ea.Scalars(f"hparam/{name}")[0].value == pytest.approx(ring_run.record[name])
    assert "_hparams_/session_start_info" in ea.PluginTagToContent("hparams")
    assert session_status(ring_run.run_dir) == "STATUS_SUCCESS"


def test_tensorboard_has_the_learning_rate_of_each_validation(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    res = mlplab.train(
        data="xor",
        epoch=20,
        lr=0.5,
        lr_schedule="cosine",
        plots="none",
        verbose=False,
        log_path=str(tmp_path),
    )
    ea = EventAccumulator(str(res.run_dir))
    ea.Reload()
    lrs = [(e.step, e.value) for e in ea.Scalars("train/lr")]
    r = res.record
    assert len(set(r["lrs"])) > 5  # the schedule moves it
    assert lrs == [(e, pytest.approx(lr, rel=1e-6)) for e, lr in zip(r["val_epochs"], r["lrs"])]


def test_tensorboard_keeps_the_early_curve_of_a_run_stopped_long_before_its_epochs(tmp_path):
    """Points were thinned by the planned epochs alone: a run planned for 10 million
    epochs and stopped at a few hundred had no train or val points at all."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    res = mlplab.train(
        data="moons", epoch=10**7, patience=3, min_delta=0.01, lr=0.05, plots="none", log_every=0,
        verbose=False, log_path=str(tmp_path),
    )  # fmt: skip
    ran = res.record["epochs_run"]
    assert res.record["stopped_early"] and 10 < ran < 10**5
    ea = EventAccumulator(str(res.run_dir), size_guidance={"scalars": 0})
    ea.Reload()
    epochs = [e.step for e in ea.Scalars("val/loss")]
    assert epochs[:3] == [1, 2, 3] and 10 <= len(epochs) <= ran
    assert epochs[-1] > ran / 2
    # Thinned by validations, not epochs: the lab's 101 validations (every 100 epochs of
    # 10,001) all show; by epochs, 11 of them fell between the strides.
    lab = mlplab.train(
        mlplab.load_config(EXAMPLES / "xor_nn.yaml", {"plots": "none", "log_every": 0}),
        verbose=False, log_path=str(tmp_path / "lab"),
    )  # fmt: skip
    ea = EventAccumulator(str(lab.run_dir), size_guidance={"scalars": 0})
    ea.Reload()
    assert [e.step for e in ea.Scalars("val/loss")] == lab.record["val_epochs"]
    assert len(lab.record["val_epochs"]) == 101


def session_status(run_dir) -> str:
    """The HParams dashboard's status of the run in ``run_dir``, read back by TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    ea = EventAccumulator(str(run_dir))
    ea.Reload()
    content = ea.PluginTagToContent("hparams")["_hparams_/session_end_info"]
    end = plugin_data_pb2.HParamsPluginData.FromString(content).session_end_info
    return api_pb2.Status.Name(end.status)


def session_hparams(run_dir) -> dict:
    """The HParams dashboard's settings of the run in ``run_dir``, read back by TensorBoard."""
    from google.protobuf.json_format import MessageToDict
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    ea = EventAccumulator(str(run_dir))
    ea.Reload()
    content = ea.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {k: MessageToDict(v) for k, v in start.hparams.items()}


def test_hparams_show_what_the_run_resolved_not_auto(tmp_path):
    """task, standardize, engine and device given as `auto` show as the run took them, so
    that HParams can tell binary runs from multiclass ones, and numpy runs from torch."""
    res = mlplab.train(data="iris", epoch=2, plots="none", verbose=False,
                       log_path=str(tmp_path))  # fmt: skip
    assert res.config.task == res.config.standardize == res.config.device == "auto"
    shown = session_hparams(res.run_dir)
    assert shown["task"] == "multiclass" and shown["task"] == res.record["task_type"]
    assert shown["standardize"] is True and res.record["standardized"]
    assert shown["engine"] == res.record["engine_used"]
    assert shown["device"] == "cpu"


def test_hparams_tell_apart_runs_that_differ_in_a_list_setting(tmp_path):
    """Runs that ignored other columns (an ablation) were one row of HParams, their
    scores averaged as a config's seeds: list settings were left out."""
    rows = "x1,x2,x3,y\n" + "".join(f"{i % 7},{i % 5},{i % 3},{i % 2}\n" for i in range(60))
    (tmp_path / "t.csv").write_text(rows)
    kw = dict(epoch=2, plots="none", verbose=False, log_path=str(tmp_path / "runs"))
    runs = [mlplab.train(data=str(tmp_path / "t.csv"), ignore=[c], **kw) for c in ("x1", "x3")]
    shown = [session_hparams(run.run_dir) for run in runs]
    assert [s["ignore"] for s in shown] == ["x1", "x3"]


def test_a_diverged_run_is_a_failure_in_the_hparams_dashboard(tmp_path):
    res = mlplab.train(
        data="moons",
        n_samples=200,
        n_layer=1,
        hid_dim=8,
        lr=1e6,
        epoch=20,
        log_every=0,
        log_path=str(tmp_path),
        plots="none",
        verbose=False,
    )
    assert res.status == "diverged"
    assert session_status(res.run_dir) == "STATUS_FAILURE"


def test_checkpoints_rebuild_the_model(ring_run):
    from mlplab.restore import load_run

    for which in ("last", "best"):
        ck = load_checkpoint(ring_run.run_dir / "checkpoints" / f"{which}.safetensors")
        assert ck.meta["config"]["hid_dim"] == 16 and ck.meta["spec"]["out_dim"] == 3
    loaded = load_run(ring_run.run_dir)
    X = ring_run.dataset.X_test
    np.testing.assert_allclose(loaded.model_outputs(X), ring_run.model_outputs(X), rtol=1e-6)


def test_same_config_and_seed_give_identical_metrics(tmp_path):
    kw = dict(
        data="moons",
        n_layer=2,
        hid_dim=8,
        optim="sgd",
        mm=0.9,
        lr=0.05,
        dp_rate=0.1,
        epoch=15,
        batch_size=32,
        log_every=0,
        plots="none",
        verbose=False,
        engine="torch",
    )
    a = mlplab.train(log_path=str(tmp_path / "a"), **kw).record
    b = mlplab.train(log_path=str(tmp_path / "b"), **kw).record
    for k in ("train_losses", "val_losses", "test_acc", "test_loss"):
        assert a[k] == b[k], k
    c = mlplab.train(log_path=str(tmp_path / "c"), seed=1, **kw).record
    assert c["train_losses"] != a["train_losses"]


def test_the_record_says_what_the_data_became(tmp_path):
    """result.json kept 'standardize: auto' and 'split: null' as given: a reader could not
    tell whether the features were scaled or how many rows each split had."""
    rows = "".join(f"{i * 100},{i % 7},{'yes' if i % 3 else 'no'}\n" for i in range(53))
    (tmp_path / "t.csv").write_text("a,b,y\n" + rows)
    res = mlplab.train(data=str(tmp_path / "t.csv"), epoch=2, plots="none", verbose=False,
                       log_path=str(tmp_path / "runs"))  # fmt: skip
    rec = json.loads((res.run_dir / "result.json").read_text())
    assert rec["standardize"] == "auto" and rec["split"] is None  # the settings, as given
    assert (rec["n_train"], rec["n_val"], rec["n_test"]) == (42, 5, 6)  # 53 rows, 0.8 0.1 0.1
    assert rec["n_features"] == 2 and rec["standardized"] is True
    assert (rec["n_train"], rec["n_val"]) == (len(res.dataset.y_train), len(res.dataset.y_val))
    gate = mlplab.train(data="xor", epoch=2, plots="none", verbose=False,
                        log_path=str(tmp_path / "runs"))  # fmt: skip
    rec = json.loads((gate.run_dir / "result.json").read_text())
    assert (rec["n_train"], rec["n_val"], rec["n_test"], rec["standardized"]) == (4, 4, 4, False)


def test_a_damaged_curves_file_is_named_in_one_line(run_cli, tmp_path):
    """A truncated curves.npz: read_curves raised zipfile's BadZipFile, `mlplab plot` drew
    result.json's thinned curves with no word, and the same config again gave a traceback."""
    from mlplab.errors import CheckpointError
    from mlplab.runs.curves import read_curves

    args = ["--data", "xor", "--epoch", "300", "--log_every", "0", "--plots", "none"]
    assert run_cli("train", *args, "--log_path", tmp_path / "runs").returncode == 0
    (run_dir,) = [p.parent for p in (tmp_path / "runs").rglob("curves.npz")]
    whole = (run_dir / "curves.npz").read_bytes()
    (run_dir / "curves.npz").write_bytes(whole[:500])
    with pytest.raises(CheckpointError, match=r"curves\.npz' cannot be read .*: it is damaged"):
        read_curves(run_dir)
    proc = run_cli("plot", run_dir, "--out", tmp_path / "pictures")
    assert proc.returncode == 0, proc.stderr
    assert "curves.npz does not hold every point (missing or damaged)" in proc.stderr
    assert (tmp_path / "pictures" / "loss.png").is_file()
    proc = run_cli("train", *args, "--log_path", tmp_path / "runs")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "holds this config's finished run, but" in proc.stderr and "--rerun" in proc.stderr
    assert (run_dir / "curves.npz").read_bytes() == whole[:500]  # nothing rewritten


def test_a_switch_of_the_python_api_takes_true_or_false(tmp_path, capsys):
    """`rerun="false"` is a non-empty string, so true: it trained again and replaced a
    finished run; `verbose="false"` printed."""
    from mlplab.errors import ConfigError

    log = str(tmp_path / "runs")
    first = mlplab.train(data="xor", epoch=2, plots="none", log_path=log, verbose=False)
    before = (first.run_dir / "result.json").read_bytes()
    capsys.readouterr()
    calls = [
        ("train", lambda: mlplab.train(data="xor", epoch=2, log_path=log, rerun="false")),
        ("train", lambda: mlplab.train(data="xor", epoch=2, log_path=log, verbose="false")),
        ("train", lambda: mlplab.train(data="xor", log_path=log, handle_signals="no")),
        ("sweep", lambda: mlplab.sweep(data="xor", epoch=2, log_path=log, report=0)),
        ("report", lambda: mlplab.report(log, verbose="false")),
    ]
    for where, call in calls:
        with pytest.raises(ConfigError, match=rf"^{where}: \w+= takes True or False, not "):
            call()
    assert (first.run_dir / "result.json").read_bytes() == before
    assert capsys.readouterr().out == ""
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["exp"]


@pytest.mark.parametrize("resume", ["", "  ", 5])
def test_resume_of_the_python_api_is_a_path_that_is_not_empty(
    resume, tmp_path, monkeypatch, capsys
):
    """train(resume="") read the current folder as the run to continue (`mlplab train
    --resume ''` is refused); backprop's resume too."""
    from mlplab.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    said = (
        "= takes a path, not 5 [(]int[)]$"
        if resume == 5
        else f"={resume!r} is an? (empty|blank) path.*; give a run's folder, e.g. "
    )
    for where, call in (("train", mlplab.train), ("backprop", mlplab.backprop)):
        with pytest.raises(ConfigError, match=rf"^{where}: resume{said}"):
            call(resume=resume)
    assert capsys.readouterr().out == ""
    assert list(tmp_path.iterdir()) == []


def test_the_path_a_log_path_names_keeps_the_up_of_a_link(tmp_path, monkeypatch):
    """Only a missing folder's `..` is taken out: a link's leads to its target's parent."""
    from pathlib import Path

    from mlplab.runs.record import up_from_missing

    monkeypatch.chdir(tmp_path)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    Path("link").symlink_to(tmp_path / "deep" / "er")
    assert up_from_missing(Path("link/sub/../../m")) == (Path("link/../m"), Path("link/sub"))
    assert up_from_missing(Path("deep/new/more/../../x")) == (Path("deep/x"), Path("deep/new/more"))
    # The folder the link leads up to is deep/, not the current one: the same place.
    assert Path("link/..").resolve() == tmp_path / "deep"
    for made in ("link/../m", "deep/../x", "/..", "../a"):
        assert up_from_missing(Path(made)) is None


def test_a_config_yaml_edited_by_hand_is_named_so_not_a_shared_run_id(run_cli, tmp_path):
    """hid_dim 4 -> 5 in a run's config.yaml was told it was another config sharing the
    run's 6-hex id, with advice (another --exp_name) that did not fit."""
    args = ["train", "--data", "xor", "--hid_dim", "4", "--epoch", "3", "--plots", "none"]
    args += ["--log_path", str(tmp_path)]
    assert run_cli(*args).returncode == 0
    (config,) = tmp_path.rglob("config.yaml")
    config.write_text(config.read_text().replace("hid_dim: 4", "hid_dim: 5"))
    proc = run_cli(*args)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "config.yaml' is not its run's config: it says hid_dim 5" in proc.stderr
    assert "6 hex digits" not in proc.stderr


# Two configs whose run ids (6 hex digits of a sha1) are the same: a real pair.
TWINS = [
    ["--data", "xor", "--epoch", "3", "--lr", lr, "--exp_name", "col", "--log_every", "0",
     "--plots", "none"]
    for lr in ("3.419", "5.137")
]  # fmt: skip


def test_a_random_sample_whose_run_id_an_earlier_sample_has_trains_under_8_digits(
    run_cli, tmp_path
):
    """Random samples meet a twin's run id about once in 6,000 trials, and no --exp_name
    parts them: every random search of more trials was refused; then the later sample was
    left out."""
    proc = run_cli(
        "sweep", "--data", "xor", "--epoch", "3", "--search", "random", "--trials", "6",
        "--lr", "choice:3.419:5.137", "--plots", "none", "--workers", "1", "--no_report",
        "--log_path", tmp_path / "runs",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lrs = {json.loads(r.read_text())["lr"] for r in (tmp_path / "runs").rglob("result.json")}
    assert lrs == {3.419, 5.137}
    assert sorted(len(p.name) for p in (tmp_path / "runs" / "exp").glob("exp-*")) == [10, 12]


def test_twin_run_ids_take_8_hex_digits_and_never_share_a_folder(run_cli, tmp_path):
    """lr 5.137 was told that lr 3.419's finished run was its own, and kept it; then it was
    refused with advice (another --exp_name) that split one experiment in two. A grid of
    6,480 configs holds such a pair about 7 times in 10, and was refused before training."""
    from mlplab.config import Config

    a, b = (Config(data="xor", epoch=3, lr=float(lr)) for lr in ("3.419", "5.137"))
    assert a.run_hash() == b.run_hash() and a.run_digest() != b.run_digest()
    log = ["--log_path", tmp_path / "runs"]
    assert run_cli("train", *TWINS[0], *log).returncode == 0
    (result,) = (tmp_path / "runs").rglob("result.json")
    before = result.read_bytes()
    where = run_cli("train", *TWINS[1], *log, "--print_run_dir").stdout.strip()
    proc = run_cli("train", *TWINS[1], *log)
    assert proc.returncode == 0, proc.stderr
    twin = result.parent.parent / f"{result.parent.name}{b.run_digest()[6:8]}"
    assert where == str(twin) and f"-> {twin}" in proc.stdout
    assert json.loads((twin / "result.json").read_text())["lr"] == 5.137
    assert "id_digits: 8" in (twin / "config.yaml").read_text()
    assert result.read_bytes() == before
    for args in TWINS:  # each config finds its own run again, under its own id
        assert "it is kept" in run_cli("train", *args, *log).stdout
    # One sweep of both: the later takes 8 digits, and both train.
    proc = run_cli(
        "sweep", "--data", "xor", "--epoch", "3", "--lr", "3.419", "5.137", "--exp_name", "s",
        "--plots", "none", "--workers", "1", "--log_path", tmp_path / "sweep",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "sweep" / "s").glob("s-*"))
    assert names == [f"s-{a.run_hash()}", f"s-{b.run_digest()[:8]}"]
    # A sweep over the folder of the first two: each finds its own run, skipped.
    proc = run_cli(
        "sweep", "--data", "xor", "--epoch", "3", "--lr", "5.137", "3.419", "0.1",
        "--exp_name", "col", "--plots", "none", "--workers", "1", *log,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 trained, 2 skipped" in proc.stdout and result.read_bytes() == before
    summary = (tmp_path / "runs" / "col" / "summary.csv").read_text().splitlines()
    assert summary[0].split(",")[2:4] == ["rank", "lr"] and "id_digits" not in summary[0]
    assert len(summary) == 4  # the twins and lr 0.1, each a config of its own
    # The 6-digit twin's run removed (a clean-up): the other is still found at 8 digits.
    shutil.rmtree(result.parent)
    assert run_cli("train", *TWINS[1], *log, "--print_run_dir").stdout.strip() == str(twin)
    assert "it is kept" in run_cli("train", *TWINS[1], *log).stdout
    # The most digits a run id takes: 12, the run's lock byte being the id read as hex.
    widest = run_cli("train", *TWINS[0], *log, "--id_digits", "12")
    assert widest.returncode == 0 and f"col-{a.run_digest()[:12]}" in widest.stdout
    too_wide = run_cli("train", *TWINS[0], *log, "--id_digits", "16")
    assert too_wide.returncode == 2 and "id_digits" in too_wide.stderr
    assert "Traceback" not in too_wide.stderr and len(too_wide.stderr.splitlines()) == 1


def test_a_run_replaced_in_its_folder_removes_a_link_there_not_what_it_names(tmp_path):
    """A diverged run's folder is emptied for the new run: a linked folder in it (a run
    folder handed over) stopped that half-way, with a line that the same command would
    continue it, which failed the same way."""
    kw = dict(data="moons", n_samples=100, lr=1e6, epoch=5, log_every=0, plots="png",
              verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    first = mlplab.train(**kw)
    assert first.status == "diverged"
    victim = tmp_path / "mine"
    (victim / "sub").mkdir(parents=True)
    (victim / "sub" / "important.txt").write_text("keep")
    (first.run_dir / "extra").symlink_to(victim, target_is_directory=True)
    again = mlplab.train(**kw)
    assert again.run_dir == first.run_dir and again.status == "diverged"
    assert (victim / "sub" / "important.txt").read_text() == "keep"
    assert not (first.run_dir / "extra").exists() and not (first.run_dir / "extra").is_symlink()


def test_a_resumed_run_draws_into_its_own_plots_folder_not_through_a_link(tmp_path):
    """A run folder handed over with `plots` a link: the resumed run's pictures replaced
    the files of their names (loss.png, ...) in the folder the link named."""
    kw = dict(data="moons", n_samples=100, epoch=20, save_every=2, log_every=0,
              verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    epochs = iter(range(100))
    run = mlplab.train(**kw, plots="png", stop=lambda: next(epochs) > 5)
    assert run.status == "interrupted"
    victim = tmp_path / "mine"
    victim.mkdir()
    (victim / "loss.png").write_text("my own notes")
    plots = run.run_dir / "plots"
    assert not plots.exists()  # drawn at the end: an interrupted run has none yet
    plots.symlink_to(victim, target_is_directory=True)
    resumed = mlplab.train(resume=run.run_dir, verbose=False)
    assert resumed.status == "finished"
    assert (victim / "loss.png").read_text() == "my own notes"
    assert sorted(p.name for p in victim.iterdir()) == ["loss.png"]
    assert not plots.is_symlink() and (plots / "loss.png").stat().st_size > 1000


def test_the_record_says_what_else_its_numbers_depend_on(ring_run, tmp_path):
    """A reader comparing two machines' runs had mlplab's version alone: not the libraries,
    the device that 'auto' became, or torch's threads (a large model's float32 sums round
    in another order on another count)."""
    import platform

    import torch

    env = json.loads((ring_run.run_dir / "result.json").read_text())["environment"]
    machine = {"platform": platform.platform(), "cpus": len(os.sched_getaffinity(0))}
    assert env.pop("cpu") and env == {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        **machine,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
    }
    plain = mlplab.train(data="xor", epoch=2, engine="numpy", plots="none", verbose=False,
                         log_path=str(tmp_path))  # fmt: skip
    assert plain.record["environment"]["device"] == "cpu"
    assert "torch_threads" not in plain.record["environment"]
    assert plain.record["environment"]["blas_threads"] == 1  # a lab's model: one thread


def test_a_large_numpy_models_record_says_its_blas_threads(tmp_path):
    """A model past 16 million multiply-adds a step multiplies over every BLAS thread, and
    its last digits differ between thread counts (a sweep's worker has one); its record
    named no count for the NumPy engine."""
    script = (
        "import json, sys, mlplab\n"
        "r = mlplab.train(data='moons', hid_dim=300, n_layer=2, batch_size=0, epoch=1,"
        " engine='numpy', plots='none', verbose=False, log_path=sys.argv[1])\n"
        "print(json.dumps(r.record['environment']['blas_threads']))\n"
    )
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / threads)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert json.loads(out.stdout) == int(threads)


def test_a_loaded_best_model_gives_its_own_metrics_not_the_last_models(tmp_path):
    """load_run(which="best") held the best weights, but its metrics and its line were
    result.json's, the last model's: a validation loss of 0.32 where its own is 0.29."""
    from mlplab.training.metrics import split_metrics

    r = mlplab.train(data="moons", n_samples=80, noise=0.4, n_layer=2, hid_dim=64,
                     optim="adam", lr=0.01, epoch=200, batch_size=16, log_every=0,
                     plots="none", verbose=False, log_path=str(tmp_path))  # fmt: skip
    assert r.record["best_epoch"] < r.record["epochs_run"]  # the last model is not the best
    best = mlplab.load_run(r.run_dir, which="best")
    assert best.metrics["val_loss"] == pytest.approx(r.record["best_val_loss"], rel=1e-5)
    assert best.metrics["val_loss"] < 0.9 * r.record["val_loss"]
    ds = best.dataset
    for split, X, y in (("train", ds.X_train, ds.y_train), ("test", ds.X_test, ds.y_test)):
        for name, value in split_metrics(ds.task, y, best.model_outputs(X)).items():
            assert best.metrics[f"{split}_{name}"] == pytest.approx(value), (split, name)
    assert f"test_loss={best.metrics['test_loss']:.4g}" in repr(best)
    # The last model's are still the record's, and without rows only its val_loss is known.
    assert mlplab.load_run(r.run_dir).metrics == r.metrics
    rowless = mlplab.load_run(r.run_dir, which="best", data=False)
    assert rowless.metrics == {"val_loss": r.record["best_val_loss"]}


def test_a_record_says_when_it_was_made_and_a_resume_keeps_its_start(tmp_path):
    """result.json had no date or time: runs of two days could not be told apart."""
    import re
    import time

    from mlplab.reports.api import report

    common = dict(data="moons", n_samples=80, epoch=4, save_every=2, log_every=0,
                  plots="none", engine="numpy", log_path=str(tmp_path), verbose=False)  # fmt: skip
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    polls = iter(range(1_000_000))
    run = mlplab.train(**common, stop=lambda: next(polls) >= 3)  # stopped, then resumed
    assert run.status == "interrupted"
    first = json.loads((run.run_dir / "result.json").read_text())
    assert stamp.fullmatch(first["started_at"]) and first["started_at"] >= before
    time.sleep(1.1)
    done = mlplab.train(resume=str(run.run_dir), verbose=False)
    assert done.status == "finished"
    assert done.record["started_at"] == first["started_at"]  # the run's start, not the resume's
    assert stamp.fullmatch(done.record["finished_at"])
    assert done.record["finished_at"] > done.record["started_at"]
    assert mlplab.train(**common).kept  # its digest and config.yaml still say it is this run
    rep = report(tmp_path, verbose=False)
    runs = __import__("pandas").read_csv(rep.csv_path)
    assert list(runs["started_at"]) == [first["started_at"]]
    # A folder of records written before mlplab kept the times still has the columns.
    record = json.loads((run.run_dir / "result.json").read_text())
    for stamp in ("started_at", "finished_at"):
        del record[stamp]
    (run.run_dir / "result.json").write_text(json.dumps(record))
    rep = report(tmp_path, verbose=False)
    assert rep.runs[["started_at", "finished_at"]].isna().all(axis=None)
    assert {"started_at", "finished_at"} <= set(__import__("pandas").read_csv(rep.csv_path))


def test_a_loaded_runs_config_is_its_own_and_trains_back_to_it(tmp_path):
    """load_run(d).config had the engine, device and dtype that `auto` resolved to: its run
    id was another's, and train(load_run(d).config) trained the same experiment again into
    a new folder, which the report then ranked as a config of its own."""
    kw = dict(data="xor", n_layer=1, hid_dim=4, act="tanh", optim="sgd", lr=1.0, epoch=20,
              log_every=0, plots="none", verbose=False, log_path=str(tmp_path))  # fmt: skip
    r = mlplab.train(**kw)
    for loaded in (mlplab.load_run(r.run_dir), mlplab.load_run(r.run_dir, dtype="float64")):
        own = mlplab.load_config(str(r.run_dir / "config.yaml")).to_dict()
        assert {**loaded.config.to_dict(), "log_path": "runs"} == own
        assert loaded.config.engine == "auto" and loaded.config.device == "auto"
        assert loaded.config.run_id() == loaded.record["run_id"] == r.run_dir.name
        # What the loaded model evaluates on is said beside it.
        assert loaded.engine == r.record["engine_used"] and loaded.device == "cpu"
    assert mlplab.load_run(r.run_dir, dtype="float64").dtype == "float64"
    assert mlplab.load_run(r.run_dir).dtype == r.config.dtype
    # A torch run's device `auto` is the device it is on, not the setting.
    torch_run = mlplab.train(**{**kw, "engine": "torch", "device": "auto", "exp_name": "t"})
    on_torch = mlplab.load_run(torch_run.run_dir)
    assert on_torch.config.device == "auto" and on_torch.device == "cpu"
    assert on_torch.engine == "torch"
    again = mlplab.train(mlplab.load_run(r.run_dir).config, verbose=False)
    assert again.kept and again.run_dir == r.run_dir
    assert [p.name for p in (tmp_path / "exp").glob("*/result.json")] == ["result.json"]


def test_a_loaded_run_says_its_attributes_and_has_every_point_of_its_curves(tmp_path):
    """help(mlplab.LoadedRun) named no attribute (config, record, run_dir, engine, ...), and
    a loaded run had no .curves, which a Result has: every point of its curves, where
    result.json keeps a few hundred."""
    import dataclasses

    doc = mlplab.LoadedRun.__doc__ or ""
    assert "Attributes\n    ----------" in doc
    for f in dataclasses.fields(mlplab.LoadedRun):
        assert f"\n    {f.name} :" in doc or f" {f.name}," in doc or f" {f.name} :" in doc, f.name
    assert "\n    curves : dict of str to list" in doc
    r = mlplab.train(data="xor", hid_dim=4, act="tanh", lr=1.0, epoch=300, log_every=0,
                     plots="none", verbose=False, log_path=str(tmp_path))  # fmt: skip
    loaded = mlplab.load_run(r.run_dir)
    assert loaded.curves == r.curves and len(loaded.curves["val_losses"]) == 300
    assert len(loaded.record["val_losses"]) < 300  # result.json's are thinned
    assert mlplab.train(r.config, verbose=False).curves == loaded.curves  # kept: the same


def test_a_run_folders_config_yaml_trained_elsewhere_says_where(tmp_path, capsys, monkeypatch):
    """train("myruns/hw/hw-1a2b3c/config.yaml") trained that run again into ./runs, in a
    folder of the same name: config.yaml leaves log_path out. With verbose=False nothing
    said so; now a note does (printed when verbose, always in Result.notes)."""
    from conftest import run_in_process

    monkeypatch.chdir(tmp_path)
    kw = dict(data="xor", hid_dim=2, act="tanh", lr=1.0, epoch=3, log_every=0, plots="none")
    first = mlplab.train(**kw, log_path="myruns", exp_name="hw", verbose=False)
    folder = f"myruns/hw/{first.run_dir.name}"
    yaml_path = f"{folder}/config.yaml"
    again = mlplab.train(yaml_path, verbose=False)
    assert not again.kept and again.run_dir == tmp_path / "runs" / "hw" / first.run_dir.name
    note = (
        f"{yaml_path} lies in the run folder {folder}, under myruns, but config.yaml leaves "
        f"log_path out: this run goes into runs/hw/{first.run_dir.name} (log_path='runs'); "
        f"mlplab.load_run({folder!r}) gives the run that is there"
    )
    assert again.notes[0] == note
    assert capsys.readouterr().out == ""
    mlplab.train(yaml_path)  # kept now, in ./runs: said before the kept line
    assert capsys.readouterr().out.startswith(f"mlplab: note: {note}\n")
    # Its own log_path: the run that is there, and no note.
    here = mlplab.train(yaml_path, log_path="myruns", verbose=False)
    assert here.kept and here.run_dir == first.run_dir and here.notes == []
    # Another log_path given: the run goes where it was asked to, and no note.
    other = mlplab.train(yaml_path, log_path="other", verbose=False)
    assert not other.kept and not any("run folder" in n for n in other.notes)
    # Another settings file, beside no result.json: no note.
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({**kw, "log_path": "other"}))
    assert not any("run folder" in n for n in mlplab.train("exp.yaml", verbose=False).notes)
    proc = run_in_process("train", "--config", yaml_path)
    assert proc.returncode == 0, proc.stderr
    assert f"(--log_path runs); mlplab.load_run({folder!r})" in proc.stdout


def test_load_run_of_none_says_where_a_none_comes_from():
    """load_run takes None (typed so, so that `load_run(rep.best_run)` type-checks as the
    README writes it) and refuses it in one line: it said "not None" alone."""
    from mlplab.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        mlplab.load_run(None)
    assert str(err.value) == (
        "load_run: run_dir is None, not a run's folder: a report's best_run is None where "
        "none of its runs finished, and a Result's run_dir where record=False kept no folder"
    )


def test_metrics_hold_numbers_alone_for_a_run_stopped_before_its_first_validation(tmp_path):
    """Result.metrics, typed dict[str, float], held best_val_loss None for a run stopped
    at once: float(r.metrics["best_val_loss"]) passed a type checker and then failed."""
    import mlplab

    r = mlplab.train(data="xor", hid_dim=4, epoch=300, stop=lambda: True, plots="none",
                     log_path=str(tmp_path), verbose=False)  # fmt: skip
    assert r.status == "interrupted" and r.record["best_val_loss"] is None
    assert "best_val_loss" not in r.metrics and r.metrics  # the numbers it has
    assert all(isinstance(v, float | int) for v in r.metrics.values())
    assert mlplab.load_run(r.run_dir, data=False).metrics.keys() <= r.metrics.keys()


def test_a_run_starts_where_4_mib_are_free_and_is_refused_below(tmp_path, monkeypatch):
    """A run needed 16 MiB free, written nowhere, where a lab run writes under 1 MB: on a
    small quota every run was refused."""
    from collections import namedtuple

    import mlplab
    import mlplab.runs.record
    from mlplab.errors import ConfigError

    usage = namedtuple("usage", "total used free")
    for free, refused in ((3 * 2**20, True), (5 * 2**20, False)):
        monkeypatch.setattr(
            mlplab.runs.record.shutil, "disk_usage", lambda p, free=free: usage(0, 0, free)
        )
        if refused:
            with pytest.raises(ConfigError, match=r"only 3072 KiB free on the disk of .*; a run "
                               r"needs at least 4 MiB$"):  # fmt: skip
                mlplab.train(data="xor", epoch=2, plots="none", log_path=str(tmp_path / "r"))
            assert not (tmp_path / "r").exists()
        else:
            r = mlplab.train(data="xor", epoch=2, plots="none", log_path=str(tmp_path / "r"))
            assert r.status == "finished"
