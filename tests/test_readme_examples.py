"""The README's Python examples, run as a user would paste them, in the README's order.

Each ``python`` block runs in one shared namespace (the README's later blocks use names
the earlier ones made), in a folder that holds ``examples/`` and the xor-nn lab's run,
as the README's first command leaves it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import EXAMPLES

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow  # a sweep and a grid search, as printed


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_the_examples_this_test_runs():
    blocks = python_blocks()
    assert len(blocks) == 10
    assert "mlplab.backprop(" in blocks[0] and "load_run(" in blocks[1]
    assert "sweep_runs.npz" in blocks[2] and "mlplab.train(" in blocks[3]
    assert "mine.npz" in blocks[4]
    assert "mlplab.sweep(" in blocks[5] and "GridSearchCV" in blocks[6]
    assert "subscribers=[show]" in blocks[7] and "prune=worse_half" in blocks[8]
    assert "subscribers=[ended]" in blocks[9]
    # A reader copies one block: each that calls mlplab imports it (two did not).
    for i, block in enumerate(blocks, 1):
        if re.search(r"\bmlplab\.", block):
            assert re.search(r"^(import mlplab|from mlplab)", block, re.M), f"block {i}"


def test_every_python_example_of_the_readme_runs(tmp_path, monkeypatch, capsys, run_cli):
    (tmp_path / "examples").symlink_to(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    lab = run_cli("train", "--config", "examples/xor_nn.yaml", "--plots", "none", cwd=tmp_path)
    assert lab.returncode == 0, lab.stderr
    blocks = python_blocks()
    ns: dict = {}

    def run(i: int) -> None:
        exec(compile(blocks[i], f"README.md python block {i + 1}", "exec"), ns)

    run(0)  # backprop: one step by the chain rule, checked by autograd
    d_w1 = ns["trace"]["d_w1"]
    assert d_w1.value.shape == (2, 2) and d_w1.max_diff < 1e-4

    run(1)  # load_run of the lab's run, no retraining
    outputs = ns["run"].model_outputs(ns["run"].dataset.X_test)
    assert outputs.shape == (4, 1) and ((outputs[:, 0] > 0) == [0, 1, 1, 0]).all()
    with torch.no_grad():
        plain = ns["module"](torch.as_tensor(ns["run"].dataset.X_test, dtype=torch.float32))
    np.testing.assert_allclose(plain.numpy(), outputs, rtol=1e-5, atol=1e-6)
    # The exported file, loaded by torch alone, takes raw rows of any count, as predict does.
    loaded = torch.export.load(tmp_path / "xor.pt2").module()
    for rows in ([[0.0, 1.0]], [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]):
        got = loaded(torch.tensor(rows)).detach().numpy()
        np.testing.assert_allclose(got, ns["run"].model_outputs(ns["run"].dataset.transform(rows)),
                                   rtol=1e-5, atol=1e-6)  # fmt: skip

    run(3)  # mlplab.train, load_config with overrides, predict and predict_labels
    # Whole-number labels come back as integers, so that they compare with y.
    labels = ns["result"].predict_labels([[0, 1], [1, 1]])
    assert labels.dtype == np.int64 and list(labels) == [1, 0]

    run(4)  # one's own arrays through an .npz file; class probabilities
    mine = ns["result"]
    assert mine.status == "finished" and mine.record["test_acc"] > 0.8
    proba = mine.predict_proba(ns["X"][:50])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    labels = mine.predict_labels(ns["X"][:50])
    assert list(mine.dataset.classes[proba.argmax(1)]) == list(labels)
    assert (labels == ns["y"][:50]).mean() > 0.8  # integer labels, as y's

    run(5)  # the xor-grid sweep and its report, its table as LaTeX and its figures as files
    assert ns["res"].counts["trained"] == 12 and len(ns["rep"].summary) == 4
    tex = (tmp_path / "xor-grid.tex").read_text()
    assert tex.count("\\\\") == 5 and "\\toprule" in tex and "val\\_acc\\_mean" in tex
    pngs = sorted(tmp_path.glob("xor-grid-*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)

    run(2)  # the sweep's table of runs, read with NumPy
    z = np.load("runs/xor-grid/sweep_runs.npz")
    assert len(z["run"]) == 12 and set(z["col/lr"]) == {0.5, 1.0}

    # scikit-learn: cross-validation, grid search, save and load; as pasted, no fit runs
    # out of epochs (the README shows no ConvergenceWarning; it printed 13 at epoch=100).
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        run(6)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    clf, X = ns["clf"], ns["X"]
    scaled = ns["scaler"].transform(X[:5])
    loaded = ns["MLPClassifier"].load("clf.safetensors")
    assert (loaded.predict(scaled) == clf.predict(scaled)).all()
    assert len(clf.loss_curve_) == len(clf.train_scores_) > 0
    with torch.no_grad():
        logits = ns["net"](torch.as_tensor(scaled, dtype=torch.float32)).numpy()
    assert (clf.classes_[logits.argmax(1)] == clf.predict(scaled)).all()

    capsys.readouterr()
    run(7)  # a subscriber of one's own
    printed = capsys.readouterr().out.split("\n")
    assert [line.split()[0] for line in printed if line] == [str(e) for e in range(500, 10001, 500)]

    capsys.readouterr()
    run(8)  # a sweep with a prune rule: the worse half stops at epoch 20
    assert (
        ns["result"]
        .summary()
        .startswith("4 runs: 2 trained, 0 skipped, 0 failed/diverged, 2 pruned")
    )
    records = [json.loads((d / "result.json").read_text()) for d in ns["result"].run_dirs]
    assert sorted(r["epochs_run"] for r in records) == [20, 20, 100, 100]

    capsys.readouterr()
    run(9)  # a watched sweep: each End's finals printed, and the outcomes' metrics
    printed = [line.split() for line in capsys.readouterr().out.splitlines() if line]
    records = {d.name: json.loads((d / "result.json").read_text()) for d in ns["result"].run_dirs}
    assert len(printed) == 5 and sorted(name for name, _ in printed[:4]) == sorted(records)
    assert all(float(acc) == records[name]["val_acc"] for name, acc in printed[:4])
    top = max(r["val_acc"] for r in records.values())
    assert float(printed[4][1]) == top == records[printed[4][0]]["val_acc"]
    capsys.readouterr()
    run(9)  # again: every run kept, no events and no outcomes, the same best from the records
    again = [line.split() for line in capsys.readouterr().out.splitlines() if line]
    assert ns["result"].outcomes == [] and again == [printed[4]]
