"""Every examples/*.ipynb runs top to bottom in a real Jupyter kernel and reaches its lab's outcome."""

from __future__ import annotations

import math
import re
import shutil

import pytest

from conftest import EXAMPLES

pytestmark = pytest.mark.slow  # trains the labs to the end, as printed

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted(p.stem for p in EXAMPLES.glob("*.ipynb"))


def execute(name: str, tmp_path):
    """Run the notebook in a kernel whose working folder is ``tmp_path`` (runs/ lands there)."""
    for config in EXAMPLES.glob("*.yaml"):  # the notebooks load the lab configs by file name
        shutil.copy(config, tmp_path)
    nb = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def text_of(nb) -> str:
    """Everything the cells printed, and the plain-text form of what they displayed.

    Stream outputs are joined as they were written: the kernel may flush one ``print`` in two
    messages on a busy machine, and a separator between them would break its line in two.
    """
    text = ""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text += out["text"]
            elif "data" in out and "text/plain" in out["data"]:
                shown = out["data"]["text/plain"]
                text += shown + "\n" if text.endswith("\n") or not text else f"\n{shown}\n"
    return text


def html_outputs(nb) -> list[str]:
    return [
        out["data"]["text/html"]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "data" in out and "text/html" in out["data"]
    ]


def number(pattern: str, text: str) -> float:
    m = re.search(pattern, text, re.M)
    assert m, (pattern, text[-3000:])
    return float(m[1])


def test_every_lab_has_a_notebook():
    assert NOTEBOOKS == [
        "01_perceptron_xor",
        "02_manual_backprop",
        "03_xor_nn",
        "04_regression",
        "05_classification",
        "06_parametrized_experiments",
    ]


def test_perceptron_solves_and_or_but_not_xor(tmp_path):
    nb = execute("01_perceptron_xor", tmp_path)
    out = text_of(nb)
    # One config for both gates: the record says which data each run trained on.
    assert number(r"^and: accuracy ([\d.]+)", out) == 1.0
    assert number(r"^or: accuracy ([\d.]+)", out) == 1.0
    assert (tmp_path / "runs" / "or-perceptron").is_dir()
    assert number(r"xor: cost ([\d.]+)", out) == pytest.approx(math.log(2), abs=1e-4)
    assert number(r"xor: accuracy ([\d.]+)", out) == 0.5  # ties are class 0, as in the lab
    assert re.search(r"^0 0\.72739", out, re.M)  # the lab's printout, from its own weights
    # The lab's hypothesis, 0.5 for every row as the next cell says (it showed the logits).
    assert "xor: hypothesis [0.5, 0.5, 0.5, 0.5]" in out
    assert (tmp_path / "runs" / "xor-perceptron").is_dir()
    # What the text says of the logits: none above 2**-23, the first row's exactly on it.
    units = re.search(r"xor: logits in units of 2\*\*-23 \[([^\]]+)\]", out)[1].split(", ")
    units = [float(u) for u in units]
    assert units[0] == 1.0 and all(abs(u) <= 1.0 for u in units)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "exactly 2⁻²³" in text and "0.75, then 0.25, then 0.5" in text
    # The rule in one wording everywhere: a logit of *at most* 2**-23 is a tie (at exactly
    # 2**-23, 0.5 + 2**-25 rounds to even, 0.5); and the prose says which digits another
    # CPU's float32 sums may change rather than promise them.
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    readme = " ".join((EXAMPLES.parent / "README.md").read_text(encoding="utf-8").split())
    assert "a logit of at most 2⁻²³ a tie" in text and "of at most 2**-23" in code
    assert "logit of at most 2⁻²³" in readme and "below 2⁻²³" not in readme
    assert "Below 2**-23" not in code
    # A student's first meeting with "logit" says what one is, in plain words.
    assert "is called a logit: 0 means a probability of 0.5" in code
    assert "differs from one CPU to another" in text and "the cost, ln 2, and the" in text
    # And of the record: from epoch 200 the cost is ln 2 in float32, the accuracy moves.
    seen = re.findall(r"^epoch (\d+): cost ([\d.]+), train accuracy ([\d.]+)$", out, re.M)
    assert [(int(e), float(a)) for e, _, a in seen] == [
        (100, 0.5),
        (200, 0.75),
        (300, 0.25),
        (400, 0.5),
    ]
    assert all(c == f"{math.log(2):.7f}" for _, c, _ in seen[1:])
    # The lecture's picture: the decision surface of the AND run, then of the XOR run,
    # each shown inline from its run's plots/surface.png.
    shown = re.findall(r"^(and|xor): (runs/\S+/plots/surface\.png)$", out, re.M)
    assert [gate for gate, _ in shown] == ["and", "xor"]
    assert all((tmp_path / path).is_file() for _, path in shown)
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 2


