"""Records shared by two versions of mlplab on one log_path.

A run's config.yaml and checkpoints leave out the settings added after the first release
where they are unset, so an earlier mlplab, which refuses a setting it does not know, reads
them. A record that names a setting this mlplab does not know (a newer one's) is refused in
one line, exit 2, and left as it is: it was taken for another run's, and trained over.
"""

from __future__ import annotations

import hashlib
import itertools
import warnings
from pathlib import Path

import pytest
import yaml
from reliability_support import assert_one_line, call_main, read_json

from mlplab.config import LATER_SETTINGS
from mlplab.errors import NewerRecord
from mlplab.restore import load_run
from mlplab.runner import train
from mlplab.runs.checkpoint import load_checkpoint, save_checkpoint
from mlplab.runs.locks import RunLocks
from mlplab.sklearn import MLPClassifier

KW = dict(data="moons", n_samples=200, batch_size=32, epoch=4, save_every=1, log_every=0)
KW.update(plots="none", verbose=False, engine="numpy")
FLAGS = ["--data", "moons", "--n_samples", "200", "--batch_size", "32", "--epoch", "4"]
FLAGS += ["--save_every", "1", "--log_every", "0", "--plots", "none", "--engine", "numpy"]


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_record_names_only_the_later_settings_it_sets(tmp_path: Path) -> None:
    plain = train(log_path=str(tmp_path), **KW)
    saved = yaml.safe_load((plain.run_dir / "config.yaml").read_text())
    ckpt = load_checkpoint(plain.run_dir / "checkpoints" / "last.safetensors").meta["config"]
    assert not set(LATER_SETTINGS) & set(saved) and not set(LATER_SETTINGS) & set(ckpt)
    # result.json keeps every setting, for the scripts that read it.
    assert set(LATER_SETTINGS) <= set(read_json(plain.run_dir / "result.json"))
    assert saved == {k: v for k, v in ckpt.items() if k in saved} and set(saved) == set(ckpt)

    stratified = train(log_path=str(tmp_path), stratify=True, l1_coef=0.001, **KW)
    saved = yaml.safe_load((stratified.run_dir / "config.yaml").read_text())
    assert saved["stratify"] is True and saved["l1_coef"] == 0.001 and "split_by" not in saved
    # Read back, the record is the run it was: the same config, kept, not trained again.
    loaded = load_run(stratified.run_dir).config
    assert loaded.stratify is True and loaded.run_digest() == stratified.config.run_digest()
    assert train(log_path=str(tmp_path), stratify=True, l1_coef=0.001, **KW).kept

    with warnings.catch_warnings():  # two epochs do not converge, and need not here
        warnings.simplefilter("ignore")
        estimator = MLPClassifier(epoch=2).fit([[0.0, 1.0], [1.0, 0.0]] * 5, [0, 1] * 5)
    estimator.save(tmp_path / "clf.safetensors")
    meta = load_checkpoint(tmp_path / "clf.safetensors").meta["config"]
    # Its tol is min_delta, which it sets: named; the others, unset, are not.
    assert {k: meta[k] for k in LATER_SETTINGS if k in meta} == {"min_delta": 0.0001}


def add_setting(run_dir: Path, checkpoint_only: bool = False) -> None:
    """What a newer mlplab with one more setting writes: in the checkpoints' config, and
    (unless ``checkpoint_only``) in config.yaml."""
    for path in (run_dir / "checkpoints").glob("*.safetensors"):
        ckpt = load_checkpoint(path)
        ckpt.meta["config"]["label_smoothing"] = 0.1
        save_checkpoint(path, ckpt)
    if not checkpoint_only:
        with open(run_dir / "config.yaml", "a", encoding="utf-8") as f:
            f.write("label_smoothing: 0.1\n")


@pytest.mark.parametrize("checkpoint_only", [False, True], ids=["record", "checkpoint"])
def test_a_newer_mlplabs_interrupted_run_is_refused_not_trained_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], checkpoint_only: bool
) -> None:
    count = itertools.count()
    stopped = train(
        log_path=str(tmp_path), stop=lambda: next(count) >= 8, handle_signals=True, **KW
    )
    assert stopped.status == "interrupted"
    add_setting(stopped.run_dir, checkpoint_only)
    before = digests(tmp_path)
    capsys.readouterr()

    for argv in (["train", *FLAGS], ["sweep", *FLAGS, "--workers", "1"]):
        rc = call_main([*argv, "--log_path", str(tmp_path)])
        line = assert_one_line(rc, capsys.readouterr().err, "names the setting 'label_smoothing'")
        assert "checkpoints/last.safetensors" in line or not checkpoint_only
        assert "a newer mlplab wrote it (upgrade mlplab to use it)" in line
        assert "the record is left as it is" in line
        assert digests(tmp_path) == before
    # The sweep, refused in this process, holds no lock on the run.
    with RunLocks(stopped.run_dir.parent) as locks:
        assert locks.acquire(stopped.run_dir.name)
    if not checkpoint_only:
        with pytest.raises(NewerRecord, match=r"names the setting 'label_smoothing'"):
            load_run(stopped.run_dir)


