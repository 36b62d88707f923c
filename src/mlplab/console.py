"""What a run prints: the labs' ``step cost`` lines, a progress bar on terminals, and tables.

The progress bar shows only on an interactive terminal and never in logs or CI, so
captured output stays clean and diffable.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotations only: the console loads before these do
    from mlplab.config import Config
    from mlplab.data.dataset import Dataset
    from mlplab.engines.spec import ModelSpec
    from mlplab.training.events import End

import io
import itertools
import math
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlplab.training.metrics import TARGET_METRICS, unequal_targets

# C0 and C1 control characters but the line breaks and tabs that tables already lay out.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# A data file this big is read and checked for seconds before any other line (about 10 s
# for 100 MiB of CSV on one core): said first, so that the wait has a reason.
BIG_DATA_FILE = 20 * 2**20


def reading_line(data: object) -> str | None:
    """``mlplab: reading FILE (115.0 MiB) ...`` for a data file big enough to be read in
    silence for seconds; None for a small file, a built-in dataset's name or arrays."""
    if not isinstance(data, str | os.PathLike):
        return None
    try:
        size = os.stat(data).st_size
    except (OSError, ValueError):
        return None
    if size < BIG_DATA_FILE:
        return None
    from mlplab.data.cost import human_bytes

    return terminal_text(f"mlplab: reading {os.fspath(data)} ({human_bytes(size)}) ...")


def say_reading(data: object) -> None:
    """Print :func:`reading_line` on stderr (where progress goes), if ``data`` has one."""
    if (line := reading_line(data)) is not None:
        print(line, file=sys.stderr, flush=True)