def test_manual_backprop_from_the_labs_weights(tmp_path):
    nb = execute("02_manual_backprop", tmp_path)
    out = text_of(nb)
    assert number(r"Accuracy: ([\d.]+)", out) == 1.0
    # Two runs of the loop from the xor-nn lab's weights: the slide's update, then the
    # mean cost's gradient. Both start at the xor-nn slide's step 0, as the text says.
    runs = re.findall(r"^0 ([\d.]+)\n(?:\d+ [\d.e-]+\n)*?10000 ([\d.e-]+)$", out, re.M)
    assert len(runs) == 2, out[:3000]
    (start, slide_end), (start_mean, mean_end) = runs
    assert start == start_mean == "0.7434073090553284"
    assert float(slide_end) < 0.001  # lower than the xor-nn lab's 0.0012345
    assert float(mean_end) == pytest.approx(0.0012345188297331333, rel=1e-6)
    hypotheses = re.findall(r"^Hypothesis: \[([^\]]+)\]", out, re.M)
    assert hypotheses[1].split() == ["0.00106378", "0.9988938", "0.9988939", "0.00165883"]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "0.7434073090553284" in text and "0.00106378, 0.9988938, 0.9988939, 0.00165883" in text
    assert "(autograd is PyTorch's automatic differentiation:" in text  # at its first use
    # The closing cell runs `mlplab backprop`: the slide's lines, checked by autograd.
    assert "lecture form (sums over rows)" in out and "d_w1 = X.T @ d_b1" in out
    assert "verdict: ok" in out