def test_a_newer_mlplabs_finished_run_is_refused_without_advice_to_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An earlier mlplab said of such a run "its model does not load; give --rerun", and
    that replaced the newer version's record with its own."""
    done = train(log_path=str(tmp_path), **KW)
    add_setting(done.run_dir)
    before = digests(tmp_path)
    capsys.readouterr()
    rc = call_main(["train", *FLAGS, "--log_path", str(tmp_path)])
    line = assert_one_line(rc, capsys.readouterr().err, "names the setting 'label_smoothing'")
    assert "--rerun" not in line and digests(tmp_path) == before
    rc = call_main(["plot", str(done.run_dir)])
    assert_one_line(rc, capsys.readouterr().err, "a newer mlplab wrote it")
    # --rerun replaces a run of this mlplab's; not one of a newer mlplab's.
    for command in ("train", "sweep"):
        rc = call_main([command, *FLAGS, "--log_path", str(tmp_path), "--rerun"])
        assert_one_line(rc, capsys.readouterr().err, "names the setting 'label_smoothing'")
        assert digests(tmp_path) == before


def test_a_run_recorded_with_data_seed_beside_split_by_still_loads_and_resumes(
    tmp_path: Path,
) -> None:
    """data_seed beside split_by is refused now (it seeded no draw). A run an earlier
    mlplab recorded so was refused as well: load_run, predict and --resume failed on its
    own config.yaml. Its settings were valid when it trained; only new runs are refused."""
    import numpy as np
    import pandas as pd

    from mlplab import config
    from mlplab.errors import ConfigError

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x1": rng.normal(size=60), "x2": rng.normal(size=60)})
    df["y"] = (df.x1 > 0).astype(int)
    df["part"] = ["train"] * 40 + ["val"] * 10 + ["test"] * 10
    df.to_csv(tmp_path / "sb.csv", index=False)
    kw = {**KW, "data": str(tmp_path / "sb.csv"), "target": "y", "split_by": "part"}
    kw.update(data_seed=3, log_path=str(tmp_path / "runs"))
    del kw["n_samples"]
    token = config._RECORDED.set(True)  # trained as the earlier mlplab did
    try:
        polls = iter(range(1000))
        old = train(**kw, stop=lambda: next(polls) >= 2)
    finally:
        config._RECORDED.reset(token)
    assert old.status == "interrupted" and old.config.data_seed == 3
    with pytest.raises(ConfigError, match="'data_seed' and 'split_by'"):
        train(**kw)  # a new run so is refused
    assert load_run(old.run_dir).config.data_seed == 3
    assert call_main(["train", "--resume", str(old.run_dir), "-q"]) == 0
    assert read_json(old.run_dir / "result.json")["status"] == "finished"


def _newer_format(path: Path) -> None:
    """``path``'s checkpoint as a newer mlplab's format would head it (the digest covers
    the meta and the tensors, not the format's name)."""
    import json

    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"]["format"] = "mlplab-checkpoint-2"
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # safetensors aligns the data that follows
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n :])


def test_a_checkpoint_of_a_newer_format_is_a_newer_record_not_a_broken_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was "not an mlplab checkpoint" with advice to give --rerun, which replaced a
    classmate's newer run with this version's; predict advised --checkpoint best."""
    run_dir = train(log_path=str(tmp_path), **KW).run_dir
    for name in ("last", "best"):
        _newer_format(run_dir / "checkpoints" / f"{name}.safetensors")
    before = digests(run_dir)
    with pytest.raises(NewerRecord, match="which a newer mlplab writes"):
        load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    rows = tmp_path / "rows.csv"
    rows.write_text("x1,x2\n0,1\n")
    for args in (
        ["train", *FLAGS, "--log_path", str(tmp_path)],
        ["predict", str(run_dir), "--data", str(rows)],
        ["plot", str(run_dir), "--out", str(tmp_path / "p")],
    ):
        line = assert_one_line(call_main(args), capsys.readouterr().err, "which a newer mlplab")
        assert "--rerun" not in line and "--checkpoint best" not in line, line
    assert digests(run_dir) == before


def test_a_report_leaves_out_a_newer_mlplabs_run_of_a_setting_it_does_not_know(
    tmp_path: Path,
) -> None:
    """Grouped by the settings this mlplab knows, two newer runs that differ in one it does
    not (label_smoothing 0.1 and 0.3) were one config's seeds, pooled with an older run."""
    import json

    import mlplab
    from mlplab.reports.api import report

    for seed in (0, 1, 2):
        train(log_path=str(tmp_path), seed=seed, **KW)
    newer = sorted((tmp_path / "exp").glob("exp-*"))[:2]
    for run_dir, value in zip(newer, (0.1, 0.3), strict=True):
        record = read_json(run_dir / "result.json")
        record.update(mlplab_version="9.1.0", label_smoothing=value)
        (run_dir / "result.json").write_text(json.dumps(record))
        with (run_dir / "config.yaml").open("a") as f:
            f.write(f"label_smoothing: {value}\n")
    rep = report(tmp_path, verbose=False)
    assert sorted(rep.runs["run_dir"]) == sorted(
        str(p.absolute()) for p in (tmp_path / "exp").glob("exp-*") if p not in newer
    )
    why = {str(s.path.parent.name): s.reason for s in rep.skipped}
    assert why == {
        p.name: "written by mlplab 9.1.0, with the setting 'label_smoothing', which mlplab "
        f"{mlplab.__version__} does not know: upgrade mlplab to report it"
        for p in newer
    }
