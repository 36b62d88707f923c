"""The live view: in a real Jupyter kernel `mlplab.train` shows a progress bar and a loss curve
that update in place; outside Jupyter nothing of it appears."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import EXAMPLES
from mlplab.live import LiveView, SweepView
from mlplab.training.events import End, Start, Step, Validate

TRAIN = (
    "import mlplab\n"
    "r = mlplab.train({config!r}, engine='numpy', plots='none', log_path={log!r}, epoch=3001)\n"
)
_PROGRESS = re.compile(r"epoch (\d+)/(\d+)")


def _points(html: str) -> int:
    """Points of the train-loss curve in the view's SVG (0 before the first)."""
    m = re.search(r'class="curve-train"[^>]*points="([^"]*)"', html)
    return len(m[1].split()) if m else 0


# --- in a real Jupyter kernel ---------------------------------------------------------------
def _execute(source: str, tmp_path):
    """Run one cell in a real kernel; return the notebook and every message the cell sent."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    class Recorder(nbclient.NotebookClient):
        def process_message(self, msg, cell, cell_index):
            self.messages.append(msg)
            return super().process_message(msg, cell, cell_index)

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = Recorder(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.messages = []
    client.execute()
    return nb, client.messages


def _views(messages, msg_type: str) -> list[dict]:
    return [
        m["content"]
        for m in messages
        if m["msg_type"] == msg_type and "mlplab-live" in m["content"]["data"].get("text/html", "")
    ]


@pytest.mark.slow
def test_train_in_jupyter_shows_a_progress_bar_and_a_curve_that_update_in_place(tmp_path):
    # Every event redraws here, so that the test sees the view at each stage of the run
    # whatever the machine's speed; by default redraws are throttled (tested below).
    source = "import mlplab.live\nmlplab.live.UPDATE_EVERY_S = 0.0\n" + TRAIN.format(
        config=str(EXAMPLES / "xor_nn.yaml"), log=str(tmp_path / "runs")
    )
    nb, messages = _execute(source, tmp_path)

    (first,) = _views(messages, "display_data")  # one display, then updates of it
    display_id = first["transient"]["display_id"]
    updates = _views(messages, "update_display_data")
    assert updates and all(u["transient"]["display_id"] == display_id for u in updates)
    assert (
        "epoch 0/3001" in first["data"]["text/plain"] and _points(first["data"]["text/html"]) == 0
    )

    # Progress only goes forward, the curve grows, and the last update is the finished run.
    progress = [int(_PROGRESS.search(u["data"]["text/plain"])[1]) for u in updates]
    points = [_points(u["data"]["text/html"]) for u in updates]
    assert progress == sorted(progress) and progress[-1] == 3001 and len(set(progress)) > 10
    assert points == sorted(points) and points[-1] == 31  # validate_every 100: 30 + the last
    last = updates[-1]["data"]
    assert "finished" in last["text/plain"] and "<svg" in last["text/html"]
    assert 'style="width:100.0%' in last["text/html"]  # the bar is full
    # Beside the curve, the model's surface over xor's plane, drawn as it trained.
    assert 'class="mlplab-surface"' in last["text/html"]
    assert sum('class="mlplab-surface"' in u["data"]["text/html"] for u in updates) > 5

    # The saved notebook keeps one output for the view, in its final state, next to the
    # lab's printout (which is unchanged: the step lines go on printing).
    outputs = nb.cells[0].outputs
    shown = [o for o in outputs if "mlplab-live" in o.get("data", {}).get("text/html", "")]
    assert len(shown) == 1 and shown[0]["data"] == last
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "\n3000 " in text and "Accuracy: 1.0" in text


def test_a_run_a_subscriber_ended_shows_failed_not_a_frozen_bar(tmp_path):
    """A subscriber that raised ended the run with no End: the view stood at its last
    percentage above the traceback, as if still training."""
    source = (
        "import mlplab\nfrom mlplab.training.events import Validate\n"
        "def bad(event):\n"
        "    if isinstance(event, Validate) and event.epoch == 5:\n"
        "        raise ValueError('boom')\n"
        "try:\n"
        f"    mlplab.train(data='moons', epoch=50, plots='none', log_path={str(tmp_path)!r}, "
        "subscribers=[bad])\n"
        "except ValueError as err:\n"
        "    print('raised', err)\n"
    )
    nb, messages = _execute(source, tmp_path)
    views = _views(messages, "display_data") + _views(messages, "update_display_data")
    last = views[-1]["data"]["text/plain"]
    assert "failed" in last and "epoch 5/50" in last, last
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o["output_type"] == "stream")
    assert "raised boom" in text


# --- outside Jupyter ------------------------------------------------------------------------
def test_train_in_a_script_shows_no_live_view_and_never_imports_ipython(tmp_path):
    code = TRAIN.format(config=str(EXAMPLES / "xor_nn.yaml"), log=str(tmp_path)) + (
        "import sys\nprint('IPython loaded:', 'IPython' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "IPython loaded: False" in out
    assert "mlplab-live" not in out and "<svg" not in out and "epoch 3001/3001" not in out
    assert "\n3000 " in out and "Accuracy: 1.0" in out  # the lab's printout, as before


def test_train_in_terminal_ipython_shows_no_live_view(tmp_path):
    pytest.importorskip("IPython")
    code = TRAIN.format(config=str(EXAMPLES / "xor_nn.yaml"), log=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "mlplab-live" not in out and "IPython.core.display" not in out
    assert "epoch 3001/3001" not in out and "Accuracy: 1.0" in out


# --- the subscriber itself --------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _step(step: int, loss: float) -> Step:
    return Step(None, step, step, np.array([0]), np.array([loss]))  # type: ignore[arg-type]


def _validate(epoch: int, loss: float) -> Validate:
    one = np.array([loss])
    flag = np.array([True])
    return Validate(None, epoch, epoch, np.array([0]), one, one, one, one, one, flag)  # type: ignore[arg-type]


class _Stack:
    """The one thing the view asks of an End's models: whether the model stopped early."""

    def __init__(self, stopped_early: bool = False) -> None:
        self.stopped_early = stopped_early

    def loop_state(self, model_id: int, curves: bool = True) -> _Stack:
        return self