def test_xor_nn_prints_the_slides_numbers_and_displays_its_run(tmp_path):
    execute("03_xor_nn", tmp_path)
    # Run again, as notebooks are: its runs are in runs/ now, yet it prints the lab again.
    nb = execute("03_xor_nn", tmp_path)
    out = text_of(nb)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert number(r"^0 ([\d.]+)$", out) == pytest.approx(0.7434073, rel=1e-6)
    record_cost = number(r"step 10000: record \(BCE with logits\) ([\d.e-]+)", out)
    assert record_cost == pytest.approx(0.0012345188, rel=1e-4)
    # What the first cell says of the late costs is what the cells show: the printout
    # (the lab's form) to 1e-6 of the slide, the record (BCE-with-logits) to 1e-5.
    intro = nb.cells[0].source
    assert "match the slide to 1e-6 relative" in intro and "under 1e-5" in intro
    # Its terms in plain words where they first appear: BCE, and BCE with logits.
    assert "(binary cross-entropy," in intro and "(BCE with logits is the same" in intro
    slide = 0.0012345188297331333
    assert number(r"^10000 ([\d.e-]+)$", out) == pytest.approx(slide, rel=1e-6)
    assert record_cost == pytest.approx(slide, rel=1e-5)
    # The cell names the two forms and their difference, as computed from its numbers.
    shown_diff = number(r"relative difference ([\d.e-]+): the two forms", out)
    assert shown_diff == pytest.approx(abs(record_cost - slide) / slide, rel=0.06)
    # The printed Hypothesis is the slide's, digit for digit, as the first cell says: the
    # last step's outputs before its update (the trained model's are one update on).
    shown = re.search(r"^Hypothesis: ((?:\[+[\d.e-]+ *\]+\s*){4})", out, re.M)[1]
    slide = ["0.00106378", "0.9988938", "0.9988939", "0.00165883"]
    assert re.findall(r"[\d.e-]+", shown) == slide
    assert f"[{', '.join(slide)}]" in intro
    # The printout: 10001 updates (steps 0..10000), every 500 steps, the plateau at ln 2.
    assert "epoch 10001/10001" in out and "printing step and batch loss every 500 steps" in out
    printed = {int(s): float(c) for s, c in re.findall(r"^(\d+) ([\d.e-]+)$", out, re.M)}
    assert sorted(printed) == list(range(0, 10001, 500))
    assert all(f"{printed[s]:.3f}" == "0.693" for s in (500, 1000, 1500))
    assert f"{printed[2000]:.2f}" == "0.68" and printed[2500] < 0.05
    assert "stays at 0.693 (ln 2) to step 1500" in text and "mlp 2-2-1 sigmoid" in out
    # The wide-deep net: its printout's line 10000, the lab's form as the slide's (not the
    # record's BCE with logits), within 1e-3 of the slide's, as said (0.000156579 here,
    # 4.8e-4 off; plain torch 2.13 is 3e-4 off).
    (_, wide), (_, wide_end) = re.findall(r"^(0|10000) ([\d.e-]+)$", out, re.M)[-2:]
    assert float(wide) == pytest.approx(0.6948983669, rel=1e-6)
    assert float(wide_end) == pytest.approx(0.0001565046259202063, rel=1e-3)
    assert "mlp 2-10-10-10-1 sigmoid" in out and "every 10000 steps" in out
    assert "under 1e-3 relative" in text and "in the lab's\nform, BCELoss" in text
    assert re.findall(r"^Accuracy: ([\d.]+)$", out, re.M) == ["1.0", "1.0"]
    # The cell that holds only `xor_nn` shows the Result as HTML: metrics, run dir, plots inline.
    html = [h for h in html_outputs(nb) if "run dir" in h]
    assert len(html) == 1 and "data:image/png;base64," in html[0]
    assert "xor-nn" in html[0] and "1.0000" in html[0]
    # The lecture's activations on the wide-deep net: sigmoid, saturating, is the slowest.
    # One line counts in steps alone (epoch e's cost is step e - 1's).
    below = {
        m[1]: int(m[2])
        for m in re.finditer(
            r"^\s*(\w+): cost \S+ at step 10000, below 0.01 by step (\d+)$", out, re.M
        )
    }
    assert all(b % 100 == 99 for b in below.values()) and "epoch" not in out.split("gelu")[-1]
    assert set(below) == {"sigmoid", "tanh", "relu", "leaky_relu", "gelu"}
    assert below["sigmoid"] == max(below.values()) > 2 * below["relu"]


def test_regression_mlp_beats_linear(tmp_path):
    nb = execute("04_regression", tmp_path)
    out = text_of(nb)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    linear, mlp = number(r"linear: test MAE ([\d.]+)", out), number(r"mlp: test MAE ([\d.]+)", out)
    # The lab's 4000 epochs, and what the text says of them.
    assert "about 0.92 against the linear\nmodel's 1.53 (R² 0.81 against 0.46)" in text
    # "standardized" and R² are said in plain words before the cells use them.
    intro = nb.cells[0].source
    assert "not standardized (shifted and scaled to mean 0" in intro
    assert "R², the share of the targets' variance" in intro
    assert mlp == pytest.approx(0.92, abs=0.005) and linear == pytest.approx(1.53, abs=0.005)
    assert number(r"mlp: test MAE [\d.]+, R² ([\d.]+)", out) == pytest.approx(0.81, abs=0.005)
    assert number(r"linear: test MAE [\d.]+, R² ([\d.]+)", out) == pytest.approx(0.46, abs=0.005)
    floor = number(r"the curve itself: test MAE ([\d.]+)", out)
    assert floor == pytest.approx(0.41, abs=0.005) and f"scores {floor:.2f}" in text
    # The spike that dominates the MLP's loss plot is said, and why: the lab's lr on raw x.
    assert "spikes to about 28,000 at its third step" in text and "raw x" in text
    assert any("test" in h and "mae" in h for h in html_outputs(nb))
    # The lab's PyTorch module: printed, and its outputs are the run's.
    assert number(r"mlp on torch: test MAE ([\d.]+)", out) == pytest.approx(mlp, rel=1e-3)
    assert "Linear(in_features=2, out_features=200" in out
    assert "standardized: False" in out  # so the module takes raw x1, x2, as the text says
    by_module = re.search(r"module\(X\):\s+\[([^\]]+)\]", out)[1].split()
    by_outputs = re.search(r"model_outputs:\s+\[([^\]]+)\]", out)[1].split()
    assert by_module == by_outputs


