"""Checkpoints are safetensors + JSON: a pickle in their place never runs, and a truncated
or corrupted file is a one-line error (exit 2), never a traceback or a silent bad model."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import assert_one_line, call_main, cli

from mlplab.errors import CheckpointError
from mlplab.restore import load_run
from mlplab.runner import train
from mlplab.runs.checkpoint import FORMAT, load_checkpoint

MARKER = "mlplab-pwned-marker"


class Payload:
    """Runs a shell command when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def resumable(tmp_path_factory) -> Path:
    """A run whose result.json says `running` (as after a SIGKILL): --resume reads its checkpoint."""
    log = tmp_path_factory.mktemp("runs")
    res = train(
        data="xor",
        epoch=3,
        save_every=1,
        engine="numpy",
        plots="none",
        verbose=False,
        log_path=str(log),
    )
    (res.run_dir / "result.json").write_text(json.dumps({"status": "running"}))
    return res.run_dir


@pytest.fixture
def run_copy(resumable, tmp_path) -> Path:
    d = tmp_path / "exp" / resumable.name
    shutil.copytree(resumable, d)
    return d


def last(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "last.safetensors"


def pickles(marker: Path) -> dict[str, bytes]:
    import io

    import torch

    buf = io.BytesIO()
    torch.save({"model": Payload(marker)}, buf)
    return {"pickle": pickle.dumps(Payload(marker)), "torch.save": buf.getvalue()}


@pytest.mark.parametrize("kind", ["pickle", "torch.save"])
def test_a_pickle_in_place_of_a_checkpoint_never_runs(run_copy, tmp_path, capsys, kind):
    marker = tmp_path / MARKER
    data = pickles(marker)[kind]
    assert not marker.exists()
    for which in ("last", "best"):
        (run_copy / "checkpoints" / f"{which}.safetensors").write_bytes(data)
    rc = call_main(["train", "--resume", str(run_copy)])
    assert_one_line(rc, capsys.readouterr().err, "last.safetensors")
    for which in ("last", "best"):
        with pytest.raises(CheckpointError, match="not a readable mlplab checkpoint"):
            load_run(run_copy, which=which)
    assert not marker.exists()
    # The payload is real: unpickling it, as torch.load(weights_only=False) would, runs it.
    if kind == "pickle":
        pickle.loads(data)
    else:
        import io

        import torch

        torch.load(io.BytesIO(data), weights_only=False)
    assert marker.exists()


def test_a_pickle_checkpoint_in_a_real_process(run_copy, tmp_path):
    marker = tmp_path / MARKER
    last(run_copy).write_bytes(pickles(marker)["torch.save"])
    proc = cli("train", "--resume", str(run_copy))
    assert_one_line(proc.returncode, proc.stderr, "last.safetensors")
    assert not marker.exists()


def test_truncated_checkpoints_are_one_line_errors(run_copy, capsys):
    raw = last(run_copy).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    cuts = sorted(
        {0, 1, 7, 8, 9, 8 + n // 2, 8 + n - 1, 8 + n, 8 + n + 1, len(raw) // 2, len(raw) - 1}
    )
    for cut in cuts:
        last(run_copy).write_bytes(raw[:cut])
        rc = call_main(["train", "--resume", str(run_copy)])
        assert_one_line(rc, capsys.readouterr().err, "checkpoint", "last.safetensors")


def test_flipped_bytes_in_header_and_body_are_one_line_errors(run_copy, capsys):
    raw = last(run_copy).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    rng = random.Random(7)
    positions = [3, 8, 9, 8 + n // 2, 8 + n - 2] + [
        rng.randrange(8 + n, len(raw)) for _ in range(6)
    ]
    for pos in positions:
        bad = bytearray(raw)
        bad[pos] ^= 0xFF
        last(run_copy).write_bytes(bytes(bad))
        rc = call_main(["train", "--resume", str(run_copy)])
        assert_one_line(rc, capsys.readouterr().err, "checkpoint")


def test_a_flipped_letter_of_the_checksums_name_is_damage(resumable, tmp_path):
    """Found by the search below: "sha256" read as "rha256" made the checksum look absent,
    as in a checkpoint from before it existed, and the file loaded."""
    raw = last(resumable).read_bytes()
    at = raw.index(b'"sha256"') + 1
    p = tmp_path / "last.safetensors"
    p.write_bytes(raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :])
    with pytest.raises(CheckpointError, match="corrupted metadata header"):
        load_checkpoint(p)


@settings(
    max_examples=int(os.environ.get("MLPLAB_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_damage_is_detected(resumable, tmp_path_factory, data):
    """Random cuts, flips and overwrites: load_checkpoint raises CheckpointError every time."""
    raw = last(resumable).read_bytes()
    kind = data.draw(st.sampled_from(["cut", "flip", "splice"]))
    if kind == "cut":
        bad = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif kind == "flip":
        bad = bytearray(raw)
        for pos in data.draw(
            st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4, unique=True)
        ):
            bad[pos] ^= data.draw(st.integers(1, 255))
        bad = bytes(bad)
    else:
        pos = data.draw(st.integers(0, len(raw) - 1))
        junk = data.draw(st.binary(min_size=1, max_size=64))
        bad = raw[:pos] + junk + raw[pos + len(junk) :]
    if bad == raw:
        return
    p = tmp_path_factory.mktemp("damaged") / "last.safetensors"
    p.write_bytes(bad)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(p)
    assert "\n" not in str(err.value)


def test_valid_safetensors_with_wrong_contents(run_copy, capsys):
    """Well-formed files that are not this run's checkpoint: one line, no traceback."""
    import numpy as np
    from safetensors.numpy import save

    cases = {
        "foreign": save({"w": np.zeros(3, np.float32)}),
        "empty meta": save(
            {"w": np.zeros(3, np.float32)}, metadata={"format": FORMAT, "meta": "{}"}
        ),
        "list meta": save(
            {"w": np.zeros(3, np.float32)}, metadata={"format": FORMAT, "meta": "[1]"}
        ),
    }
    for name, blob in cases.items():
        last(run_copy).write_bytes(blob)
        rc = call_main(["train", "--resume", str(run_copy)])
        assert_one_line(rc, capsys.readouterr().err, "checkpoint", name.split()[0][:0])
        with pytest.raises(CheckpointError):
            load_run(run_copy)


def test_checkpoint_of_another_architecture(run_copy, tmp_path, capsys):
    other = train(
        data="xor",
        epoch=1,
        hid_dim=7,
        engine="numpy",
        plots="none",
        verbose=False,
        log_path=str(tmp_path / "other"),
    )
    shutil.copy(last(other.run_dir), last(run_copy))
    rc = call_main(["train", "--resume", str(run_copy)])
    assert_one_line(rc, capsys.readouterr().err, "belongs to run")


def test_a_checkpoint_copied_in_from_another_run_is_refused_by_every_reader(tmp_path, capsys):
    """A hid_dim 7 run's last.safetensors copied into a hid_dim 3 run's folder: predict
    gave the other run's predictions, plot drew its model and train kept it as this
    config's finished run, each with exit status 0; only --resume refused it."""
    log = tmp_path / "runs"
    common = dict(data="xor", epoch=2, engine="numpy", plots="none", verbose=False)
    mine = train(**common, hid_dim=3, log_path=str(log))
    other = train(**common, hid_dim=7, log_path=str(tmp_path / "other"))
    shutil.copy(last(other.run_dir), last(mine.run_dir))
    with pytest.raises(CheckpointError, match=f"belongs to run '{other.run_dir.name}'"):
        load_run(mine.run_dir)
    rows = tmp_path / "new.csv"
    rows.write_text("x1,x2\n0,1\n1,1\n")
    argvs = (
        ["predict", str(mine.run_dir), "--data", str(rows)],
        ["plot", str(mine.run_dir), "--out", str(tmp_path / "pictures")],
        ["train", "--data", "xor", "--epoch", "2", "--engine", "numpy", "--hid_dim", "3",
         "--plots", "none", "--log_path", str(log)],
    )  # fmt: skip
    for argv in argvs:
        rc = call_main(argv)
        assert_one_line(rc, capsys.readouterr().err, "belongs to run")
    assert not (tmp_path / "pictures").exists()


@pytest.mark.parametrize("edit", ["lr: 0.5", "epoch: 7", "data: moons"])
def test_resume_refuses_a_config_edited_after_the_run_started(run_copy, capsys, edit):
    # The run's folder is named by its config's hash: an edited config.yaml no longer
    # describes this run, and its checkpoint's config says so too.
    cfg = run_copy / "config.yaml"
    key = edit.split(":")[0]
    lines = [ln for ln in cfg.read_text().splitlines() if not ln.startswith(f"{key}:")]
    cfg.write_text("\n".join([*lines, edit]) + "\n")
    rc = call_main(["train", "--resume", str(run_copy)])
    assert_one_line(rc, capsys.readouterr().err, "edited")


def test_checkpoint_names_the_curves_file_instead_of_repeating_it(run_copy):
    """The loop's curves live once, in curves.npz; the checkpoint keeps their count and hash."""
    meta = load_checkpoint(last(run_copy)).meta
    assert set(meta["loop"]["history"]) == {"best_val_loss", "best_epoch"}
    assert meta["curves"]["file"] == "curves.npz"
    assert meta["curves"]["points"] == meta["loop"]["epoch"] == 3


@pytest.mark.parametrize("damage", ["deleted", "cut", "changed", "shorter"])
def test_resume_refuses_curves_that_are_not_the_checkpoints(run_copy, capsys, damage):
    import numpy as np

    path = run_copy / "curves.npz"
    if damage == "deleted":
        path.unlink()
    elif damage == "cut":
        path.write_bytes(path.read_bytes()[:40])
    else:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        if damage == "changed":
            arrays["val_losses"][1] += 1e-9
        else:
            arrays = {k: v[:2] for k, v in arrays.items()}
        with path.open("wb") as f:
            np.savez(f, **arrays)
    before = {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()}
    rc = call_main(["train", "--resume", str(run_copy)])
    config, log = run_copy / "config.yaml", run_copy.parent.parent
    line = assert_one_line(
        rc, capsys.readouterr().err, f"{str(path)!r}", "3 validations", "put that file back"
    )
    assert {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()} == before
    # The line's own command trains the run afresh.
    assert line.endswith(f"`mlplab train {config} --log_path {log} --rerun`")
    assert call_main(["train", str(config), "--log_path", str(log), "--rerun"]) == 0
    assert json.loads((run_copy / "result.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("where", ["run", "exp"])
def test_resume_from_inside_its_folders_names_a_command_that_trains_that_run(
    run_copy, capsys, monkeypatch, where
):
    """`--resume .` from inside the run refused a healthy run ("log_path '.' is inside the
    run folder"), and from its experiment folder (`--resume exp-1a2b3c`) the refusal of a
    deleted curves.npz named `--log_path .`, which trained a new run one folder down."""
    import shlex

    monkeypatch.chdir(run_copy if where == "run" else run_copy.parent)
    given = "." if where == "run" else run_copy.name
    (run_copy / "curves.npz").unlink()
    rc = call_main(["train", "--resume", given])
    line = assert_one_line(rc, capsys.readouterr().err, "put that file back")
    command = shlex.split(line.rsplit("`mlplab ", 1)[1].rstrip("`"))
    assert command[-1] == "--rerun" and command[0] == "train"
    assert call_main(command) == 0
    assert json.loads((run_copy / "result.json").read_text())["status"] == "finished"
    assert not [p for p in run_copy.parent.rglob("result.json") if p.parent != run_copy]


def test_a_run_whose_result_json_was_cut_short_is_trained_again_with_a_word(tmp_path, capsys):
    """A finished run's result.json cut short (a full disk, an editor) reads as no run:
    the same config trains there again, and says so rather than replace it in silence."""
    first = train(data="xor", epoch=20, plots="none", log_path=str(tmp_path), verbose=False)
    result = first.run_dir / "result.json"
    result.write_bytes(result.read_bytes()[:100])
    capsys.readouterr()
    again = train(data="xor", epoch=20, plots="none", log_path=str(tmp_path), verbose=True)
    out = capsys.readouterr().out
    assert f"{result} is unreadable; the run there" in out
    assert again.run_dir == first.run_dir and again.status == "finished"
    assert json.loads(result.read_text())["status"] == "finished"