def _end(epoch: int, status: str, message: str = "", stopped_early: bool = False) -> End:
    models = _Stack(stopped_early)
    return End(models, epoch, epoch, np.array([0]), [status], [message], [{}])  # type: ignore[arg-type]


def test_redraws_are_throttled_but_the_first_and_the_last_always_show():
    clock, shown = Clock(), []
    view = LiveView("xor", 1000, show=shown.append, clock=clock)
    view(Start(None, 0, 0))  # type: ignore[arg-type]
    for e in range(1, 1001):  # 1000 epochs in 1 s of the clock: 2000 events
        clock.t = e / 1000
        view(_step(e - 1, 1.0 / e))
        view(_validate(e, 1.0 / e))
    view(_end(1000, "finished"))
    # The start, one redraw per UPDATE_EVERY_S (0.25 s) of the run, and the end.
    assert 4 <= len(shown) <= 7
    assert "epoch 0/1000" in shown[0]["text/plain"]
    assert "finished" in shown[-1]["text/plain"] and "epoch 1000/1000" in shown[-1]["text/plain"]
    # A loss over three decades gets a log axis, with decades labelled; the curve is thinned.
    assert ">1e-1<" in shown[-1]["text/html"] and ">1e-2<" in shown[-1]["text/html"]
    assert _points(shown[-1]["text/html"]) == 400