def test_classification_mlp_beats_linear(tmp_path):
    nb = execute("05_classification", tmp_path)
    out = text_of(nb)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    linear = number(r"ring_linear: test accuracy ([\d.]+)", out)
    mlp = number(r"ring_mlp: test accuracy ([\d.]+)", out)
    # The lab's 4000 epochs on 3000 points: the MLP at the lab's 76%, on 300 test rows;
    # the linear model little above the 1/3 of guessing, as the text says.
    assert "(train/val/test rows 2400/300/300)" in out
    assert mlp == pytest.approx(0.76, abs=0.005) and "the lab's 76% on its 300 test rows" in text
    assert 1 / 3 < linear < 0.40 and "little above 1/3" in text
    # Each run shown with its pictures, as the lab draws true and predicted classes.
    html = [h for h in html_outputs(nb) if "run dir" in h]
    assert len(html) == 2 and all("data:image/png;base64," in h for h in html)


def test_parametrized_experiments_sweep_and_report(tmp_path):
    nb = execute("06_parametrized_experiments", tmp_path)
    out = text_of(nb)
    assert "'test_acc'" in out and "train_losses" in out and "val_accs" in out
    assert 0.5 < number(r"val_acc ([\d.]+)", out) <= 1.0
    assert len(list((tmp_path / "runs" / "exp1").glob("*/result.json"))) == 8
    # The lecture's experiment() loop, one run per lr, and the two differ, as the text says.
    fast = number(r"^lr 0.01: val_acc ([\d.]+), test_acc [\d.]+$", out)
    slow = number(r"^lr 0.001: val_acc ([\d.]+), test_acc [\d.]+$", out)
    assert fast > slow + 0.1
    assert len(list((tmp_path / "runs" / "exp2").glob("*/result.json"))) == 2
    html = html_outputs(nb)
    assert any("mlplab sweep" in h for h in html) and any("mlplab report" in h for h in html)
    assert "8 trained, 0 skipped" in out
    # The report's figures live in report.html; the notebook shows the bars inline, drawn
    # by the report's own function rather than cut out of the page with a regex and base64.
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "base64" not in code and "re.findall" not in code
    assert number(r"^(\d+) figures in runs/exp1/report.html: train / val / test accuracy", out) >= 3
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 1
    # Executed again, it loads the kept runs, as its first cell says, and reports the same.
    again = text_of(execute("06_parametrized_experiments", tmp_path))
    assert "0 trained, 8 skipped" in again and "`0 trained, 8 skipped`" in nb.cells[0].source
    best = r"^best: (.*)$"
    assert re.search(best, again, re.M)[1] == re.search(best, out, re.M)[1]


def test_interrupting_the_kernel_keeps_the_run_with_a_checkpoint(tmp_path):
    """Jupyter's interrupt (SIGINT to the kernel) came mid-step: the run kept no checkpoint
    ('interrupted before its first checkpoint; run it again to start over')."""
    import json
    import time

    from jupyter_client.manager import start_new_kernel

    from mlplab.runs.checkpoint import load_checkpoint

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        kc.execute(
            "import mlplab\n"
            "mlplab.train(data='sinlog', epoch=10**6, log_path='runs', verbose=False, plots='none')"
        )
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("runs/exp/*/events.out.tfevents.*")):  # training has begun
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.2)
        time.sleep(1.0)
        km.interrupt_kernel()
        errors = []
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["msg_type"] == "error":
                errors.append(msg["content"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    (run_dir,) = [p for p in tmp_path.glob("runs/exp/*") if p.is_dir()]  # not its .sweep.lock
    (error,) = errors
    assert error["ename"] == "KeyboardInterrupt"
    assert f"with a checkpoint in {run_dir.relative_to(tmp_path)}" in error["evalue"]
    record = json.loads((run_dir / "result.json").read_text())
    assert record["status"] == "interrupted" and record["steps"] > 0
    ckpt = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    assert ckpt.meta["loop"]["step"] == record["steps"]