def terminal_text(text: str) -> str:
    """``text`` with its control characters written out (``\\x1b``): a name read from a
    file (a data path, a label, a record edited by hand) must not retitle, clear or
    recolour the terminal it is printed on."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def interactive() -> bool:
    # sys.stdout is None where descriptor 1 was closed before Python started (pythonw).
    tty = sys.stdout is not None and sys.stdout.isatty()
    # A notebook's `!mlplab ...` runs on a pseudo-terminal whose output goes into the cell,
    # which shows colours but not the cursor moves that erase a bar: each repaint stayed,
    # in the saved notebook too. Its kernel's JPY_PARENT_PID says where it is.
    notebook = bool(os.environ.get("JPY_PARENT_PID"))
    # --no_progress sets MLPLAB_NO_PROGRESS, which a sweep's worker processes inherit: a
    # screen reader reads each repaint of a bar, where log lines are read once.
    off = os.environ.get("MLPLAB_NO_PROGRESS", "").strip().lower() not in (
        "",
        "0",
        "false",
        "no",
        "off",
    )
    dumb = os.environ.get("TERM") == "dumb"
    return tty and not (os.environ.get("CI") or notebook or off or dumb)


def narrow_terminal() -> bool:
    """Whether the terminal is too narrow for a whole bar: at 40 columns rich cut the step
    count and the time left to '…' and kept a bar two cells long."""
    import shutil

    return shutil.get_terminal_size().columns < 72


def rich_loaded() -> None:
    """Import rich without its draw from Python's ``random``: rich.style's first import
    takes 24 random bits, so a script's ``random.seed(0)`` gave other numbers after its
    first ``train(verbose=True)`` (as scikit-learn's import did: :mod:`mlplab.data.bundled`)."""
    if "rich.style" not in sys.modules:
        import random

        state = random.getstate()
        import rich.style  # noqa: F401

        random.setstate(state)


def _rate() -> Any:  # a rich ProgressColumn
    """The bar's steps a second (seconds a step, where slower), over rich's last 30 s."""
    rich_loaded()
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.speed
            if not speed:
                return Text("")
            return Text(f"{speed:,.0f} steps/s" if speed >= 1 else f"{1 / speed:.1f} s/step")

    return Rate()


class RunConsole:
    """Prints one run's progress. ``verbose=False`` silences everything.

    On a terminal a bar counts the steps (with the epoch and the last training loss: the
    epoch's mean, and until an epoch has shown one, the last step's), whatever
    ``log_every`` is: a run with ``log_every 0`` still shows that it is moving.
    ``progress_every`` is the step interval at which the console wants Step events from
    the loop (0 when it prints nothing but the ``step loss`` lines). Off a terminal those
    lines are shown, and after :attr:`QUIET_S` seconds without a line a validation, or a
    step between validations, prints one that says where the run is: a CI job that kills a
    silent process, or a reader of the log, sees it move.
    """

    QUIET_S = 30.0

    def __init__(
        self,
        verbose: bool = True,
        total_epochs: int = 0,
        log_every: int = 0,
        steps_per_epoch: int = 1,
        lab_targets: np.ndarray | None = None,
        log_val: str | None = None,
        heartbeat: bool = True,
        validate_every: int = 1,
    ) -> None:
        self.verbose = verbose
        self.heartbeat = heartbeat  # off where a live view shows the progress (Jupyter)
        # With log_val, the metric's name (acc or mae), and the latest validation's text.
        self.log_val = log_val
        self._val_text = ""
        self.lab_targets = lab_targets  # see lab_targets(): the cost is printed in the lab's form
        self.total = total_epochs
        self.log_every = log_every
        self.total_steps = total_epochs * max(1, steps_per_epoch)
        self._steps_per_epoch, self._validate_every = max(1, steps_per_epoch), validate_every
        self.progress_every = 0
        self._progress: Any = None
        self._task: Any = None
        self._every = max(1, total_epochs // 200)
        self._epoch_loss = False  # whether the bar shows an epoch's mean loss yet
        self._said = time.monotonic()  # when a line was last printed
        self._since: tuple[float, int] | None = None  # when and at which step it set out
        if verbose and interactive() and self.total_steps > 1:
            rich_loaded()
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            # About 200 updates over the run: a bar that moves, at no cost to the loop.
            self.progress_every = max(1, self.total_steps // 200)
            epochs = TextColumn(
                f"epoch {{task.fields[epoch]}}/{total_epochs} {{task.fields[info]}}"
            )
            steps = (TextColumn("step"), MofNCompleteColumn(), BarColumn())
            # A narrow terminal keeps the epochs, the loss and the time left; a wide one
            # also the rate, to compare settings (a batch size, an engine) by.
            left = TimeRemainingColumn()
            narrow = narrow_terminal()
            columns = (epochs, left) if narrow else (*steps, epochs, left, _rate())
            self._progress = Progress(*columns, transient=True)
        elif verbose and heartbeat and self.total_steps > 1:
            # A log's line between validations: an epoch of a big table, or many epochs
            # between validations, had left it silent for minutes.
            self.progress_every = max(1, self.total_steps // 200)

    def __enter__(self) -> RunConsole:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("train", total=self.total_steps, info="", epoch=0)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()

    def line(self, text: str) -> None:
        if not self.verbose:
            return
        text = terminal_text(text)  # a data file's name may hold control characters
        if self._progress is not None:
            # soft_wrap: the terminal wraps a long line (a run folder stays one word to
            # copy); rich broke it with newlines at the width.
            self._progress.console.print(text, highlight=False, markup=False, soft_wrap=True)
        else:
            print(text, flush=False)
        self._said = time.monotonic()

    def step(self, step: int, loss: float) -> None:
        # The labs print `step cost` with Python's repr of the float.
        self.line(f"{step} {loss} {self._val_text}" if self._val_text else f"{step} {loss}")

    def epoch(self, epoch: int, info: str = "", step: int | None = None) -> None:
        if self._progress is not None and (epoch % self._every == 0 or epoch == self.total):
            done = {} if step is None else {"completed": step}
            self._progress.update(self._task, epoch=epoch, info=info, **done)
            self._epoch_loss = bool(info)

    def __call__(self, event: Any) -> None:
        """Subscribe to a run's events: the labs' ``step cost`` lines and the progress bar.

        A stack of several models prints the median of their step costs.
        """
        from mlplab.training.events import Step, Validate

        if isinstance(event, Step):
            if self.verbose and self.log_every and event.step % self.log_every == 0:
                losses = event.losses
                if self.lab_targets is not None:
                    outs = [event.models.step_outputs(int(k)) for k in event.ids]
                    losses = np.array([lab_cost(z, self.lab_targets) for z in outs])
                one = float(losses[0]) if len(losses) == 1 else float(np.median(losses))
                self.step(event.step, one)
            if self._since is None:  # the first step: a resumed run sets out here
                self._since = (time.monotonic(), event.step)
            if self._progress is None:
                if self.progress_every and event.step % self.progress_every == 0:
                    self._between_validations(event.step, event.losses)
            elif self.progress_every and event.step % self.progress_every == 0:
                # Before an epoch's mean loss, the last step's, for a single model.
                first = not self._epoch_loss and len(event.losses) == 1
                last = {"info": f"loss {float(event.losses[0]):.4g}"} if first else {}
                self._progress.update(self._task, completed=event.step + 1, **last)
        elif isinstance(event, Validate):
            if self.log_val:
                # The median over a stack's models, as the step cost above.
                loss, metric = (float(np.median(v)) for v in (event.val_loss, event.val_metric))
                self._val_text = f"val_loss {loss:#.4g} val_{self.log_val} {metric:#.4g}"
            train = event.train_loss
            info = f"loss {float(train[0]):.4g}" if len(train) == 1 else ""
            self.epoch(event.epoch, info, event.step)
            now = time.monotonic()
            if self._since is None:  # the first validation: a resumed run sets out here
                self._since = (now, event.step)
            quiet = now - self._said >= self.QUIET_S
            if self.verbose and self.heartbeat and self._progress is None and quiet:
                self._say_where(now, event.epoch, event.step, f", {info}" if info else "")

    def _between_validations(self, step: int, losses: Any) -> None:
        """After a silence, a log's line at a step that no validation ends (one that
        does prints its own)."""
        now = time.monotonic()
        if now - self._said < self.QUIET_S:
            return
        done = (step + 1) // self._steps_per_epoch  # epochs done once this step is
        if (step + 1) % self._steps_per_epoch == 0 and (
            done % self._validate_every == 0 or done >= self.total
        ):
            return
        # Steps done; epochs done, as a validation's line counts them, or within an epoch
        # the one in progress ("epoch 2/4, step 38401" was read as the second's step).
        loss = f", batch loss {float(losses[0]):.4g}" if len(losses) == 1 else ""
        within = (step + 1) % self._steps_per_epoch != 0
        self._say_where(now, done + within, step + 1, loss, "in " if within else "")

    def _say_where(self, now: float, epoch: int, step: int, loss: str, within: str = "") -> None:
        """A log's line of where the run is, after a silence: epochs and steps done, or
        ``in epoch N`` where the step is within one."""
        self.line(
            f"mlplab: {within}epoch {epoch}/{self.total}, step {step}{loss}"
            f"{self._time_left(now, step)}"
        )
        sys.stdout.flush()

    def _time_left(self, now: float, step: int) -> str:
        """`` (37 s, about 63 s left)``: a log has no bar to say how long is left; the
        pace is that since the first step it saw (a resumed run's earlier steps aside)."""
        began, first = self._since or (now, step)
        took, done = now - began, step - first
        if done <= 0 or step >= self.total_steps:
            return ""
        return f" ({took:.0f} s, about {took * (self.total_steps - step) / done:.0f} s left)"


def lab_targets(task: str, y_train: np.ndarray, batch_size: int, dtype: str) -> np.ndarray | None:
    """The targets that :func:`lab_cost` needs to print a run's step costs, or None.

    Only a binary task differs in form, and only a full-batch run's step sees every row,
    whose targets are known here (a minibatch's rows are the loop's draw); other runs print
    the engine's loss.
    """
    full = batch_size <= 0 or batch_size >= len(y_train)
    if task != "binary" or not full:
        return None
    return np.asarray(y_train, dtype=dtype).reshape(-1, 1)


def lab_probability(outputs: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """``sigmoid(z)`` computed in ``dtype``, as the labs' float32 ``torch.sigmoid`` gives it."""
    one = np.dtype(dtype).type(1)
    with np.errstate(over="ignore"):  # exp(-z) -> inf: p = 0
        return one / (one + np.exp(-np.asarray(outputs, dtype=dtype)))


def lab_cost(outputs: np.ndarray, y: np.ndarray) -> float:
    """A binary model's cost as the labs print it: ``BCELoss(sigmoid(z))``, in ``y``'s dtype.

    mlplab trains on BCE-with-logits, computed from the logits ``z``. The labs first round
    ``sigmoid(z)`` to float32, then take logs (clamped at -100, as torch's ``BCELoss``). Near
    p = 1 that rounding moves a trained model's cost by up to ~5e-5 relative, so this form
    prints the slides' own digits. The gradients, curves and records are the engine's.
    ``outputs``: logits ``[B, 1]``; ``y``: 0/1 ``[B, 1]``.
    """
    one = y.dtype.type(1)
    p = lab_probability(outputs, y.dtype)
    with np.errstate(divide="ignore"):  # log(0): clamped below
        terms = y * np.maximum(np.log(p), -100) + (one - y) * np.maximum(np.log(one - p), -100)
    return float(-np.mean(terms, dtype=y.dtype))


def results_table(rows: Sequence[tuple[str, Mapping[str, float | str]]], title: str) -> str:
    """Render ``[(split, {metric: value})]`` as a table string (a text value as it is)."""
    rich_loaded()
    from rich.console import Console
    from rich.table import Table

    metrics: list[str] = []
    for _, m in rows:
        for k in m:
            if k not in metrics:
                metrics.append(k)
    from mlplab.pipes import table_box

    # Rendered to text, not to stdout: rich can't see an ASCII or latin-1 stdout, whose
    # '?' for each line-drawing character made the table a grid of question marks.
    table = Table(box=table_box(sys.stdout))
    table.add_column("split")
    for k in metrics:
        table.add_column(k, justify="right")
    for split, m in rows:
        table.add_row(split, *(_fmt(m.get(k)) for k in metrics))
    # Not force_jupyter: in a notebook, rich would also display an empty output of its own.
    console = Console(
        width=100,
        force_terminal=False,
        force_jupyter=False,
        color_system=None,
        file=io.StringIO(),
    )
    with console.capture() as cap:
        console.print(table)
    return title + "\n" + cap.get().rstrip("\n")


def hypothesis_block(
    task: str, outputs: np.ndarray, y: np.ndarray, before: np.ndarray | None = None
) -> str:
    """The labs' ``Hypothesis`` / ``Correct`` / ``Accuracy`` printout for tiny datasets.

    The hypothesis is the float32 probability, as the labs print it; a binary one decides
    as they do and as the records do, a tie (0.5 to float32 precision) being class 0.
    ``before``: the last step's outputs, before its update, which the labs print as
    ``Hypothesis`` (their loop's last forward pass); ``Correct`` and ``Accuracy`` are of the
    model after it (``outputs``), as theirs are.
    """
    from mlplab.training.metrics import accuracy, predicted_classes, probabilities

    if task == "binary":
        # The sigmoid in float32, as torch's nn.Sigmoid computes the labs' printout: in
        # float64, then rounded, it printed 0.99889386 where the slide has 0.9988939.
        logit = np.asarray(outputs if before is None else before, dtype=np.float32)
        with np.errstate(over="ignore"):  # exp(-logit) -> inf: a probability of 0
            hyp = np.float32(1) / (np.float32(1) + np.exp(-logit))
        lab = predicted_classes(task, outputs).reshape(-1, 1).astype(np.float32)
        return "\n".join(
            [
                f"Hypothesis: {np.array2string(hyp.astype(np.float32), precision=8)}",
                f"Correct: {np.array2string(lab)}",
                f"Accuracy: {accuracy(task, y, outputs)}",
            ]
        )
    correct: np.ndarray | None = None
    if task == "multiclass":
        hyp = probabilities(task, outputs if before is None else before)
        correct = predicted_classes(task, outputs)[:, None].astype(np.float32)
    else:
        hyp = outputs if before is None else before
    with np.printoptions(precision=8, suppress=False):
        out = [f"Hypothesis: {np.array2string(hyp.astype(np.float32))}"]
        if correct is not None:
            out.append(f"Correct: {np.array2string(correct)}")
            out.append(f"Accuracy: {accuracy(task, y, outputs)}")
    return "\n".join(out)


# A run without a test split (split 0.9 0.1 0): its table's test row, and the mark of a
# number it has none of (as a report's tables write it).
NO_TEST_ROW = "test (no rows)"
NO_NUMBER = "–"


def _fmt(v: float | str | None) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float) and (abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3)):
        return f"{v:.4e}"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def record_line(run_dir: Path) -> str:
    """The closing line: where the run's record and plots are (only files that exist)."""
    files = [
        name
        for name in ("result.json", "metrics.csv", "checkpoints/")
        if (run_dir / name.rstrip("/")).exists()
    ]
    if any(run_dir.glob("events.out.tfevents.*")):  # where `tensorboard --logdir` looks
        files.append("TensorBoard events")
    line = f"mlplab: record in {run_dir}/ ({', '.join(files) or 'no files'})"
    plots = run_dir / "plots"
    n = sum(1 for p in plots.iterdir() if p.is_file()) if plots.is_dir() else 0
    if n:
        line += f"; {n} plot{'s' if n != 1 else ''} in {plots}/"
    return line


def print_summary(
    cfg: Config,
    data: Dataset,
    result: dict[str, Any],
    end: End,
    spec: ModelSpec | None = None,
    elapsed_before: float = 0.0,
) -> None:
    """The results table of a run that did not diverge (with balanced accuracy and F1 where
    the classes are :func:`imbalanced`), and the labs' Hypothesis block; the table's title
    names the model by ``spec``'s widths where given (``mlp 2-2-1``), and of a resumed run
    (``elapsed_before`` seconds trained before) the time of this call beside the run's."""
    from mlplab.data.synthetic import GATES  # the console loads before the data layer

    if result["status"] == "diverged":
        return
    # Balanced accuracy and F1 (in every record) only where accuracy alone may flatter.
    hide = () if data.task == "regression" or imbalanced(data) else ("bacc", "f1")
    # A binary F1 is of class 1, the second label sorted: named, as it is the common
    # class where the rare one sorts first ('fraud' before 'legit'). Of several classes it
    # is the macro mean, said so (macro or weighted is a scikit-learn user's question).
    names = data.class_names or []
    f1_name = {"f1": f"f1 ({names[1]})"} if data.task == "binary" and len(names) == 2 else {}
    if data.task == "multiclass":
        f1_name = {"f1": "f1 (macro)"}
    rows: list[tuple[str, dict[str, float | str]]] = []
    for split in ("train", "val", "test"):
        metrics = {
            k.removeprefix(f"{split}_"): v
            for k, v in result.items()
            if k.startswith(f"{split}_") and isinstance(v, float)
        }
        rows.append((split, {f1_name.get(k, k): v for k, v in metrics.items() if k not in hide}))
    no_test = has_no_test_split(data)
    if no_test:  # the record keeps its test metrics; the table leaves out the val rows again
        rows = rows[:2]
    elif not data.has_test:  # split 0.9 0.1 0: the row says so rather than stand blank
        from mlplab.pipes import writes_utf8

        mark = NO_NUMBER if writes_utf8(sys.stdout) else "-"  # an ASCII terminal's '?'
        rows[2] = (NO_TEST_ROW, {k: mark for k in rows[0][1]})
    if data.shared_splits:
        rows = [("train=val" if no_test else "train=val=test", rows[0][1])]
    rows = with_target_rows(rows, result.get(TARGET_METRICS))
    status = str(result["status"])
    cut = status != "finished" and isinstance(result.get("steps"), int)
    if cut:  # the table and the lab's block are of the model so far: said where they are
        status = f"{status} at step {result['steps']}, its model so far,"
    wall = float(result["wall_time_s"])
    # A resumed run's time is the run's, the part before its interruption too: this
    # call's beside it (`finished in 41.81 s` read wrong against the 36 s it took).
    now = f" ({wall - elapsed_before:.2f} s in this call)" if elapsed_before > 0 else ""
    title = terminal_text(f"{cfg.label(spec)} on {data.name}: {status} in {wall:.2f} s{now}")
    if result.get("stopped_early"):  # the table is the last epoch's model, not the best's
        title += (
            f", stopped early at epoch {result.get('epochs_run')} "
            f"({f'patience {cfg.patience}' if cfg.patience else 'by its early_stop rule'}; "
            f"best epoch {result.get('best_epoch')})"
        )
    print(results_table(rows, title))
    by_target = result.get(TARGET_METRICS)
    if isinstance(by_target, dict) and len(by_target) > MAX_TABLE_TARGETS:
        print(
            f"(each of the {len(by_target)} targets' own numbers: result.json's "
            f"{TARGET_METRICS}; the table gives their mean)"
        )
    outputs = end.train_outputs[0] if end.train_outputs else None
    # The labs' printout, for the labs' gates (whose 4 rows are every split): on a small
    # file of a user's it read as the true labels of unnamed rows.
    if data.shared_splits and outputs is not None and data.name in GATES:
        # (An estimator's fit without held-out rows shares its splits too: thousands of
        # rows of it printed as the lab's block.)
        before = end.step_outputs[0] if end.step_outputs else None
        if cut:  # a script that greps `Accuracy: 1.0` scored a run cut short
            print(f"(the model at step {result['steps']}, {result['status']}:)")
        print(hypothesis_block(data.task, outputs, data.y_train, before))


# A regression of up to this many targets shows each target's numbers in the table, on a
# row of its own under each split's mean; more are in the record alone.
MAX_TABLE_TARGETS = 10


def with_target_rows(
    rows: list[tuple[str, dict[str, float | str]]], by_target: object
) -> list[tuple[str, dict[str, float | str]]]:
    """``rows`` with, under each split's (the mean over the targets), a row per target of
    its own MAE, MSE, RMSE and R² from a record's ``target_metrics`` (a regression of
    several targets, at most :data:`MAX_TABLE_TARGETS`); its loss cell is blank, the loss
    being the model's, of every target at once."""
    if not isinstance(by_target, dict) or not 1 < len(by_target) <= MAX_TABLE_TARGETS:
        return rows
    out = []
    for label, metrics in rows:
        out.append((label, metrics))
        split = label.split("=")[0].split(" ")[0]  # train=val=test: the train rows'
        for name, m in by_target.items():
            own: dict[str, float | str] = {
                k.removeprefix(f"{split}_"): v
                for k, v in (m.items() if isinstance(m, dict) else ())
                if k.startswith(f"{split}_") and isinstance(v, float)
            }
            if own and label != NO_TEST_ROW:
                out.append((f"  {terminal_text(str(name))}", own))
    return out


# Classes this unequal in training (the largest this many times the smallest) make the
# table show each split's balanced accuracy and F1 beside its accuracy.
IMBALANCE = 1.5


def imbalanced(data: Dataset) -> bool:
    """Whether ``data``'s classes are of unequal size (:data:`IMBALANCE`) in its training
    split, of at least :data:`MAJORITY_MIN_ROWS` rows (not the labs' 4-row gates)."""
    from mlplab.training.metrics import true_classes

    if data.task == "regression" or len(data.y_train) < MAJORITY_MIN_ROWS:
        return False
    n_classes = 2 if data.task == "binary" else len(data.class_names or [])
    counts = np.bincount(true_classes(data.task, data.y_train), minlength=n_classes)
    return bool(counts.max() >= IMBALANCE * counts.min())


def has_no_test_split(data: Dataset) -> bool:
    """Whether ``data`` is a scikit-learn estimator's: arrays in memory whose test split is
    the validation rows again (see ``Dataset.n_rows``), as the run record needs one, and
    not rows of its own that a table or note should call test rows."""
    from mlplab.data.dataset import is_in_memory

    return is_in_memory(data.name) and data.X_test is data.X_val


def end_notes(
    cfg: Config,
    data: Dataset,
    result: dict[str, Any],
    model: tuple[ModelSpec, dict[str, np.ndarray]] | None = None,
) -> list[str]:
    """What a finished run's numbers say that the table does not: a target whose scale
    kept a regression from fitting, a regression that learnt nothing beyond the mean or a
    training loss that rose (an lr too high), a model no better than the most common class,
    or the default epochs ending while the validation loss still fell, or rising long after
    its lowest. Given the ``model`` (its spec and weights), a model that learnt nothing
    says why where its units show it (:func:`stuck_units_note`)."""
    scale = scale_note(data, result)
    # The target's (or features') scale, where it is the cause, says more than a lower lr.
    mean, rose = mean_note(cfg, data, result, model is not None), loss_rose_note(cfg, result)
    # Far below the mean (R² -1088), a loss that rose says what happened; about the mean
    # (R² near 0), the model learnt nothing, whatever its loss did, as after a few steps.
    steps = result.get("steps")
    trained = not (isinstance(steps, int) and steps < SHORT_RUN_STEPS)
    far = isinstance(r2 := result.get("train_r2"), float) and r2 < -BELOW_MEAN_R2 and trained
    majority = majority_note(data, result, model is not None)
    stuck_on_one = majority or answers_one_class(data, result)
    if stuck_on_one and not scale and (unscaled := unscaled_features_note(data)):
        # A classifier on unscaled features of large values (a table up to 4254: test
        # accuracy 0.54, scaled 0.98) was sent to --act leaky_relu and more epochs, which
        # left it at 0.54: the scale is the cause, as a regression's divergence is told.
        # Also where its test rows beat the common class by luck while it answered one
        # class on its training rows (wine's proline of 1680: "lower --lr" alone).
        scale, majority = unscaled, majority_note(data, result, model is not None, advice=False)
    # Not beside the target's scale (its cure is no lower lr, which this note gives), nor
    # after a few steps, which have not trained the model.
    learnt_nothing = (mean or majority) and not scale and trained
    stuck = stuck_units_note(*model, data.X_train) if model and learnt_nothing else None
    if mean and learnt_nothing and model and not stuck and never_rose(result):
        # Not "the lr is too high": no unit died, and each step lowered the loss.
        mean = mean_note(cfg, data, result, slow=True)
    lr = None if scale else (rose or mean) if far else (mean or rose)
    notes = (scale, lr, majority, stuck)
    swung = overfit_note(data.shared_splits, result)
    # Not both: "still falling, raise --epoch" beside "ended above its lowest, it swings"
    # read as opposite advice; a last point well above the lowest is the news.
    # Nor "still falling" of a loss of 1e28 beside the scale that made it so.
    late = (None if swung or scale else under_trained_note(cfg, result), swung)
    unequal = unequal_targets_note(result)
    return [n for n in (*notes, *late, gate_note(data, result, model), unequal) if n]


def unequal_targets_note(result: dict[str, Any]) -> str | None:
    """Targets of unlike scale (:func:`~mlplab.training.metrics.unequal_targets`): the
    averaged MAE and MSE, and a sweep ranked by them, are mostly the largest target's (a
    sediment load in kg beside a flow in m³/s: the flow had no say)."""
    unequal = unequal_targets(result.get(TARGET_METRICS))
    if unequal is None:
        return None
    largest, smallest, ratio, split = unequal
    times = f"{ratio:,.0f} times" if math.isfinite(ratio) else "far more than"
    return terminal_text(
        f"the targets' scales differ: the {split} MSE of {largest!r} is {times} that of "
        f"{smallest!r}, so the averaged MAE, MSE and RMSE (and a sweep ranked by one of "
        f"them) are mostly those of {largest!r}; R² (unit-free) or each target's own "
        f"numbers (the table's rows under each split, result.json's {TARGET_METRICS}) "
        "compare them"
    )


def gate_note(
    data: Dataset, result: dict[str, Any], model: tuple[ModelSpec, dict[str, np.ndarray]] | None
) -> str | None:
    """An MLP that did not solve a logic gate's 4 rows, and why where its ReLUs show it:
    XOR with --act relu fails on most seeds, and its printout read as the perceptron's,
    with no word (the notes of a model that learnt nothing skip 4 rows). Not of a linear
    model, which the perceptron lab shows failing on purpose."""
    from mlplab.data.synthetic import GATES

    acc, steps = result.get("train_acc"), result.get("steps")
    if data.name not in GATES or model is None or result.get("status") != "finished":
        return None
    if isinstance(steps, int) and steps < SHORT_RUN_STEPS:  # not trained yet, as above
        return None
    spec, weights = model
    if not isinstance(acc, float) or acc >= 1.0 or not spec.widths()[1:-1]:
        return None
    if data.name == "xor" and (single := one_unit_note(spec)):  # no epochs, seed or lr help it
        return f"the MLP did not solve xor's 4 rows (accuracy {acc:.4g}): {single}"
    why = ""
    if spec.act == "relu":
        from mlplab.engines.numpy.model import MLP

        x = np.asarray(data.X_train, dtype=np.float64)
        on = [z[0] > 0 for z, _ in MLP(spec, [weights], dtype="float64").hidden_parts(x)]
        if any(not layer.any() for layer in on):
            why = ": a layer's ReLUs output 0 on every row (dead), and pass no gradient"
        elif all(layer.all() for layer in on):
            why = ": every ReLU is active on all 4 rows, so the net is linear on them, as a perceptron is"
    losses = [float(v) for v in result.get("train_losses") or []]
    if (
        not why
        and len(losses) >= 4
        and losses[len(losses) // 2] - losses[-1] > SLOW_FALL * losses[-1]
    ):
        # Still on its way (30 epochs at lr 0.01): not a start to change, but steps to add.
        return (
            f"the MLP did not solve {data.name}'s 4 rows yet (accuracy {acc:.4g}); its loss was "
            f"still falling ({losses[len(losses) // 2]:.4g} to {losses[-1]:.4g} over the second "
            "half): more --epoch, or a larger --lr"
        )
    if not why and (deep := deep_sigmoid_note(spec)):  # no seed or lr helps it
        return f"the MLP did not solve {data.name}'s 4 rows (accuracy {acc:.4g}): {deep}"
    nothing = constant_loss(data)
    if (
        not why
        and losses
        and nothing
        and abs(losses[-1] - nothing) <= nothing * PLATEAU
        and never_rose(result)
    ):
        # xor-nn at lr 0.1: on the plateau of ln 2 after 10001 steps, and falling; "a
        # lower --lr" was the opposite of what it needed (--epoch 40000 solves it).
        return (
            f"the MLP did not solve {data.name}'s 4 rows yet (accuracy {acc:.4g}); its loss, "
            f"{losses[-1]:.4g}, is still about that of knowing nothing ({nothing:.4g}) and "
            "fell at every validation: its steps are too small to leave that plateau: a "
            "larger --lr, or more --epoch"
        )
    # More units than it has (4 solve XOR on most seeds; a wider net is no help left).
    hidden = spec.widths()[1:-1]
    wider = next((w for w in GATE_WIDTHS if w > max(hidden)), None)
    # Layers of their own widths (hid_dims) each widened: hid_dims overrides --hid_dim.
    tries = ["another --seed", "a lower --lr"]
    if wider is not None and len(set(hidden)) > 1:
        tries.append(f"more units (--hid_dims {'-'.join(str(max(w, wider)) for w in hidden)})")
    elif wider is not None:
        tries.append(f"more units (--hid_dim {wider})")
    tries += ["--act tanh"] * (spec.act != "tanh")
    return (
        f"the MLP did not solve {data.name}'s 4 rows (accuracy {acc:.4g}){why}; "
        f"{', '.join(tries[:-1])} or {tries[-1]} often does"
    )


# Activations that only rise (or stay level) with their input: one unit of them gives a
# number that only rises along one direction of the input. GELU, SiLU and Mish dip below 0
# and rise again, and one unit of them solves xor.
MONOTONE_ACTS = frozenset(
    {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "identity"}
)


def one_unit_note(spec: ModelSpec) -> str | None:
    """Why a net whose every hidden layer is one unit of a rising activation cannot solve
    xor, however long it trains: the first unit's one number rises along one direction
    of the input (each later unit, a rising function of it, keeps that order), and xor's
    two classes lie apart along none: projected onto any line, (0, 0) and (1, 1) have the
    midpoint of (0, 1) and (1, 0), so one pair lies within the other, and the best is 3
    rows of 4. A wider layer after the first one-unit layer can bend that number back (1-8 solves
    xor), and so can a block that adds its input: not noted there."""
    hidden = spec.widths()[1:-1]
    if (
        any(w != 1 for w in hidden)
        or spec.act not in MONOTONE_ACTS
        or any(spec.is_residual(i) for i in range(len(hidden)))
    ):
        return None
    units, each = (
        ("one hidden unit", "it") if len(hidden) == 1 else ("hidden layers of one unit", "each")
    )
    wider = (
        "--hid_dim 2" if spec.hid_dims is None else "--hid_dims " + "-".join(["2"] * len(hidden))
    )
    return (
        f"{units} cannot separate xor, however long it trains: {each} passes on one number, "
        "which only rises (or only falls) along one direction of the input, and along no "
        f"direction do xor's classes lie apart (3 rows of 4 at most); {wider} or more solves it"
    )


# The widths the gate note suggests, the first above the model's widest hidden layer.
GATE_WIDTHS = (4, 8)


# A training R² under this is a model that predicts about the target's mean, and one under
# minus the other, a model that predicts worse than the mean would.
MEAN_R2 = 0.01
BELOW_MEAN_R2 = 0.1


# Fewer optimizer steps than this have not trained a model: no note blames the lr then.
SHORT_RUN_STEPS = 20


def mean_note(
    cfg: Config,
    data: Dataset,
    result: dict[str, Any],
    counted: bool = False,
    slow: bool = False,
) -> str | None:
    """A regression whose training R² is about 0 or below: its predictions are (nearly)
    the training mean, whatever the features. Too large a step does that: ReLUs pushed
    below 0 on every row stop passing gradients ("dead"), and only the output's bias
    learns, which finds the mean; a run that oscillates ends anywhere. ``counted``: the
    units were counted (a note of dead ones says so); ``slow``: the loss never rose and
    no unit was counted dead, so the lr is too low."""
    r2 = result.get("train_r2")
    if data.task != "regression" or result.get("status") != "finished":
        return None
    if not isinstance(r2, float) or not r2 < MEAN_R2:
        return None
    r2_text = "about 0" if abs(r2) < 0.005 else f"{r2:.2g}"  # not -4.4e-16
    steps = result.get("steps")
    if isinstance(steps, int) and steps < SHORT_RUN_STEPS:
        # train(data="sine", epoch=2): two steps have not trained it; the lr is no suspect.
        return (
            f"the training R² is {r2_text}: after {steps} optimizer step"
            f"{'' if steps == 1 else 's'} the model has barely trained; give it more epochs "
            "(--epoch) before judging the lr"
        )
    what = (
        "predicts worse than the target's mean would"
        if r2 < -BELOW_MEAN_R2
        else "predicts about the target's mean, whatever the features"
    )
    if slow:
        # lr 1e-5 was told to try 1e-6, where lr 0.01 reached a test R² of 0.84.
        return (
            f"the training R² is {r2_text}: the model {what}; its training loss never rose "
            "and no unit died, so its steps were too small or too few, not too big: try a "
            f"higher lr, e.g. --lr {cfg.lr * 10:g}, or more epochs"
        )
    # "(dead ReLUs)" a guess, unless the units were counted (the note of them says so).
    dead = " (dead ReLUs)" if cfg.hidden_layers and "relu" in cfg.act and not counted else ""
    why = f"its units stopped learning{dead}" if cfg.hidden_layers else "it stopped learning"
    return (
        f"the training R² is {r2_text}: the model {what}; {why} or the lr is too high: try "
        f"a lower lr, e.g. --lr {cfg.lr / 10:g}"
    )


# How far above its first value the training loss must end for the note that it rose.
LOSS_ROSE = 0.1


def loss_rose_note(cfg: Config, result: dict[str, Any]) -> str | None:
    """The training loss ended more than :data:`LOSS_ROSE` above its first value (the first
    epoch's): each step overshot the minimum it was aimed at, the sign of an lr too high.
    (The perceptron lab's loss stays at ln 2 by design: it does not rise.)"""
    train = result.get("train_losses") or []
    last = result.get("train_loss", train[-1] if train else None)
    if result.get("status") != "finished" or not train or not isinstance(last, float):
        return None
    first = float(train[0])
    if not (np.isfinite(first) and first > 0 and last > first * (1 + LOSS_ROSE)):
        return None
    return (
        f"the training loss rose from {first:.4g} (epoch "
        f"{(result.get('val_epochs') or [1])[0]}) to {last:.4g}: the steps overshoot, "
        f"so the lr is too high; try a lower lr, e.g. --lr {cfg.lr / 10:g}"
    )


# How far above its lowest the last validation loss must end for the overfit note.
OVERFIT = 0.1
# The validations a trend is read over, at the least: one or two points above the lowest
# are a swing of the curve, not a model that overfits.
TREND_POINTS = 3


def overfit_note(shared_splits: bool, result: dict[str, Any]) -> str | None:
    """The validation loss ended more than :data:`OVERFIT` above its lowest: the last
    model, which the table, the last checkpoint and ``mlplab predict`` use, is not the
    best. (Not where validation is the training rows, as the labs' gates have it.)

    It says "overfits" only of a trend (see :func:`_why_worse`): the validation loss
    rising well after its lowest while the training loss fell below it. A rise in the last
    epoch or two, a curve that bounces around its level (minibatch Adam's swings, an lr so
    high that the model stays at chance) or a training loss that stays where it was are
    named as the swings they are. ``result``'s curves should hold every point: the ~250 of
    a long run's result.json may skip the best epoch's neighbours."""
    if result.get("status") != "finished" or shared_splits:
        return None
    losses, epochs = result.get("val_losses") or [], result.get("val_epochs") or []
    best, best_epoch = result.get("best_val_loss"), result.get("best_epoch")
    if not losses or best is None or best_epoch is None or not np.isfinite(losses[-1]):
        return None
    last = float(losses[-1])
    if not (np.isfinite(best) and best > 0 and last > best * (1 + OVERFIT)):
        return None
    stop = (
        ""
        if result.get("stopped_early")
        else "; --patience 10 stops training once it has not improved for 10 validations"
    )
    train = result.get("train_losses") or []
    if len(train) != len(epochs):
        why = "the model got worse after that"
    else:
        # result.json keeps at most a few hundred points of a curve (curves.npz has them
        # all, and a run's own end passes them), so the best epoch may fall between two.
        b = min(int(np.searchsorted(epochs, best_epoch)), len(epochs) - 1)
        why = _why_worse(losses, train, b, float(best), bool(result.get("dp_rate")))
    return (
        f"the validation loss was lowest at epoch {best_epoch} ({best:.4g}) and is "
        f"{last:.4g} at epoch {epochs[-1]}: {why}. The table and "
        "predictions use the last model; checkpoints/best.safetensors keeps the best "
        f"(`mlplab predict RUN --checkpoint best`){stop}"
    )


def _why_worse(val: list[float], train: list[float], b: int, best: float, dropout: bool) -> str:
    """Why the validation loss ended above its lowest (at index ``b``): a model that
    overfits, or a curve that swings. Read over ``w`` points (a twentieth of the curve, at
    least :data:`TREND_POINTS`) from the best and at the end, as one point is noise."""
    steadies = "a lower --lr or a larger --batch_size steadies it"
    w = max(TREND_POINTS, len(val) // 20)
    later = len(val) - 1 - b
    if later < w:
        which = "the last validation" if later == 1 else f"the last {later} validations"
        return (
            f"it rose in {which} only, too few to tell a model that overfits from a curve "
            f"that swings ({steadies}; more epochs show which)"
        )
    before, after = float(np.mean(train[b : b + w])), float(np.mean(train[-w:]))
    swings = f"the validation loss swings rather than the model overfitting ({steadies})"
    if not after < before * (1 - OVERFIT / 2):
        return (
            f"the training loss {_moved(before, after)} meanwhile ({before:.4g}, then "
            f"{after:.4g}, means over {w} validations), so {swings}"
        )
    # An lr so high that the model stays at chance: a training loss above the lowest
    # validation loss has not fit the training rows better than new ones. (Dropout's
    # training loss, of a thinned network, may stay above it while the model overfits.)
    if not dropout and after >= best:
        return (
            f"the training loss, {after:.4g} (a mean over the last {w} validations), stays "
            f"above the lowest validation loss: the model fits its training rows no better "
            f"than new ones, so {swings}"
        )
    level = float(np.mean(val[-w:]))
    if not level > best * (1 + OVERFIT):
        return f"its last {w} validations average {level:.4g}, near the lowest, so {swings}"
    return "the model overfits after that"


def _moved(before: float, after: float) -> str:
    """How a loss went from ``before`` to ``after``, in the words of a note."""
    if after > before:
        return "rose"
    return "barely fell" if after < before else "did not fall"  # NaN too


def scale_note(data: Dataset, result: dict[str, Any]) -> str | None:
    """The target's or the features' scale, where it is why a run diverged or fit poorly:
    the note that stands in for a lower lr's advice (the run's line, the end notes, an
    estimator's warning)."""
    return target_scale_note(data, result) or feature_scale_note(data, result)


# Unscaled features past this size (an income of 1.3e5 beside a ratio of 0.3) take a step
# that suits one and overshoots the other: a lower lr only diverged again, 10 times slower.
LARGE_FEATURE = 100.0


def feature_scale_note(data: Dataset, result: dict[str, Any]) -> str | None:
    """Why a run on unscaled features of large values diverged, or fit worse than the
    training mean (its loss rose to 1e28): ``--standardize``."""
    r2 = result.get("train_r2")
    failed = result.get("status") == "diverged" or (isinstance(r2, float) and r2 < 0)
    return unscaled_features_note(data) if failed else None


def unscaled_features_note(data: Dataset) -> str | None:
    """:func:`feature_scale_note`'s words, where a feature of unscaled data reaches
    :data:`LARGE_FEATURE`, whatever the run did."""
    if data.scaler is not None or not len(data.X_train):
        return None
    top = np.max(np.abs(np.asarray(data.X_train, dtype=np.float64)), axis=0)
    if not top.max() >= LARGE_FEATURE:
        return None
    c = int(np.argmax(top))
    from mlplab.data.dataset import is_in_memory

    cure = (
        "make_pipeline(StandardScaler(), ...) scales each to mean 0 and spread 1"
        if is_in_memory(data.name)
        else "--standardize true (the default, auto, for data files) scales each to mean 0 "
        "and spread 1, and predict scales new rows alike"
    )
    return (
        f"feature {data.feature_names[c]!r} reaches {top[c]:.3g}, and the features are "
        f"unscaled: a step that suits it overshoots the others; {cure}"
    )


def off_scale_target(data: Dataset) -> str | None:
    """``the target reaches 8.57e+05`` where a regression's unscaled target is far from
    order 1 (in size, offset from 0 for its spread, or in a spread far below 1), else
    None. Of several targets, each one so is named (``target 'py' reaches 1.16e+04 and
    target 'px' varies by only 0.00157 (its spread)``)."""
    if data.task != "regression" or not len(data.y_train) or data.target_scaler is not None:
        return None
    y = np.asarray(data.y_train, dtype=np.float64).reshape(len(data.y_train), -1)
    names = list(data.target_names or [])
    if y.shape[1] == 1 or len(names) != y.shape[1]:
        return _off_scale(y)
    said = [
        what.replace("the target", f"target {name!r}", 1)
        for c, name in enumerate(names)
        if (what := _off_scale(y[:, [c]])) is not None
    ]
    return " and ".join(said) or None


def _off_scale(y: np.ndarray) -> str | None:
    """How the target columns ``y`` ``[N, T]`` are far from order 1, said of "the target"."""
    top = float(np.max(np.abs(y)))
    mean, spread = y.mean(axis=0), y.std(axis=0)
    # A target far from 0 for its spread (a log price, 13.4 +- 0.45) fits as badly: the
    # outputs must first travel to its mean, and then resolve steps of a few percent.
    # (Not 1.0 +- 0.2: an output of order 1 reaches that as it is.)
    offset = (np.abs(mean) > OFFSET_SPREADS * np.where(spread > 0, spread, np.inf)) & (
        np.abs(mean) > OFFSET_SPREADS
    )
    # 100: diabetes (targets 25 to 346) diverges at the default lr on its first steps.
    if top >= 100:
        return f"the target reaches {top:.3g}"
    if offset.any():
        c = int(np.argmax(offset))
        return f"the target sits at {mean[c]:.3g} with a spread of {spread[c]:.3g}"
    small = (spread > 0) & (spread < SMALL_SPREAD)
    if small.any():
        c = int(np.argmax(small))
        return f"the target varies by only {spread[c]:.3g} (its spread)"
    return None


def target_scale_start_note(data: Dataset) -> str | None:
    """Said before a run on such a target trains: its first run diverged or crawled, and
    only then heard of --standardize_target."""
    what = off_scale_target(data)
    if what is None:
        return None
    return (
        f"{what}; an MLP learns values of order 1 far more easily: --standardize_target "
        "true trains on it scaled (predictions and metrics stay in its units)"
    )


def target_scale_note(data: Dataset, result: dict[str, Any]) -> str | None:
    """Why a regression on a target of large values diverged, fit worse than its mean, or
    explained little of even its training rows (R² below :data:`LOW_TRAIN_R2`): there a
    lower lr, the other notes' advice, is not what helps.

    The output layer starts near 0 and its steps are of the lr's size, so a target in the
    millions takes huge gradients (divergence) or forever (R² below 0); scaling it to values
    of order 1 is the cure, as scikit-learn's TransformedTargetRegressor does for its MLP.
    """
    # None with a single test row: R² is undefined there. A run without a test split
    # (split 0.9 0.1 0) is judged on its validation rows.
    r2 = result.get("test_r2" if data.has_test else "val_r2")
    train_r2 = result.get("train_r2")
    # An estimator's test rows are its validation rows, and those its training rows where
    # it holds none out (validation_fraction=0): "the test R²" read as rows held out.
    split = (
        ("training" if data.shared_splits else "validation")
        if has_no_test_split(data)
        else "test"
        if data.has_test
        else "validation"
    )
    # Why (a diverged run's line above says it diverged): the start note said the same
    # words before the run, and a repeat with no reason read as an echo.
    why = (
        ""
        if result.get("status") == "diverged"
        else f"the {split} R² is {r2:.3g}, worse than the training mean's 0: "
        if r2 is not None and r2 < 0
        else f"the training R² is {train_r2:.2g}: "
        if isinstance(train_r2, float) and train_r2 < LOW_TRAIN_R2
        else None
    )
    what = off_scale_target(data)
    if why is None or what is None:
        return None
    from mlplab.data.dataset import is_in_memory

    # An estimator's arrays: it takes no standardize_target; scikit-learn's wrapper scales.
    scaled = (
        "TransformedTargetRegressor(regressor=MLPRegressor(...), "
        "transformer=StandardScaler()) trains on it scaled to mean 0 and spread 1"
        if is_in_memory(data.name)
        else "--standardize_target true trains on it scaled to mean 0 and spread 1 (each "
        "column by its own)"
    )
    return (
        f"{why}{what}; an MLP learns values of order 1 far more easily: {scaled}, with "
        "predictions and MAE in its own units (a lower lr may stop a divergence, but fits "
        "such a target slowly)"
    )


# A target whose mean is this many spreads from 0, and at least this far, is for an MLP's
# output a large one.
OFFSET_SPREADS = 5
# A target that varies by less than this (1e-12 of a farad, a rate of 0.003 +- 0.001) fits
# as badly: the outputs start with spreads of order 0.1 to 1, and one step of the lr moves
# them further than the target ever varies (a spread of 0.01: test R² 0.11; scaled, 0.9997).
SMALL_SPREAD = 0.02
# A training R² below this (a claim amount of median 52 and maximum 1797 fit to 0.02 and
# 0.10, where scaled it reached 0.56) is a target's scale at work, not a swing of the lr.
LOW_TRAIN_R2 = 0.2


# Fewer test rows than this say little either way (the labs' gates have 4).
MAJORITY_MIN_ROWS = 20


def constant_loss(data: Dataset) -> float | None:
    """The training loss of a model that learnt nothing but the training rows' class
    shares (their entropy) or, for a regression, their mean (the target's variance); None
    for a task of other losses."""
    y = np.asarray(data.y_train)
    if not len(y):
        return None
    if data.task == "regression":
        return float(np.mean(np.var(y.reshape(len(y), -1).astype(np.float64), axis=0)))
    if data.task not in ("binary", "multiclass"):
        return None
    from mlplab.training.metrics import true_classes

    shares = np.bincount(true_classes(data.task, y)) / len(y)
    shares = shares[shares > 0]
    return float(-(shares * np.log(shares)).sum())


def answers_one_class(data: Dataset, result: dict[str, Any]) -> bool:
    """Whether a classifier did no better on its training rows than answering one class for
    each: a balanced accuracy of at most 1/k on its k classes (what one class scores),
    whatever its accuracy on the rows held out."""
    bacc = result.get("train_bacc")
    if data.task == "regression" or not isinstance(bacc, float) or not len(data.y_train):
        return False
    from mlplab.training.metrics import true_classes

    k = len(np.unique(true_classes(data.task, data.y_train)))
    return k > 1 and bacc <= 1 / k + 1e-9


def majority_note(
    data: Dataset, result: dict[str, Any], counted: bool = False, advice: bool = True
) -> str | None:
    """A classifier whose test accuracy is no better than always answering the training
    split's most common class: on imbalanced data (2% positives) a high accuracy, and on
    a run that blew up a number that looks like a result, say nothing of learning.
    ``advice=False`` where another note names the cause (the features' scale)."""
    # A run without a test split (split 0.9 0.1 0) is judged on its validation rows.
    key, y_scored = ("test", data.y_test) if data.has_test else ("val", data.y_val)
    acc = result.get(f"{key}_acc")
    if (
        data.task == "regression"
        or data.shared_splits
        or len(y_scored) < MAJORITY_MIN_ROWS
        or not isinstance(acc, float)
        or result.get("status") != "finished"
    ):
        return None
    from mlplab.training.metrics import true_classes

    common = int(np.bincount(true_classes(data.task, data.y_train)).argmax())
    share = float(np.mean(true_classes(data.task, y_scored) == common))
    if acc > share + 1e-9:
        return None
    name = (data.class_names or [str(common)])[common]
    # An estimator's held-out rows, or a run's without a test split.
    split = "validation" if has_no_test_split(data) or key == "val" else "test"
    head = (
        f"{split} accuracy {acc:.4g} is no better than always answering {name!r}, the most "
        f"common class in training ({share:.4g} of the {split} rows)"
    )
    if result.get("class_weight") == "balanced":
        # Balanced classes trade rows of the common class for the rare ones': an accuracy
        # under the common class's share is what that costs, not a sign of nothing learnt.
        # The line opened "no better than always answering 'no'" beside a balanced
        # accuracy of 0.97: it says what the weights do, and the number that counts.
        fmt = result.get("plots")
        where = f" (plots/confusion.{fmt})" if fmt in ("png", "svg", "pdf") else ""
        bacc = result.get(f"{key}_bacc")
        # Balanced accuracy is the mean recall over the classes the split holds: a test
        # split with no rare row scores 1 for answering the common class alone.
        n_classes = len(np.unique(true_classes(data.task, y_scored)))
        balanced = (
            f"balanced accuracy {bacc:.4g} (always answering {name!r} scores "
            f"{1 / n_classes:.2g}) and "
            if isinstance(bacc, float) and math.isfinite(bacc)
            else ""
        )
        return (
            f"{split} accuracy {acc:.4g} is below the share of {name!r}, the most common "
            f"class in training, in the {split} rows ({share:.4g}): with the classes weighed "
            "in the loss (class_weight), the rare classes' rows count more than accuracy "
            f"counts them; {balanced}the confusion matrix{where} "
            f"show{'' if balanced else 's'} each class's hits"
        )
    if not advice:
        return f"{head}; the model has learnt nothing beyond the classes' sizes"
    rare = share > 0.8  # one class holds most rows: the others may need their own weight
    # ReLUs pushed below 0 on every row pass no gradient (a step too large, or a start
    # that left a unit off): the units picture shows them white. As the regression's note.
    hidden = result.get("model") != "linear" and (result.get("n_layer") or result.get("hid_dims"))
    # A guess, unless the units were counted (``counted``: the note of them says so).
    dead = " or its ReLUs died" if hidden and result.get("act") == "relu" and not counted else ""
    # Not to a run that uses Adam already (the README's own fraud run was told to).
    adam = "" if result.get("optim") in ("adam", "adamw") else "--optim adam "
    return (
        f"{head}; the model has learnt nothing beyond the classes' sizes (more epochs or "
        f"{adam}where the loss still fell, a lower lr where it swung{dead}, "
        + ("--class_weight balanced where a class is rare, " if rare else "")
        + "or other features may help)"
    )


def never_rose(result: dict[str, Any]) -> bool:
    """Whether the training loss fell (or held) from each validation to the next."""
    train = [float(v) for v in result.get("train_losses") or []]
    return len(train) >= 2 and all(b <= a for a, b in itertools.pairwise(train))


# A deep sigmoid stack from this many hidden layers: its gradient, scaled by sigmoid's slope
# (at most a quarter) at every layer, vanishes before it reaches the first.
DEEP_SIGMOID = 4


def deep_sigmoid_note(spec: ModelSpec) -> str | None:
    """Why a deep sigmoid stack (no skip connections) learns nothing: its gradient vanishes."""
    hidden = spec.widths()[1:-1]
    # A block that adds its input carries the gradient past its units.
    skips = [spec.is_residual(i) for i in range(len(hidden))]
    if spec.act != "sigmoid" or len(hidden) < DEEP_SIGMOID or any(skips):
        return None
    n = len(hidden)
    return (
        f"sigmoid's slope is at most 0.25: through {n} hidden layers the slopes alone make the "
        f"gradient reaching the first at least 4^{n} = {4**n:,} times smaller than the last's "
        "(the weights scale it too, either way), so it vanishes; --act relu or tanh, or fewer "
        "layers, trains them"
    )


def stuck_units_note(spec: ModelSpec, weights: dict[str, np.ndarray], X: np.ndarray) -> str | None:
    """Why a model that learnt nothing could not, where its units show it: ReLUs that
    output 0 on every training row (dead: no gradient passes them, nor a layer of them
    all), in half a layer or more, or a deep sigmoid stack, whose slopes alone shrink its
    gradient by 4 or more a layer. The note had said "or its ReLUs died" of a model whose
    fourth layer was dead in all 16 units."""
    hidden = spec.widths()[1:-1]
    # A block that adds its input carries the gradient past its units, dead or flat.
    skips = [spec.is_residual(i) for i in range(len(hidden))]
    if deep := deep_sigmoid_note(spec):
        return deep
    if spec.act != "relu" or not hidden:
        return None
    from mlplab.engines.numpy.model import MLP

    model = MLP(spec, [weights], dtype="float64")
    alive = [np.zeros(w, dtype=bool) for w in hidden]
    for start in range(0, len(X), 4096):  # in chunks: a million rows at a time is GBs
        x = np.asarray(X[start : start + 4096], dtype=np.float64)
        for i, (z, _) in enumerate(model.hidden_parts(x)):
            alive[i] |= (z[0] > 0).any(axis=0)
    dead = [int((~a).sum()) for a in alive]
    # A few dead units of a wide layer are common and harmless: not why it learnt nothing.
    if not any(2 * d >= w for d, w in zip(dead, hidden, strict=True)):
        return None
    counts = ", ".join(f"{d} of {w}" for d, w in zip(dead, hidden, strict=True))
    whole = [
        i + 1 for i, (d, w) in enumerate(zip(dead, hidden, strict=True)) if d == w and not skips[i]
    ]
    blocked = (
        f" (no gradient passes hidden layer {whole[0]}, whose every unit is dead)" if whole else ""
    )
    return (
        f"dead ReLUs: units that output 0 on every training row, by hidden layer: {counts}"
        f"{blocked}; a lower lr, or --act leaky_relu, keeps them alive"
    )


def under_trained_note(cfg: Config, result: dict[str, Any]) -> str | None:
    """The default number of epochs ran out while the validation loss still fell by more
    than :data:`STILL_FALLING` over the second half of training: a table's first run
    (100 full-batch steps) is often far from what the model can do. An ``epoch`` the
    user chose is theirs, and gets no note."""
    if "epoch" in cfg.model_fields_set or result.get("status") != "finished":
        return None
    if result.get("stopped_early"):
        return None
    if result.get("val_acc") == 1.0:  # every validation row right: more epochs only sharpen
        return None
    losses, epochs = result.get("val_losses") or [], result.get("val_epochs") or []
    if len(losses) < 4 or len(losses) != len(epochs):
        return None
    # The lowest of the last tenth of the validations: a minibatch curve's last point
    # swings above its lowest without the loss having levelled off.
    tail = [float(v) for v in losses[-max(1, len(losses) // 10) :]]
    last = min(tail)
    at = epochs[len(losses) - len(tail) + tail.index(last)]
    half = int(np.searchsorted(np.asarray(epochs), epochs[-1] / 2))
    mid = float(losses[half])
    if not (np.isfinite(last) and np.isfinite(mid)) or last > min(map(float, losses)):
        return None
    # Or a slower fall from a loss that has barely moved since the first validation: a
    # classifier crawling down from chance (0.694 to 0.669, 1.9% over the second half)
    # at 20 points below what the tips below reach.
    first = float(losses[0])
    crawling = mid - last > SLOW_FALL * abs(mid) and first - last < BARELY_MOVED * abs(first)
    if mid - last <= STILL_FALLING * abs(mid) and not crawling:
        return None
    tips = ["raise --epoch"]
    if cfg.batch_size == 0 and (result.get("n_train") or 0) > 32:  # not xor's 4 rows
        tips.append("take more steps per epoch with --batch_size 32")
    if cfg.optim == "sgd":
        tips.append("try --optim adam --lr 0.001")
    return (
        f"the validation loss was still falling when the default {cfg.epoch} epochs ran out "
        f"({mid:.4g} at epoch {epochs[half]}, {last:.4g} at epoch {at}); the model may be "
        f"under-trained: {', or '.join(tips)}"
    )


# A relative fall of the validation loss over the second half of training that says it
# had not levelled off; a smaller one says so of a loss within BARELY_MOVED of its first.
STILL_FALLING = 0.02
SLOW_FALL = 0.005
# A loss within this fraction of a model's that knows nothing (ln 2 for a gate's two
# equal classes) is still on the plateau a gate's training starts on.
PLATEAU = 0.01
BARELY_MOVED = 0.1