def test_a_diverging_loss_gets_a_few_readable_labels_on_its_log_axis():
    shown: list[dict[str, str]] = []
    view = LiveView("moons", 100, show=shown.append, clock=Clock())
    view(Start(None, 0, 0))  # type: ignore[arg-type]
    for e, loss in enumerate((0.7, 6.7e8, 7.1e19, 1.1e29), start=1):
        view(_validate(e, loss))
    view(_end(4, "diverged", "nan"))
    page = shown[-1]["text/html"]
    labels = re.findall(r'text-anchor="end" fill="#444">(1e-?\d+)<', page)
    ys = [
        float(y)
        for y in re.findall(r'<text x="\S+" y="(\S+)"[^>]*text-anchor="end" fill="#444">1e', page)
    ]
    # 30 decades: every few labelled from 1e0 up, the 11 px labels at least a line apart.
    assert 2 <= len(labels) <= 6 and labels[0] == "1e0"
    assert min(abs(np.diff(ys))) >= 14


def _drawn(losses: tuple[float, ...]) -> str:
    """The last page of a 100-epoch view shown ``losses`` at epochs 1, 2, ..."""
    shown: list[dict[str, str]] = []
    view = LiveView("xor", 100, show=shown.append, clock=Clock())
    view(Start(None, 0, 0))  # type: ignore[arg-type]
    for e, loss in enumerate(losses, start=1):
        view(_validate(e, loss))
    view(_end(len(losses), "finished"))
    return shown[-1]["text/html"]


def test_a_flat_loss_gets_labels_that_differ():
    """The perceptron's loss flat at ln 2 (0.69314 to 0.69316) read 0.693, 0.693, 0.693."""
    page = _drawn((0.693165, 0.69315, 0.693147))
    labels = re.findall(r'text-anchor="end" fill="#444">([\d.e-]+)<', page)
    loss_labels = labels[:3]  # then the last epoch, 100, at the x axis's end
    assert len(set(loss_labels)) == 3 and labels[3:] == ["100"], labels


def test_a_view_that_fails_warns_once_and_the_run_goes_on():
    calls = []

    def broken(bundle):
        calls.append(bundle)
        raise OSError("the frontend went away")

    view = LiveView("xor", 10, show=broken, clock=Clock())
    with pytest.warns(RuntimeWarning, match="live view stopped .*frontend went away"):
        view(Start(None, 0, 0))  # type: ignore[arg-type]
    view(_validate(1, 0.5))
    view(_end(1, "finished"))
    assert len(calls) == 1  # no retries after the first failure


def test_an_early_stop_is_said_not_called_finished_short_of_its_epochs(tmp_path):
    """A run that stops early ends 'finished' at epoch 12 of 300: the view says why."""
    import mlplab

    shown: list[dict[str, str]] = []
    view = LiveView("moons", 300, show=shown.append)
    res = mlplab.train(
        data="moons",
        epoch=300,
        optim="adam",
        lr=0.05,
        patience=3,
        plots="none",
        verbose=False,
        log_path=str(tmp_path),
        subscribers=[view],
    )
    assert res.record["stopped_early"] and res.record["epochs_run"] < 300
    last = shown[-1]["text/plain"]
    assert "stopped early" in last and f"epoch {res.record['epochs_run']}/300" in last, last


def test_a_loss_flat_to_a_millionth_is_drawn_flat_not_as_a_cliff():
    """The perceptron stuck at ln 2 (0.6931476 to 0.6931472) filled the whole axis: a fall of
    4e-7 drawn from top to bottom, which read as learning."""

    def heights(page: str) -> list[float]:
        return [float(p.split(",")[1]) for p in re.search(r'points="([^"]+)"', page)[1].split()]

    flat = heights(_drawn((0.6931476, 0.6931474, 0.6931472)))
    assert max(flat) - min(flat) < 2  # pixels, of an axis 180 high
    # A loss that does fall (by a tenth here) still spans the axis.
    falling = heights(_drawn((0.70, 0.66, 0.63)))
    assert max(falling) - min(falling) > 150


def test_a_view_that_never_started_shows_no_failure():
    """fail() before any Start drew a bar whose time was the machine's uptime."""
    shown: list[dict[str, str]] = []
    view = LiveView("m", 100, show=shown.append)
    view.fail()
    assert shown == []


# --- a sweep's view ---------------------------------------------------------------------------
SWEEP = (
    "import mlplab\n"
    "r = mlplab.sweep(data='sinlog', epoch=30, lr=[0.003, 0.03, 0.3], plots='none', "
    "log_path={log!r}, workers=2, report=False)\n"
    "fm = r.final_metrics()\n"
    "print('BEST', min(fm, key=lambda k: fm[k]['val_mse']), len(r.outcomes))\n"
)


@pytest.mark.slow
def test_a_sweep_in_jupyter_shows_one_view_updated_to_its_runs_and_best_run(tmp_path):
    """A sweep in a notebook printed a line per run and nothing live; now, one display
    counts the runs (trained in worker processes) and names the best so far."""
    nb, messages = _execute(SWEEP.format(log=str(tmp_path / "runs")), tmp_path)
    (first,) = _views(messages, "display_data")
    display_id = first["transient"]["display_id"]
    updates = _views(messages, "update_display_data")
    assert updates and all(u["transient"]["display_id"] == display_id for u in updates)
    assert "0/3 runs" in first["data"]["text/plain"]
    counts = [int(re.search(r"(\d+)/3 runs", u["data"]["text/plain"])[1]) for u in updates]
    assert counts == sorted(counts) and counts[-1] == 3

    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    best, trained = re.search(r"^BEST (\S+) (\d+)$", text, re.M).groups()
    assert trained == "3"
    shown = [o for o in outputs if "mlplab-live" in o.get("data", {}).get("text/html", "")]
    assert len(shown) == 1 and shown[0]["data"] == updates[-1]["data"]
    final = shown[0]["data"]["text/plain"]
    assert final.startswith("mlplab sweep: done, 3/3 runs"), final
    assert re.search(rf"best run: lr [\d.]+ \({best}\), val_mse [\d.e+-]+$", final), final
    assert "<b>lr " in shown[0]["data"]["text/html"] and best in shown[0]["data"]["text/html"]
    assert "[1/3]" not in text  # the view, not a line per run


def test_a_sweep_in_a_script_prints_a_line_per_run_and_never_imports_ipython(tmp_path):
    code = SWEEP.format(log=str(tmp_path)) + (
        "import sys\nprint('IPython loaded:', 'IPython' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "IPython loaded: False" in out and "mlplab sweep:" not in out
    assert len(re.findall(r"^\[\d/3\] exp-\w+ finished in", out, re.M)) == 3, out


def _outcome(run_id: str, status: str = "finished", **metrics: float) -> dict:
    return {"run_id": run_id, "status": status, "metrics": metrics}


def test_a_sweep_view_ranks_finished_runs_by_their_metric_and_throttles():
    clock, shown = Clock(), []
    view = SweepView(
        6,
        labels={"a": "lr 0.1", "b": "lr 0.5"},
        ranking=lambda m: ("val_acc", False),
        show=shown.append,
        clock=clock,
    )
    view.start()
    assert shown[-1]["text/plain"] == "mlplab sweep: 0%, 0/6 runs, 0.0 s"
    clock.t = 2.0
    view.done(_outcome("a", val_acc=0.8, val_loss=0.4))
    assert (
        "1/6 runs, 2.0 s, ~10.0 s left; best run so far: lr 0.1 (a), val_acc 0.8"
        in (shown[-1]["text/plain"])
    )
    # Outcomes of one stack come at once: one redraw per UPDATE_EVERY_S, not per run.
    view.done(_outcome("b", val_acc=0.9))
    view.done(_outcome("c", "diverged"))
    view.done(_outcome("d", "pruned", val_acc=1.0))  # stopped short: it does not rank
    assert len(shown) == 2
    clock.t = 3.0
    view.done(_outcome("e", val_acc=0.85))
    last = shown[-1]["text/plain"]
    assert "5/6 runs" in last and "1 diverged, 1 pruned" in last, last
    assert last.endswith("best run so far: lr 0.5 (b), val_acc 0.9"), last
    view.finish()  # one run never came: the sweep was interrupted
    last = shown[-1]
    assert last["text/plain"].startswith("mlplab sweep: stopped, 5/6 runs")
    assert "best run so far" in last["text/plain"] and "#999999" in last["text/html"]


def test_a_sweep_view_takes_the_lowest_of_an_ascending_metric_and_says_done():
    shown: list[dict[str, str]] = []
    view = SweepView(2, ranking=lambda m: ("val_mse", True), show=shown.append, clock=Clock())
    view.start()
    view.done(_outcome("x", val_mse=2.0))
    view.done(_outcome("y", val_mse=0.5))
    view.finish()
    assert (
        shown[-1]["text/plain"] == "mlplab sweep: done, 2/2 runs, 0.0 s; best run: y, val_mse 0.5"
    )
    assert 'style="width:100.0%' in shown[-1]["text/html"]


def test_a_resumed_run_counts_on_from_its_time_and_epoch_before():
    # The run trained 30 s up to epoch 150 of 400 before the resume; this session's
    # 10 epochs in 10 s give the time left. The clock had said 0.0 s after a resume.
    clock, shown = Clock(), []
    view = LiveView("moons", 400, show=shown.append, clock=clock, elapsed_before=30.0)
    clock.t = 100.0
    view(Start(None, 150, 15000))  # type: ignore[arg-type]
    assert "38%, epoch 150/400, 30.0 s" in shown[0]["text/plain"]
    clock.t = 110.0
    view(_validate(160, 0.1))
    assert "epoch 160/400, 40.0 s, ~240.0 s left" in shown[-1]["text/plain"]


def test_resume_in_a_notebook_shows_the_runs_time_so_far(tmp_path, monkeypatch):
    import time

    import mlplab
    from mlplab import live
    from mlplab.runs.checkpoint import load_checkpoint

    shown: list[dict[str, str]] = []
    monkeypatch.setattr(live, "in_jupyter", lambda: True)
    monkeypatch.setattr(live, "_jupyter_display", lambda: shown.append)

    def stop(event):
        if isinstance(event, Validate) and event.epoch == 2:
            time.sleep(0.5)  # a run that took a while before its Ctrl-C
        if isinstance(event, Validate) and event.epoch == 4:
            raise KeyboardInterrupt

    kw = dict(data="moons", epoch=8, save_every=1, plots="none", log_path=str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        mlplab.train(**kw, verbose=False, subscribers=[stop])
    (run_dir,) = [p.parent for p in tmp_path.rglob("config.yaml")]
    saved = load_checkpoint(run_dir / "checkpoints" / "last.safetensors").meta
    assert saved["loop"]["epoch"] == 3 and saved["elapsed_s"] >= 0.5
    before = len(shown)
    mlplab.train(resume=run_dir, verbose=True)
    shown_s = re.search(r"epoch 3/8, ([\d.]+) s", shown[before]["text/plain"])
    assert shown_s and float(shown_s[1]) == pytest.approx(saved["elapsed_s"], abs=0.06)
    # Its curves start with the 3 epochs it had: they started empty.
    page = shown[before]["text/html"]
    for curve in ("train", "val"):
        points = re.search(rf'class="curve-{curve}"[^>]*points="([^"]+)"', page)
        assert points and len(points[1].split()) == 3, curve


def test_a_sweep_view_breaks_ties_as_the_report_does():
    """Two runs of val_acc 1.0 (xor): the view named the first to finish, the report the
    one of lower val_loss ("ties by val_loss"). A run without the tie's metric ranks last."""
    from mlplab.reports import aggregate

    shown: list[dict[str, str]] = []
    view = SweepView(
        4,
        ranking=lambda m: aggregate.ranking_metric("classification"),
        tie=lambda m: aggregate.tie_break("classification"),
        show=shown.append,
        clock=Clock(),
    )
    view.start()
    view.done(_outcome("a", val_acc=1.0))  # no val_loss: after any run that has one
    view.done(_outcome("b", val_acc=1.0, val_loss=0.30))
    view.done(_outcome("c", val_acc=1.0, val_loss=0.05))
    view.done(_outcome("d", val_acc=0.75, val_loss=0.01))  # a lower score: no matter its loss
    view.finish()
    assert shown[-1]["text/plain"].endswith("best run: c, val_acc 1"), shown[-1]["text/plain"]
    # Scores equal but for their last bits tie, as the report's rounded means do.
    view = SweepView(2, ranking=lambda m: ("val_mse", True), tie=lambda m: ("val_mae", True))
    view.done(_outcome("x", val_mse=0.1 + 0.2, val_mae=0.5))
    view.done(_outcome("y", val_mse=0.3, val_mae=0.4))
    assert view.best is not None and view.best[0] == "y"
    from mlplab import live

    assert live.TIE_DECIMALS == aggregate.TIE_DECIMALS


def test_a_sweeps_live_view_names_the_reports_best_run_on_a_tie(monkeypatch):
    """The sweep gave its view the report's ranking metric but not its tie rule."""
    from mlplab import live
    from mlplab.config import Config
    from mlplab.runs.record import run_name
    from mlplab.sweeps.api import _Progress

    shown: list[dict[str, str]] = []
    monkeypatch.setattr(live, "in_jupyter", lambda: True)
    monkeypatch.setattr(live, "_jupyter_display", lambda: shown.append)
    configs = [Config(data="xor", lr=lr) for lr in (0.1, 0.5)]
    ids = [run_name(c) for c in configs]
    with _Progress(configs, ["lr"], show=True) as progress:
        progress.done(_outcome(ids[0], val_acc=1.0, val_loss=0.2))
        progress.done(_outcome(ids[1], val_acc=1.0, val_loss=0.1))
    assert shown[-1]["text/plain"].endswith(f"best run: lr 0.5 ({ids[1]}), val_acc 1")


def test_a_sweeps_live_view_ranks_by_the_sweeps_rank_by(monkeypatch):
    """sweep(rank_by="val_bacc") ranks its report so; its view ranked by val_acc still,
    and named another best run than the report."""
    from mlplab import live
    from mlplab.config import Config
    from mlplab.runs.record import run_name
    from mlplab.sweeps.api import _Progress

    shown: list[dict[str, str]] = []
    monkeypatch.setattr(live, "in_jupyter", lambda: True)
    monkeypatch.setattr(live, "_jupyter_display", lambda: shown.append)
    configs = [Config(data="xor", lr=lr) for lr in (0.1, 0.5)]
    ids = [run_name(c) for c in configs]
    metrics = [
        dict(val_acc=0.95, val_bacc=0.5, val_loss=0.2),
        dict(val_acc=0.9, val_bacc=0.8, val_loss=0.3),
    ]
    for rank_by, best in ((None, 0), ("val_bacc", 1)):
        with _Progress(configs, ["lr"], show=True, rank_by=rank_by) as progress:
            for i in (0, 1):
                progress.done(_outcome(ids[i], **metrics[i]))
        metric = rank_by or "val_acc"
        value = f"{metrics[best][metric]:.4g}"
        assert shown[-1]["text/plain"].endswith(f"({ids[best]}), {metric} {value}"), shown[-1]


def test_a_sweep_view_stopping_counts_no_interrupted_run_as_done():
    """Interrupted runs moved the bar on (17%, 33%, '~40 s left') while the sweep stopped,
    and '2/6 runs' stood beside a summary of 0 trained and 6 remaining."""
    clock, shown = Clock(), []
    view = SweepView(6, show=shown.append, clock=clock)
    view.start()
    clock.t = 4.0
    view.done(_outcome("a", val_loss=0.3))
    assert "17%, 1/6 runs, 4.0 s, ~20.0 s left" in shown[-1]["text/plain"]
    clock.t = 8.0
    view.done(_outcome("b", "interrupted", val_loss=0.5))
    view.done(_outcome("c", "interrupted", val_loss=0.4))
    view.finish()
    text = shown[-1]["text/plain"]
    assert text.startswith("mlplab sweep: stopped, 1/6 runs, 8.0 s, 2 interrupted"), text
    assert "left" not in text and "#999999" in shown[-1]["text/html"]
    assert not any("3/6" in s["text/plain"] or "2/6" in s["text/plain"] for s in shown)


def test_the_loss_chart_is_an_image_a_screen_reader_can_name():
    """The chart was an unnamed SVG, and its 'val loss' was orange text at 2.5:1."""
    page = _drawn((0.9, 0.5, 0.25))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    assert label.startswith("loss by epoch, 3 points; latest: ") and "0.25" in label
    assert f"<title>{label}</title>" in svg
    # Each curve's name in dark ink, its colour shown by a swatch beside it.
    names = re.findall(r'fill="([^"]+)">(?:\w+ )?loss</text>', svg)
    assert names and set(names) == {"#333"}
    # The latest is the latest, a diverged run's nan too, not its last finite loss.
    page = _drawn((0.9, 0.5, float("nan")))
    assert re.search(r'aria-label="[^"]*latest: \w* ?loss nan', page), page[:400]


def _png(html: str) -> np.ndarray:
    """The surface picture of a view's HTML, as an RGBA array (row 0 at the top)."""
    import base64
    import io

    from matplotlib.image import imread

    (data,) = re.findall(r'href="data:image/png;base64,([^"]+)"', html)
    return imread(io.BytesIO(base64.b64decode(data)), format="png")


def test_the_live_view_draws_the_models_surface_as_it_predicts_and_throttles_it(tmp_path):
    """The TensorFlow Playground's surface moves as its model trains; the notebook's live
    view had a bar and a loss curve, and the surface came only when the run had ended."""
    import mlplab
    from mlplab.plots.live_surface import PIXELS, live_surface
    from mlplab.plots.surfaces import make_grid

    ds = mlplab.load_dataset("moons")
    draw = live_surface(ds)
    assert draw is not None and live_surface(mlplab.load_dataset("iris")) is None  # no plane
    drawn = []

    def counted(predict):
        drawn.append(1)
        return draw(predict)

    clock, shown = Clock(), []  # the clock stands still: one surface, and the end's
    view = LiveView("moons", 30, show=shown.append, clock=clock, surface=counted)
    r = mlplab.train(dataset=ds, optim="adam", lr=0.01, epoch=30, record=False, verbose=False,
                     subscribers=[view])  # fmt: skip
    assert len(drawn) == 2 and 'class="mlplab-surface"' in shown[-1]["text/html"]
    # The picture is the trained model's: orange where it says class 1, blue where class 0.
    img = _png(shown[-1]["text/html"])[::-1]  # row 0 at the bottom, as the grid's
    assert img.shape[:2] == (PIXELS, PIXELS)
    grid = make_grid(ds, PIXELS)
    p1 = 1 / (1 + np.exp(-r.model_outputs(grid.model_inputs)[:, 0].reshape(PIXELS, PIXELS)))
    red, blue = img[..., 0], img[..., 2]
    assert (p1 > 0.9).any() and (p1 < 0.1).any()
    assert (red[p1 > 0.9] > blue[p1 > 0.9]).all() and (blue[p1 < 0.1] > red[p1 < 0.1]).all()
    # The training rows over it, and what it shows named for a screen reader.
    assert shown[-1]["text/html"].count("<circle") == 200
    assert 'aria-label="decision surface: x1 (→) by x2 (↑)' in shown[-1]["text/html"]
