"""``report(log_path)``: the runs under a folder -> ranked tables, results.csv, report.html.

The runs are split into **sections**, one per experiment (``exp_name``) and task kind
(classification or regression): each is ranked on its own, with its own table and
figures. Outputs, in ``out`` (default: the folder that was read):

- ``results.csv``: one row per run, every scalar of its result.json, with the ``rank`` of
  its config within its section;
- ``summary.csv``: one row per config (``exp_name``, ``task``, the swept settings), seed
  replicates as mean, std and 95% interval;
- ``report.html``: the ranked tables and the figures, self-contained.

The ranking uses the mean over seeds of the validation metric: ``val_acc`` (higher is
better) for classification, ``val_mse`` (lower is better, in the target's units, which the
loss is not where ``standardize_target`` scales it) for regression; equal means are
ordered by the validation loss (regression: the validation MAE).
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplab.errors import (
    ConfigError,
    RecordError,
    check_path_argument,
    check_switches,
    nearest,
    public,
    short_repr,
    unexpanded_output,
)
from mlplab.reports.aggregate import (
    RANKABLE,
    SCIENTIFIC_FROM,
    TIE_DECIMALS,
    aggregate,
    bounds_text,
    group_keys,
    key_text,
    metric_names,
    number_text,
    ranking_metric,
    scientific,
    tie_break,
)
from mlplab.reports.collect import (
    Skipped,
    load_runs,
    path_text,
    read_axis_order,
    runs_without_record,
    scalar_columns,
    swept_variables,
)

# Rows printed on the terminal per section; the files hold all of them.
PRINT_ROWS = 20
# Rows of a section's table in report.html; summary.csv holds all of them.
HTML_ROWS = 200
# Files left out that are named one by one on the terminal.
PRINT_SKIPPED = 10
IMAGE_SUFFIXES = (".png", ".svg", ".gif", ".jpg")


@dataclass(repr=False)  # __repr__: a line, not the tables
class Section:
    """The runs of one experiment and task kind, ranked.

    Attributes
    ----------
    exp_name : str
    kind : {'classification', 'regression'}
    runs : DataFrame
        One row per run (ranked), list-valued curves included.
    summary : DataFrame
        One row per config: ``rank``, the swept variables, ``n`` (finished seeds), ``runs``
        and ``statuses`` (how they ended: ``2 finished, 1 pruned``) and metric statistics.
    variables : list of str
        The swept settings (those that vary among the runs, seed excluded), axis order first.
    metric : str
        The ranking metric (``val_acc`` or ``val_mse`` unless ``rank_by`` chose another).
    """

    exp_name: str
    kind: str
    runs: pd.DataFrame
    summary: pd.DataFrame
    variables: list[str]
    metric: str

    @property
    def title(self) -> str:
        return f"{self.exp_name} ({self.kind})"

    @property
    def best_run(self) -> pd.Series | None:
        """The best finished run of the best config, or None when none finished."""
        done = self.runs[self.runs["status"] == "finished"] if "status" in self.runs else self.runs
        return None if done.empty else done.iloc[0]

    def __repr__(self) -> str:
        n = len(self.runs)
        return (
            f"<Section {self.exp_name} ({self.kind}): {n} run{'' if n == 1 else 's'} "
            f"ranked by {self.metric}>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: the ranked runs (status, metrics, run dir) and the best run's plots."""
        from mlplab.notebook import report_html

        return report_html(self)


@dataclass(repr=False)  # __repr__: a line, not every table
class Report:
    """What :func:`report` returns.

    ``runs``, ``summary``, ``variables``, ``kind``, ``metric`` and ``best_run`` are those of
    the first section (the only one for a sweep); ``sections`` holds every experiment
    and task kind, ``skipped`` the result.json files left out and why.
    """

    sections: list[Section]
    csv_path: Path
    summary_path: Path
    html_path: Path
    skipped: list[Skipped] = field(default_factory=list)
    _warned: bool = field(default=False, init=False, compare=False)

    def _first(self) -> Section:
        """The first section, with a warning (once) where there are others: a folder of
        several experiments gave ``.summary`` and ``.best_run`` of the first by name alone,
        without a word."""
        if len(self.sections) > 1 and not self._warned:
            self._warned = True
            names = ", ".join(s.title for s in self.sections[1:4])
            more = f" and {len(self.sections) - 4} more" if len(self.sections) > 4 else ""
            warnings.warn(
                f"this report has {len(self.sections)} sections: runs, summary and best_run "
                f"are those of the first, {self.sections[0].title}, not of {names}{more}; "
                "take .sections, or report(log_path, exp_name=...) for one experiment",
                UserWarning,
                stacklevel=3,
            )
        return self.sections[0]

    @property
    def runs(self) -> pd.DataFrame:
        """One row per run of the first section, ranked (its config's ``rank``, then its
        own metric): every setting and result of its result.json, the curves as lists,
        ``run_dir`` (absolute). results.csv holds every section's scalar columns."""
        return self._first().runs

    @property
    def summary(self) -> pd.DataFrame:
        """One row per config of the first section, best first: ``rank``, the swept
        settings, ``n`` (finished seeds), ``runs`` and ``statuses``, and each metric's
        mean, std and 95% interval over seeds (as summary.csv)."""
        return self._first().summary

    @property
    def variables(self) -> list[str]:
        """The settings that vary among the first section's runs (seed aside), axis
        order first: the columns that tell its configs apart."""
        return self._first().variables

    @property
    def kind(self) -> str:
        """The first section's task kind: ``classification`` or ``regression``."""
        return self._first().kind

    @property
    def metric(self) -> str:
        """The validation metric that ranks the first section's configs (mean over
        seeds): ``val_acc`` or ``val_mse`` unless ``rank_by`` chose another."""
        return self._first().metric

    @property
    def best_run(self) -> pd.Series | None:
        """The first section's best finished run (a row of :attr:`runs`;
        ``mlplab.load_run`` takes it), or None when none finished."""
        return self._first().best_run

    def __repr__(self) -> str:
        n = sum(len(s.runs) for s in self.sections)
        return (
            f"<Report {n} run{'' if n == 1 else 's'} in {len(self.sections)} "
            f"section{'' if len(self.sections) == 1 else 's'}, ranked by {self.sections[0].metric}; "
            f"{self.html_path}>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: the ranked runs (status, metrics, run dir) and the best run's plots."""
        from mlplab.notebook import report_html

        return report_html(self)


@public
def report(
    log_path: str | Path,
    exp_name: str | None = None,
    out: str | Path | None = None,
    verbose: bool = True,
    *,
    order: list[str] | None = None,
    rank_by: str | None = None,
    figures: bool = True,
) -> Report:
    """Collect the runs under ``log_path`` (or ``log_path/exp_name``) and write the report.

    Parameters
    ----------
    log_path : path
        A log_path, an experiment folder, or a single run directory (which takes ``out``:
        a report is not written into a run's own folder).
    exp_name : str, optional
        Only the runs of this experiment (``log_path/exp_name``).
    out : path, optional
        Folder for results.csv, summary.csv and report.html (made if missing); default:
        the folder read.
    verbose : bool
        Print the ranked tables and where the files went. The files left out are named
        on stderr either way.
    order : list of str, optional
        Axis order (var1, var2, ...); default: from the newest ``sweep-*.yaml`` found.
    rank_by : str, optional
        The validation metric that ranks the configs (mean over seeds): ``val_acc``
        (default), ``val_bacc``, ``val_f1`` or ``val_loss`` for classification;
        ``val_mse`` (default), ``val_mae``, ``val_rmse`` or ``val_r2`` for regression. On unequal
        classes ``val_bacc`` or ``val_f1`` ranks by every class, not the common one.
    figures : bool, default True
        Draw the report's figures (bars, curves, metric against setting, heatmap) into
        report.html; False writes the tables and the page without them (``mlplab report
        --no_figures``), quicker on a sweep of many configs. Each best run's pictures,
        drawn when it trained, are on the page either way.

    Raises
    ------
    mlplab.errors.ConfigError
        When the folder does not exist or holds no runs, or ``out`` is not a folder that
        can be written to.
    """
    check_switches("report", verbose=verbose, figures=figures)
    log_path = check_path_argument("report", "log_path", log_path, "a folder of runs, e.g. runs")
    if out is not None:
        out = check_path_argument("report", "out", out, "a folder for the report's files")
        if why := unexpanded_output(out):
            raise ConfigError(f"report: out={str(out)!r}: {why}")
    _check_order(order)
    rank_by = checked_rank_by(rank_by)
    all_runs, skipped = load_runs(log_path, exp_name)  # exp_name checked, and named
    root = Path(log_path) / exp_name if exp_name else Path(log_path)
    # The folders --out makes (a/b/c: each not there yet), removed if they stay empty.
    made = [] if out is None else [p for p in [Path(out), *Path(out).parents] if not p.exists()]
    out_dir = writable_folder(Path(out) if out is not None else root, given=out is not None)
    newest = read_axis_order(root)

    def axis_order(name: str) -> list[str]:
        """The order given, else the experiment's own sweep's, else the newest sweep's."""
        if order is not None:
            return order
        return (read_axis_order(root / name, deep=False) if name else []) or newest

    check_rank_by_kinds(rank_by, all_runs["task"].dropna().astype(str))
    sections = [
        make_section(str(name), kind, part.reset_index(drop=True), axis_order(str(name)), rank_by)
        for (name, kind), part in all_runs.groupby(
            [all_runs.get("exp_name", pd.Series("", index=all_runs.index)).fillna(""), "task"],
            sort=True,
        )
    ]

    from mlplab.reports.plots import report_plots
    from mlplab.runs.atomic import atomic_write_text, why_not_replaceable

    plots: list[list[Any]] = []
    for sec in sections:
        if not figures:  # the tables alone: the figures took most of a big sweep's report
            plots.append([])
            continue
        finished = sec.runs[sec.runs["status"] == "finished"]
        plots.append(report_plots(finished, sec.summary, sec.variables, sec.kind, sec.metric))

    result = Report(
        sections, out_dir / "results.csv", out_dir / "summary.csv", out_dir / "report.html", skipped
    )
    runs = pd.concat([s.runs for s in sections], ignore_index=True)
    table = _results_table(sections)
    summary = pd.concat(
        [_with_constants(s, sections).assign(exp_name=s.exp_name, task=s.kind) for s in sections],
        ignore_index=True,
    )
    summary = summary[["exp_name", "task", *[c for c in summary if c not in ("exp_name", "task")]]]
    # Every text first, then the page, the largest file, before the tables: a disk that
    # fills leaves the old page and tables as they were, not new tables beside an old page.
    notes = report_notes(sections, summary, runs, rank_by)
    notes += [missing_runs_note(runs_without_record(root))] if not runs.empty else []
    notes = [n for n in notes if n]
    texts = {
        result.html_path: _page(result, root, plots, notes),
        result.csv_path: whole_settings(table).to_csv(index=False),
        result.summary_path: whole_settings(summary).to_csv(index=False),
    }
    for path in texts:  # before any is written: a set half new, half old, is no report
        if why := why_not_replaceable(path):
            raise ConfigError(
                f"report: cannot write {str(path)!r} ({why}); no file written; give --out "
                "(out= in Python) a folder to write the report in"
            )
    were = {path.name for path in texts if path.exists()}
    written: list[str] = []
    for path, text in texts.items():
        try:
            atomic_write_text(path, text)
        except OSError as err:
            new = f"{' and '.join(written)} written anew" if written else "no file written"
            kept = [p.name for p in texts if p.name in were and p.name not in written]
            kept_text = f", {', '.join(kept)} as they were" if kept else ""
            if made and not written:  # the folders made for it go, empty
                with contextlib.suppress(OSError):
                    for folder in made:
                        folder.rmdir()
                kept_text = f", {made[-1]} removed"
            again = shlex.join(
                ["mlplab", "report", str(log_path)]
                + ["--exp_name", exp_name or ""] * bool(exp_name)
                + ["--out", str(out)] * (out is not None)
            )
            # The runs are whole: the report is what is missing, and how to write it.
            raise RecordError(
                f"report: cannot write {str(path)!r} ({err.strerror or err}); {new}{kept_text}; "
                f"once that is mended, `{again}` (report() in Python) writes "
                "the report"
            ) from None
        written.append(path.name)
    if verbose:
        for sec in sections:
            print_table(sec, result.summary_path)
        from mlplab.console import terminal_text

        for note in notes:  # they name runs and settings, read from records
            print(terminal_text(f"report: note: {note}"), flush=True)
        print(f"report: {result.html_path}  table: {result.csv_path}", flush=True)
    print_skipped(skipped)
    return result


def report_notes(
    sections: list[Section], summary: pd.DataFrame, runs: pd.DataFrame, rank_by: str | None
) -> list[str]:
    """What a reader of the tables must know to read them right: repeated runs, seeds that
    all agreed, pooled data versions, runs still running. Printed (unless quiet) and put
    on the page, where a reader of report.html alone saw none of them."""
    notes = []
    if repeats := int(summary["repeats"].sum()):
        notes.append(
            f"counted once: {repeats} run(s) of a config and seed counted already (a copy "
            "of a run folder, renamed or copied in, or runs that differ only in settings "
            "that their model does not use)"
        )
    notes += [
        copies_note(sections),
        mixed_data_note(sections),
        tied_seeds_note(sections),
        overlap_note(sections),
        few_seeds_note(sections),
        survivors_note(sections),
        chosen_note(sections),
        loss_rose_note(runs),
        chance_note(runs),
        shared_rows_note(runs),
        *data_notes(runs),
        val_rose_note(runs),
        across_note(sections),
        splits_note(sections),
        rank_by_note(sections, rank_by),
        accuracy_ranks_note(sections),
        unequal_targets_note(sections),
    ]
    notes.append(running_note(runs))
    return [n for n in notes if n]


def running_note(runs: pd.DataFrame) -> str:
    """The runs whose record says ``running``: a record says so from its start until it
    ends, and a process killed outright (kill -9, a machine's crash) never changes it. The
    run's lock tells the two apart: the kernel drops it when its process dies."""
    from mlplab.runs.locks import RunLocks

    running = runs[runs["status"] == "running"]
    if running.empty:
        return ""
    killed = "killed before they could record how they ended"
    try:
        live = 0
        for folder, group in running.groupby(running["run_dir"].map(lambda d: Path(d).parent)):
            if not (folder / ".sweep.lock").is_file():
                raise FileNotFoundError  # trained unlocked (lock=False): not known
            with RunLocks(folder) as locks:  # each taken is given back at once
                live += sum(not locks.acquire(Path(d).name) for d in group["run_dir"])
        dead = len(running) - live
        parts = [f"{live} being trained now (another process holds its lock)"] * bool(live)
        parts += [f"{dead} {killed}"] * bool(dead)
    except (OSError, ConfigError):  # a folder it may not lock in (read-only): not known
        dead, parts = len(running), [f"being trained now, or {killed}"]
    again = (
        "; the same train or sweep command again continues the killed ones from their last "
        "checkpoints (--save_every), or trains them from the start where they have none"
    )
    return f"{len(running)} run(s) say running: {', '.join(parts)}{again * bool(dead)}"


def missing_runs_note(missing: dict[str, list[str]]) -> str:
    """Name the runs a sweep's spec lists that have no record: their configs' means are
    over the seeds that do."""
    if not missing:
        return ""
    said = []
    for spec, ids in missing.items():
        said.append(f"{len(ids)} run(s) that {spec} lists have no folder ({listed(ids)})")
    return (
        "; ".join(said) + ": their configs rank on the runs that have one; the same sweep "
        "command trains them again"
    )


def listed(items: list[str], most: int = 5) -> str:
    """The first ``most`` of ``items``, and how many more: a note names a few, not 10,000."""
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def rank_by_note(sections: list[Section], rank_by: str | None) -> str:
    """Name the sections that ``rank_by`` does not rank: it is no metric of their kind."""
    other = [s for s in sections if rank_by and s.metric != rank_by]
    if not other:
        return ""
    ranked = "; ".join(f"{s.title} is ranked by {s.metric}" for s in other)
    return f"rank_by {rank_by} is not a metric of every table: {ranked}"


def unequal_targets_note(sections: list[Section]) -> str:
    """Name the regression tables ranked by an averaged error (val_mse, val_mae, val_rmse)
    of targets whose scales differ (:func:`~mlplab.training.metrics.unequal_targets`), as
    `mlplab train` notes of one run: a sediment load in kg beside a flow in m³/s made the
    ranking the sediment's alone."""
    from mlplab.training.metrics import TARGET_METRICS, unequal_targets

    said = []
    for sec in sections:
        if sec.kind != "regression" or sec.metric == "val_r2" or TARGET_METRICS not in sec.runs:
            continue
        done = sec.runs[sec.runs["status"] == "finished"]
        found = ((r, unequal_targets(r[TARGET_METRICS])) for _, r in done.iterrows())
        run, unequal = next(((r, u) for r, u in found if u is not None), (None, None))
        if run is None or unequal is None:
            continue
        largest, smallest, ratio, split = unequal
        times = f"{ratio:,.0f} times" if math.isfinite(ratio) else "far more than"
        where = f"{sec.title}: " if len(sections) > 1 else ""
        said.append(
            f"{where}ranked by {sec.metric}, an average over targets of unlike scale (e.g. "
            f"{run['run_id']}: the {split} MSE of {largest!r} is {times} that of "
            f"{smallest!r}), which is mostly that of {largest!r}"
        )
    if not said:
        return ""
    return (
        "; ".join(said) + ": --rank_by val_r2 (unit-free) ranks by every target, and each "
        f"run's result.json holds each target's own numbers ({TARGET_METRICS})"
    )


def accuracy_ranks_note(sections: list[Section]) -> str:
    """Name the tables ranked by accuracy whose first config is not the best by balanced
    accuracy: on unequal classes, one that trades the common class for the rare ones
    (class_weight balanced) ranked low, and nothing said that another order exists."""
    said = []
    for sec in sections:
        s = sec.summary
        if sec.metric != "val_acc" or "val_bacc_mean" not in s or not accuracy_flatters(s):
            continue
        best = s["val_bacc_mean"].idxmax()
        if pd.isna(best) or best == s.index[0] or "rank" not in s:
            continue
        where = f"{sec.title}: " if len(sections) > 1 else ""
        said.append(
            f"{where}rank {int(s.at[best, 'rank'])} has the best val_bacc "
            f"({s.at[best, 'val_bacc_mean']:.4g}, rank 1 {s['val_bacc_mean'].iloc[0]:.4g})"
        )
    if not said:
        return ""
    return (
        "; ".join(said) + ": the classes are unequal, and accuracy counts the common one "
        "most; --rank_by val_bacc ranks by every class"
    )


def across_note(sections: list[Section]) -> str:
    """What to say of a section whose configs differ in ``data``: its ranks compare one
    dataset's accuracy with another's, not the settings."""
    swept = [sec.title for sec in sections if "data" in sec.variables]
    if not swept:
        return ""
    return (
        f"{', '.join(swept)} ranks configs of different datasets against each other (data "
        "is swept); compare ranks within one dataset (summary.csv's data column)"
    )


# Settings that draw or make the rows a run trains and validates on: a config that
# differs in one of them may hold other validation rows than its neighbour's.
ROW_SETTINGS = ("data_seed", "stratify", "split", "split_by", "noise", "n_samples")
# Those of them that only split the same rows another way.
SPLIT_SETTINGS = ("data_seed", "stratify", "split", "split_by")


def rows_swept(sec: Section) -> list[str]:
    """The swept settings of ``sec`` that changed the rows its configs were scored on:
    by the records' ``data_digest`` where every finished run has one (data_seed beside
    split_by changes no row, stratify does), by the settings alone where not (the built-in
    sets keep no digest). Empty where the configs share their rows."""
    swept = [v for v in sec.variables if v in ROW_SETTINGS]
    runs = sec.runs
    if not swept or "data" in sec.variables:
        return []  # the datasets' note says it, where data is swept
    done = runs[runs["status"] == "finished"] if "status" in runs else runs
    if "data_digest" not in done or done.empty or done["data_digest"].isna().any():
        return swept
    others = [v for v in sec.variables if v not in swept]
    keys = group_keys(done, others) if others else pd.Series("", index=done.index)
    return swept if bool((done["data_digest"].groupby(keys).nunique() > 1).any()) else []


def splits_note(sections: list[Section]) -> str:
    """What to say of a section whose configs were scored on different rows (data_seed,
    stratify or noise swept, and the rows changed): its ranks compare a split's accuracy
    with another's, scored on other rows (one lr came 1st, 4th and 7th, by its split)."""
    said, names = [], []
    for sec in sections:
        if swept := rows_swept(sec):
            said.append(sec.title)
            names += [n for n in swept if n not in names]
    if not said:
        return ""
    what = "splits" if all(n in SPLIT_SETTINGS for n in names) else "rows"
    setting = ", ".join(names)
    return (
        f"{', '.join(said)} ranks configs of different {what} against each other ({setting} "
        f"{'is' if len(names) == 1 else 'are'} swept, and the rows differ); each {what[:-1]}'s "
        f"val metrics are of other rows, so rank 1 may be a lucky {what[:-1]}; compare a "
        f"setting's rows across {setting} values (summary.csv's {setting} column)"
    )


def seed_note(sec: Section) -> str:
    """What a seed varies, and what the interval leaves out (:data:`SEED_NOTE`): not that
    a config's seeds share a split where an estimator's random_state drew its held-out
    rows (``split_drawn_by``), or where its configs' rows differ (:func:`rows_swept`)."""
    drawn = sec.runs.get("split_drawn_by", pd.Series(dtype=object))
    if bool((drawn == "seed").any()):
        return (
            "a seed (an estimator's random_state) draws the initial weights, dropout, the "
            "data order and the held-out rows, so the interval takes in the split's variance"
        )
    swept = rows_swept(sec)
    if not swept:
        return shared_split_note(sec.runs)
    return (
        "a seed draws the initial weights, dropout and the data order; each config's seeds "
        f"train on its own split ({', '.join(swept)}), so the interval leaves out the split's "
        f"variance, which the rows of other {', '.join(swept)} values show"
    )


def shared_split_note(runs: pd.DataFrame) -> str:
    """:data:`SEED_NOTE`, naming what set the split its seeds share: ``data_seed``, or
    the column of ``split_by`` where the runs split by one (it said "(data_seed)" of runs
    whose rows a column ``part`` placed, where data_seed had no effect)."""
    by = runs.get("split_by", pd.Series(dtype=object))
    columns = sorted({str(c) for c in by.dropna() if c != ""})
    if not columns:
        return SEED_NOTE
    named = f"split_by {', '.join(columns)}"
    if len(by) < len(runs) or by.isna().any() or bool((by == "").any()):
        named = f"data_seed, or {named}"  # some runs drew their split, some took a column's
    return SEED_NOTE.replace("(data_seed)", f"({named})")


def tied_seeds_note(sections: list[Section]) -> str:
    """What to say of configs whose seeds all gave the same ranking metric: a 95% CI of
    no width there says that the seeds agreed, not that another seed would (xor's 4
    validation rows give an accuracy of 0, 0.25, ... 1, and two seeds often tie)."""
    tied: list[tuple[str, float, int]] = []
    for sec in sections:
        s = sec.summary
        std, n = s.get(f"{sec.metric}_std"), s.get("n")
        if std is None or n is None:
            continue
        same = (n >= 2) & (std == 0)
        tied += [
            (sec.metric, float(v), int(k))
            for v, k in zip(s.loc[same, f"{sec.metric}_mean"], n[same], strict=True)
        ]
    if not tied:
        return ""
    metric, value, n = tied[0]
    return (
        f"{len(tied)} config(s) got the same {metric} from every seed (e.g. {value:g} from each "
        f"of {n} seeds): their interval has no width, which says the seeds agreed, not that "
        "another seed would; more seeds (or a larger validation split) tell more"
    )


def overlap_note(sections: list[Section]) -> str:
    """Name the configs whose 95% interval overlaps the first-ranked one's: the ranking
    orders means, and a gap of 0.002 between intervals 0.04 wide read as a winner.
    Overlap is no test (intervals can overlap where a paired test would separate two
    configs), so the note says the intervals alone do not order them, not that the order
    is wrong."""
    said = []
    for sec in sections:
        s, m = sec.summary, sec.metric
        if len(s) < 2 or f"{m}_ci_low" not in s:
            continue
        low, high = s[f"{m}_ci_low"], s[f"{m}_ci_high"]
        if pd.isna(low.iloc[0]) or pd.isna(high.iloc[0]):
            continue  # the first has one seed: no interval to compare
        with_ci = low.notna() & high.notna()
        close = with_ci & (low <= high.iloc[0]) & (high >= low.iloc[0])
        ranks = [int(r) for r in s.loc[close, "rank"].iloc[1:]] if "rank" in s else []
        if ranks:
            shown = listed(list(map(str, ranks)))
            where = f"{sec.title}: " if len(sections) > 1 else ""
            whose = "those of ranks" if len(ranks) > 1 else "that of rank"
            said.append(f"{where}the 95% interval of {m} of rank 1 overlaps {whose} {shown}")
    if not said:
        return ""
    return (
        "; ".join(said) + ": the intervals alone do not order these configs (overlap is no "
        "test: the seeds' paired differences, in results.csv, may still; more seeds narrow "
        "the intervals)"
    )


def loss_rose_note(runs: pd.DataFrame) -> str:
    """Name the finished runs whose training loss ended above its first, as `mlplab
    train` notes of one: a run that blew up to 1e34 without reaching inf or NaN is no
    divergence, and its metrics enter its config's mean as any other's."""
    from mlplab.console import LOSS_ROSE

    if "train_losses" not in runs or "train_loss" not in runs:
        return ""
    done = runs[runs["status"] == "finished"]
    # A curve edited by hand into lists or text has no first loss: it is left out.
    first = done["train_losses"].map(
        lambda c: (
            float(c[0]) if isinstance(c, list) and c and isinstance(c[0], int | float) else 0.0
        )
    )
    last = pd.to_numeric(done["train_loss"], errors="coerce")
    rose = _rose(last, first, LOSS_ROSE)
    if rose.empty:
        return ""
    worst = rose.idxmax()
    run_id, first, last = done.at[worst, "run_id"], first[worst], last[worst]
    return (
        f"{len(rose)} finished run(s) ended with a training loss above their first (e.g. "
        f"{run_id}: {first:.4g} to {last:.4g}): their steps overshoot, an lr too high, and "
        "their metrics enter their configs' means as any other run's"
    )


# A classifier's training balanced accuracy within this of chance (1 / classes) learnt
# nothing: answering one class for every row scores chance exactly.
CHANCE_MARGIN = 0.01


def shared_rows_note(runs: pd.DataFrame) -> str:
    """Name the runs whose val metrics are of rows they trained on (``shared_rows``: an
    estimator's fit without validation_fraction), the logic gates' 4 rows aside (the fixed
    line says so of them): ranked with held-out runs, such a run had come first. And the
    runs whose test metrics are of their validation rows (``val = test``: an estimator's
    fit with validation_fraction), whose test column read as an independent test set."""
    from mlplab.data.synthetic import GATES

    if "shared_rows" not in runs:
        return ""
    shared_as = runs["shared_rows"].fillna("").astype(str)
    gates = runs["data"].isin(GATES) if "data" in runs else pd.Series(False, runs.index)
    seen = shared_as.str.startswith("train = val") & ~gates
    val_test = (shared_as == "val = test") & ~gates
    said = []
    if seen.any():
        first = runs.loc[seen.idxmax(), "run_id"]
        said.append(
            f"{int(seen.sum())} run(s) (e.g. {first}) scored val and test on the rows they "
            "trained on (train = val = test: an estimator's fit with validation_fraction=0): "
            "their val metrics, and so their ranks, are of rows seen"
        )
    if val_test.any():
        first = runs.loc[val_test.idxmax(), "run_id"]
        said.append(
            f"{int(val_test.sum())} run(s) (e.g. {first}) scored test on their validation "
            "rows (val = test: an estimator's fit, whose validation_fraction rows are its "
            "only held-out rows): their test metrics are of the rows that ranked them (and, "
            "with patience, chose their epoch), no independent test"
        )
    return "; ".join(said)


# A data note as the report repeats it: its first words, up to this many characters.
DATA_NOTE_CHARS = 160


def data_notes(runs: pd.DataFrame) -> list[str]:
    """The data's notes that the runs' records kept (``notes``: rows of val or test that
    repeat training rows, a feature that counts the rows), once per kind of note, with
    the runs they concern: printed once at train time, a reviewer of the folder saw none."""
    import re

    if "notes" not in runs:
        return []
    kinds: dict[str, tuple[str, list[str]]] = {}
    for run_id, notes in zip(runs["run_id"], runs["notes"], strict=True):
        for note in notes if isinstance(notes, list) else []:
            if not isinstance(note, str) or not note:
                continue
            # A kind: the note with its numbers and quoted names left out (18 of 30 rows,
            # 5 of 40, in two runs, are one kind).
            kind = re.sub(r"'[^']*'|\d[\d.,]*", "#", note.split(":")[0])
            first, ids = kinds.setdefault(kind, (note, []))
            if run_id not in ids:
                ids.append(str(run_id))
    said = []
    for first, ids in kinds.values():
        text = first if len(first) <= DATA_NOTE_CHARS else first[: DATA_NOTE_CHARS - 3] + "..."
        said.append(f"data: {text} ({len(ids)} run(s): {listed(ids)})")
    return said


def chance_note(runs: pd.DataFrame) -> str:
    """Name the finished runs that learnt nothing, as `mlplab train` notes of one: a
    classifier whose training balanced accuracy ended at chance (what answering one class
    for every row scores), a regression whose training R² ended about 0 (what predicting
    the mean scores). A sweep of 48 runs had 12 of them stuck at 0.5, said nowhere."""
    from mlplab.console import MAJORITY_MIN_ROWS, MEAN_R2

    if "task_type" not in runs:
        return ""
    done = runs[runs["status"] == "finished"]
    # Not the logic gates' 4 rows, as `mlplab train` says nothing of them: the perceptron
    # lab is there to learn nothing of XOR.
    rows = pd.to_numeric(done.get("n_train", pd.Series(np.nan, done.index)), errors="coerce")
    done = done[~(rows < MAJORITY_MIN_ROWS)]
    task = done["task_type"]
    # Records made before n_classes was kept: a binary task's is 2, a multiclass one's
    # unknown (its runs are left out).
    classes = done["n_classes"] if "n_classes" in done else pd.Series(np.nan, done.index)
    classes = pd.to_numeric(classes.where(task != "binary", 2), errors="coerce")
    bacc = pd.to_numeric(done.get("train_bacc", pd.Series(np.nan, done.index)), errors="coerce")
    r2 = pd.to_numeric(done.get("train_r2", pd.Series(np.nan, done.index)), errors="coerce")
    stuck = (bacc <= 1 / classes + CHANCE_MARGIN) | ((task == "regression") & (r2 <= MEAN_R2))
    if not stuck.any():
        return ""
    first = stuck.idxmax()
    run_id = done.at[first, "run_id"]
    example = (
        f"{run_id}: R² {r2[first]:.3g}"
        if task[first] == "regression"
        else f"{run_id}: {bacc[first]:.4g} of {classes[first]:.0f} classes"
    )
    kinds = set(task[stuck].map(lambda t: t == "regression"))
    how = " or ".join(
        [
            "their training balanced accuracy ended at chance or below, as answering one "
            "class for every row scores chance"
        ][: False in kinds]
        + ["their training R² ended at about 0 or below (predicting the mean scores 0)"][
            : True in kinds
        ]
    )
    return (
        f"{int(stuck.sum())} finished run(s) learnt nothing: {how} (e.g. {example}); their "
        "metrics enter their configs' means as any other run's, and `mlplab train` of one "
        "says what may help"
    )


def _rose(last: pd.Series, base: pd.Series, by: float) -> pd.Series:
    """``last / base`` where it is above ``1 + by``, over the rows whose ``base`` is a
    positive number (a run with no such loss says nothing of a rise)."""
    # As numbers: of no finished run, the losses are an empty column of objects, which
    # np.isfinite refuses (a report of a stopped sweep failed with a traceback).
    last, base = pd.to_numeric(last, errors="coerce"), pd.to_numeric(base, errors="coerce")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (last / base).where(np.isfinite(base) & (base > 0))
    return ratio[ratio > 1 + by]


def val_rose_note(runs: pd.DataFrame) -> str:
    """Name the finished runs whose validation loss ended well above its lowest, as `mlplab
    train` notes of one: the tables' metrics are the last model's, not the best one's,
    and a config that overfits ranks by the model it ended with. Not the logic gates,
    whose validation rows are the training rows."""
    from mlplab.console import OVERFIT
    from mlplab.data.synthetic import GATES

    if not {"val_loss", "best_val_loss", "best_epoch"} <= set(runs):
        return ""
    gates = runs["data"].isin(list(GATES)) if "data" in runs else False
    done = runs[(runs["status"] == "finished") & ~gates]
    last = pd.to_numeric(done["val_loss"], errors="coerce")
    best = pd.to_numeric(done["best_val_loss"], errors="coerce")
    rose = _rose(last, best, OVERFIT)
    if rose.empty:
        return ""
    worst = rose.idxmax()
    run_id, epoch = done.at[worst, "run_id"], done.at[worst, "best_epoch"]
    stopped = done["stopped_early"] if "stopped_early" in done else pd.Series(False, done.index)
    return (
        f"{len(rose)} finished run(s) ended with a validation loss more than "
        f"{OVERFIT:.0%} above their lowest (e.g. {run_id}: {best[worst]:.4g} at epoch "
        f"{epoch}, {last[worst]:.4g} at the end): the tables hold their last models' "
        "metrics; each run's checkpoints/best.safetensors keeps its best model"
        # Runs that patience stopped already use it, as `mlplab train`'s note says.
        + (
            ""
            if stopped[rose.index].fillna(False).astype(bool).all()
            else ", and --patience stops a run once its validation loss stops falling"
        )
    )


def few_seeds_note(sections: list[Section]) -> str:
    """Name the configs that were given fewer seeds than the most any config has: a
    lucky single seed ranked first among configs of five, its mean one draw and its
    interval none. Seeds that were trained and did not finish (diverged, pruned, still
    running) count as given: such a config ranks after the others already, and its
    ``runs`` column says why; training them again would not help."""
    said = []
    for sec in sections:
        s, runs = sec.summary, sec.runs
        if "rank" not in s or "seed" not in runs or len(s) < 2:
            continue
        seeds = runs["seed"].groupby(group_keys(runs, sec.variables), sort=False).nunique()
        n = group_keys(s, sec.variables).map(seeds).fillna(0).astype(int)
        few = (n > 0) & (n < n.max())
        if n.max() < 2 or not few.any():
            continue
        ranks = [
            f"rank {r} has {k} seed{'' if k == 1 else 's'}"
            for r, k in zip(s.loc[few, "rank"], n[few], strict=True)
        ]
        where = f"{sec.title}: " if len(sections) > 1 else ""
        said.append(f"{where}{listed(ranks)}, where others have up to {n.max()}")
    if not said:
        return ""
    return (
        "; ".join(said) + ": a mean over fewer seeds swings more, and one seed has no "
        "interval; train their other seeds to compare like with like"
    )


def copies_note(sections: list[Section]) -> str:
    """Name the finished copies of one config and seed whose ranking metric differs (two
    students' copies of a run, one trained again elsewhere): the first in folder order
    counts, and renaming a folder changed the ranking without a word."""
    differ: list[tuple[str, str]] = []
    for sec in sections:
        runs, m = sec.runs, sec.metric
        if "seed" not in runs or m not in runs or "run_dir" not in runs:
            continue
        done = runs[(runs["status"] == "finished") & runs["seed"].notna()]
        if done.empty:
            continue
        pair = group_keys(done, sec.variables) + "|" + done["seed"].map(key_text)
        values = pd.to_numeric(done[m], errors="coerce").round(TIE_DECIMALS)
        for _, rows in done.groupby(pair, sort=False):
            if values[rows.index].nunique() > 1:
                rows = rows.sort_values("run_dir")  # as they were read: the first counts
                shown = ", ".join(
                    f"{d}: {v:.4g}" for d, v in zip(rows["run_dir"], values[rows.index])
                )
                differ.append((m, shown))
    if not differ:
        return ""
    m, example = differ[0]
    return (
        f"{len(differ)} config(s) and seed(s) have finished copies whose {m} differ ({example}"
        f"); the first, in folder order, is the one counted: keep the right one"
    )


def survivors_note(sections: list[Section]) -> str:
    """Name a first-ranked config whose statistics leave out seeds that did not finish:
    where no config finished every seed, rank 1 (a seed of five diverged) is the mean of
    its survivors, which flatters it, said only by its ``runs`` column."""
    said = []
    for sec in sections:
        s = sec.summary
        if s.empty or "statuses" not in s or s.iloc[0]["n"] < 1:
            continue
        first = s.iloc[0]
        runs = sec.runs[sec.runs["rank"] == first["rank"]] if "rank" in sec.runs else sec.runs
        done = runs["status"] == "finished"
        seeds = runs["seed"] if "seed" in runs else pd.Series(np.nan, runs.index)
        # Seeds with no finished copy (a stopped copy of a seed that finished elsewhere
        # loses nothing), or a run that did not finish and names no seed.
        lost = ~done & (seeds.isna() | ~seeds.isin(seeds[done]))
        if lost.any():
            where = f"{sec.title}: " if len(sections) > 1 else ""
            said.append(
                f"{where}rank 1's statistics are over its {first['n']} finished seed(s) of "
                f"its {first['runs']} run(s) ({first['statuses']})"
            )
    if not said:
        return ""
    return (
        "; ".join(said) + ": the seeds that did not finish are left out, which flatters "
        "it; no config finished every seed"
    )


# Configs from which a ranking is chosen past which the note says that rank 1's own
# validation score is flattered by the choice (40 near-equal configs: rank 1's val_acc
# 0.85 against 0.83 for every config, its test_acc 0.83 as theirs).
CHOSEN_FROM = 10


def chosen_note(sections: list[Section]) -> str:
    """Say, past :data:`CHOSEN_FROM` configs, that rank 1's validation metric chose it and
    so flatters it, and that its test metric is the one to quote."""
    from mlplab.data.synthetic import GATES

    said = []
    for sec in sections:
        s, m = sec.summary, sec.metric
        test = "test_" + m.split("_", 1)[1]
        if "data" in sec.runs and sec.runs["data"].isin(GATES).all():
            continue  # a gate's test rows are its validation rows: they chose rank 1 too
        if _first_tests_on_chosen_rows(sec):
            continue  # its test rows are its val (or training) rows: they chose it too
        if len(s) < CHOSEN_FROM or f"{test}_mean" not in s or pd.isna(s.iloc[0][f"{test}_mean"]):
            continue
        where = f"{sec.title}: " if len(sections) > 1 else ""
        said.append(
            f"{where}rank 1 is the best {m} of {len(s)} configs, which flatters its {m}: "
            f"quote its {test} ({s.iloc[0][f'{test}_mean']:.4g}), of rows that chose nothing"
        )
    return "; ".join(said)


def _first_tests_on_chosen_rows(sec: Section) -> bool:
    """Whether rank 1's runs scored test on their validation or training rows
    (``shared_rows`` ``val = test`` or ``train = val = test``: an estimator's fit), so
    that its test metric was no less chosen than its val metric."""
    runs = sec.runs
    if "shared_rows" not in runs or sec.summary.empty:
        return False
    if "rank" in runs and "rank" in sec.summary:
        runs = runs[runs["rank"] == sec.summary.iloc[0]["rank"]]
    return bool(runs["shared_rows"].fillna("").astype(str).str.endswith("test").any())


def mixed_data_note(sections: list[Section]) -> str:
    """What to say of configs whose finished runs trained on different contents of one
    data file (the file changed between two `mlplab train --seed N`): their mean and
    interval pool two data sets. Empty when none do (or the records predate the digest)."""
    mixed: list[str] = []
    for sec in sections:
        runs = sec.runs
        if "data_digest" not in runs:
            continue
        done = runs[(runs["status"] == "finished") & runs["data_digest"].notna()]
        if done.empty:
            continue
        versions = done["data_digest"].groupby(group_keys(done, sec.variables), sort=False)
        counts = versions.nunique()
        if (counts > 1).any():
            mixed.append(f"{int((counts > 1).sum())} in {sec.exp_name or 'the folder'}")
    if not mixed:
        return ""
    return (
        f"configs whose runs trained on different contents of their data file: "
        f"{', '.join(mixed)}; their means and intervals pool the versions (train those "
        "seeds again on one version, or into another --exp_name)"
    )


def _with_constants(sec: Section, sections: list[Section]) -> pd.DataFrame:
    """``sec``'s summary with the settings other sections sweep and it holds constant: in
    one summary.csv, a blank would read as "does not apply" (``data`` of the regression
    rows of a sweep over moons, iris and sine)."""
    summary = sec.summary.copy()
    for name in dict.fromkeys(v for s in sections for v in s.variables):
        if name in sec.variables or name not in sec.runs:
            continue
        values = sec.runs[name]
        if values.notna().all() and values.nunique() == 1:
            summary[name] = values.iloc[0]
    return summary


def _check_order(order: Any) -> None:
    """``order`` as a list of setting names (a sweep's axes, seed among them); a typo
    (``hiddim``) or a string was ignored without a word, and the default order used."""
    from mlplab.config import Config

    if order is None:
        return
    if isinstance(order, str) or not isinstance(order, list | tuple):
        raise ConfigError(
            f"report: order is a list of setting names, such as ['hid_dim', 'lr'] (got {short_repr(order)})"
        )
    for name in order:
        if not isinstance(name, str) or name not in Config.model_fields:
            # seed may be there: it is no column, as ever
            raise ConfigError(
                f"report: order names {short_repr(name)}, which is no setting; give setting "
                "names such as 'hid_dim' or 'lr'"
            )
    twice = sorted({n for n in order if list(order).count(n) > 1})
    if twice:
        raise ConfigError(
            f"report: order names {', '.join(map(repr, twice))} twice; name each once"
        )


def checked_rank_by(rank_by: str | None, who: str = "report") -> str | None:
    """``rank_by`` as a metric's name, written as settings may be (``VAL_BACC``,
    ``val-bacc``); refused in one line (``who``: the call's name), with the nearest name,
    when it is none."""
    if rank_by is None:
        return None
    known = [m for metrics in RANKABLE.values() for m in metrics]
    name = rank_by.strip().lower().replace("-", "_") if isinstance(rank_by, str) else rank_by
    if name not in known:
        choices = "; ".join(f"{', '.join(m)} ({kind})" for kind, m in RANKABLE.items())
        near = nearest(f"val_{name}", known) if isinstance(name, str) else None
        hint = f" (did you mean {near!r}?)" if near else ""
        raise ConfigError(f"{who}: rank_by is one of {choices}, not {rank_by!r}{hint}")
    return name


def check_rank_by_kinds(rank_by: str | None, kinds: Iterable[str], who: str = "report") -> None:
    """Refuse a ``rank_by`` that is a metric of no table here (``val_mse`` where every run
    classifies): each table would fall back to its default, said in a note after the work."""
    kinds = sorted(set(kinds))
    if rank_by is None or not kinds or any(rank_by in RANKABLE[k] for k in kinds):
        return
    theirs = next(k for k, metrics in RANKABLE.items() if rank_by in metrics)
    mine = "; ".join(f"{', '.join(RANKABLE[k])} ({k})" for k in kinds)
    raise ConfigError(
        f"{who}: rank_by {rank_by} is a metric of {theirs}, and the runs here are "
        f"{' and '.join(kinds)}; give one of {mine}"
    )


def make_section(
    exp_name: str, kind: str, runs: pd.DataFrame, order: list[str], rank_by: str | None = None
) -> Section:
    """Rank the runs of one experiment and task kind, by ``rank_by`` where it is a metric
    of that kind (:func:`ranking_metric`)."""
    variables = swept_variables(runs, order)
    metric, ascending = ranking_metric(kind, rank_by)
    finished = runs[runs["status"] == "finished"] if "status" in runs else runs
    if (
        kind == "regression"
        and len(finished)
        and (metric not in runs or finished[metric].isna().any())
    ):
        # A finished record without val_mse (an older or edited one): a mean of fewer
        # seeds than its row says, or none. The MAE, in the target's units as well (the
        # loss is not, under standardize_target), which every finished record has.
        metric = "val_mae"
    summary = aggregate(
        runs,
        variables,
        [*metric_names(kind), "wall_time_s"],
        (metric, ascending),
        tie_break(kind, metric),
    )
    runs = rank_runs(runs, summary, variables, metric, ascending)
    # Beside `runs`, how they ended (`1 finished, 1 pruned`): `runs` minus `n` does not
    # tell a pruned seed from a diverged one.
    statuses = summary["rank"].map(_statuses(runs, variables)).fillna("")
    summary.insert(summary.columns.get_loc("runs") + 1, "statuses", statuses)
    return Section(exp_name, kind, runs, summary, variables, metric)


def _all_numbers(values: pd.Series) -> bool:
    """Whether a setting's column holds numbers only (blanks aside), not words or booleans."""
    given = values.dropna()
    return bool(
        len(given)
        and given.map(lambda v: not isinstance(v, bool | np.bool_)).all()
        and pd.to_numeric(given, errors="coerce").notna().all()
    )


def _holds_runs(folder: Path) -> bool:
    """Whether run folders lie below ``folder`` (an experiment's, or a log_path's)."""
    return any(
        next(folder.glob(pattern), None) is not None
        for pattern in ("*/result.json", "*/*/result.json")
    )


def writable_folder(path: Path, given: bool = True) -> Path:
    """``path``, made if missing, once it is known that files can be written in it.

    Checked before anything is written, so a bad ``--out`` leaves nothing half-written.
    ``given=False``: ``path`` is the folder read, the default of an ``--out`` not given.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"report --out: {str(path)!r} is a file, not a folder")
    from mlplab.runs.record import run_folder_around

    inside = run_folder_around(path)
    if inside is not None and _holds_runs(inside):
        inside = None  # a result.json set beside runs (the walk names it): no run's folder
    if inside is not None and not given:
        # The user gave no --out: the default (the folder read) is what is refused.
        raise ConfigError(
            f"report: {str(path)!r} is a run folder, and the report's files (written in the "
            "folder read unless --out says where) would change its record; give --out a "
            "folder outside it"
        )
    if inside is not None:
        raise ConfigError(
            f"report --out: {str(path)!r} is inside the run folder {str(inside)!r}, whose "
            "record it would change; give --out a folder outside it"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A real write: permission bits alone do not tell (root, read-only mounts).
        with tempfile.NamedTemporaryFile(dir=path, prefix=".mlplab-report-"):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        if not given:  # the folder read, which the user did not name as --out
            raise ConfigError(
                f"report: cannot write the report in {str(path)!r}, the folder read "
                f"({reason}); give --out (out= in Python) a folder to write it in"
            ) from None
        raise ConfigError(f"report --out: cannot write in {str(path)!r} ({reason})") from None
    return path


def rank_runs(
    runs: pd.DataFrame, summary: pd.DataFrame, variables: list[str], metric: str, ascending: bool
) -> pd.DataFrame:
    """Runs sorted by their config's rank, then by their own ``metric`` (ties by seed);
    adds ``rank``."""
    ranks = dict(zip(group_keys(summary, variables), summary["rank"]))
    ranked = runs.assign(rank=group_keys(runs, variables).map(ranks))
    own = pd.to_numeric(
        ranked.get(metric, pd.Series(math.nan, index=ranked.index)), errors="coerce"
    )
    ranked = ranked.assign(_own=own if ascending else -own)
    keys = ["rank", "_own", *(["seed"] if "seed" in ranked else [])]
    ranked = ranked.sort_values(keys, na_position="last", kind="stable")
    cols = ["rank", *[c for c in ranked.columns if c not in ("rank", "_own")]]
    return ranked[cols].reset_index(drop=True)


# What the t-interval takes for granted, and when it is too narrow: seeds near chance
# beside good ones (a classifier's), or a few seeds, held the mean over 60 seeds 74% to
# 88% of the time.
T_NOTE = (
    "it takes the seeds' results as spread normally: under 5 seeds, or with a few seeds far "
    "from the others, it is often too narrow"
)
# A stack's configs train together, so each run's wall time is the stack's: a config's
# time is not its own cost, and the header alone would say it is.
TIME_NOTE = "time (s): wall time of the training, shared by configs stacked in one model"
# What the spread over seeds covers, and what it does not: a reader takes "95% CI" for the
# uncertainty of the result, and across data splits it is often several times wider.
SEED_NOTE = (
    "a seed draws the initial weights, dropout and the data order; every seed of a config "
    "trains on the same split (data_seed), so the interval leaves out the split's variance"
)


# A config whose mean balanced accuracy is this far from its accuracy (on either split)
# makes the table show both splits' balanced accuracy: its classes are unequal and its
# accuracy says more of the common class than of the others (2% positives: accuracy 0.98,
# balanced accuracy 0.5). Equal classes keep them within a few hundredths.
BACC_GAP = 0.02


def accuracy_flatters(summary: pd.DataFrame) -> bool:
    """Whether some config's balanced accuracy differs from its accuracy by
    :data:`BACC_GAP` or more (records written before balanced accuracy have none)."""
    gaps = [
        (summary[f"{split}_bacc_mean"] - summary[f"{split}_acc_mean"]).abs()
        for split in ("val", "test")
        if f"{split}_bacc_mean" in summary and f"{split}_acc_mean" in summary
    ]
    return any(bool((gap >= BACC_GAP).any()) for gap in gaps)


# The metrics every row of results.csv has a column for, of its task, blank where a run
# has none: with no run finished the columns were missing, and a script's row["test_acc"]
# failed.
RESULT_METRICS = {
    "classification": ("loss", "acc", "bacc", "f1"),
    "regression": ("loss", "mse", "mae", "rmse", "r2"),
}


def whole_settings(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its whole-number settings as whole numbers: a column of one with
    blanks (hid_dim, none for a linear model's rows) is float in pandas, and the CSVs said
    ``n_layer`` 1.0 and ``hid_dim`` 200.0 (a LaTeX table from them, 200.000)."""
    import typing

    from mlplab.config import Config

    out = table.copy()
    for name, info in Config.model_fields.items():
        if name not in out or out[name].dtype.kind != "f":
            continue
        kinds = {info.annotation, *typing.get_args(info.annotation)}
        whole = int in kinds or any(int in typing.get_args(k) for k in kinds)
        values = out[name].dropna()
        if whole and (values == values.round()).all():
            out[name] = out[name].astype("Int64")
    return out


def _results_table(sections: list[Section]) -> pd.DataFrame:
    """results.csv: each run's scalars, its task's metrics always as columns, and the rank
    of its config blank where the printed table shows none (no run of it finished and
    none was pruned: a diverged run alone read as rank 1)."""
    parts = []
    for sec in sections:
        runs = sec.runs.copy()
        ranked = {
            r["rank"] for _, r in sec.summary.iterrows() if r["n"] > 0 or "pruned" in r["statuses"]
        }
        if "rank" in runs:
            runs["rank"] = runs["rank"].where(runs["rank"].isin(ranked)).astype("Int64")
        for split in ("train", "val", "test"):
            for m in RESULT_METRICS.get(sec.kind, ()):
                if f"{split}_{m}" not in runs:
                    runs[f"{split}_{m}"] = np.nan
        parts.append(runs)
    runs = pd.concat(parts, ignore_index=True)
    return runs[scalar_columns(runs)]


def table_rows(sec: Section, limit: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The ranked summary as formatted text: header and rows (mean ± std, 95% CI)."""
    m = sec.metric
    # (column, metric, with spread): the test metric shows mean ± std like the ranking one.
    if sec.kind == "regression":  # ranked by val_mse; MAE and R² read more easily
        extra = [("val_mae", False), ("test_mae", True), ("test_r2", False)]
    else:
        extra = [("test_acc", True), ("train_acc", False), ("val_loss", False)]
        if accuracy_flatters(sec.summary):
            extra[1:1] = [("val_bacc", False), ("test_bacc", False)]
    clip = bounds_text(m)
    # The header says the interval is clipped: "95% CI in [0, 1]", "95% CI ≥ 0".
    ci = f"95% CI {'in ' if clip.startswith('[') else ''}{clip}".rstrip()
    if sec.kind != "regression" and m != "val_acc":  # ranked by another: accuracy beside it
        extra.insert(0, ("val_acc", False))
    extra = [(col, pm) for col, pm in extra if col != m]  # ranked by it: shown already
    header = ["rank", *sec.variables, "seeds", m, ci]
    header += [col for col, _ in extra] + ["runs", "time (s)"]
    rows = []
    summary = sec.summary.head(limit) if limit else sec.summary
    exact = {v for v in sec.variables if _texts_collide(sec.summary[v])}
    untested = untested_ranks(sec.runs)
    # Each column in one form: scientific for all its rows where one needs it (a CI column
    # read [0.0000, 0.02836] above [7.575e-04, 2.829e-02]).
    sci = {
        col: _any_scientific(summary, *names)
        for col, names in [
            (m, [f"{m}_mean"]),
            ("ci", [f"{m}_ci_low", f"{m}_ci_high"]),
            *[(col, [f"{col}_mean"]) for col, _ in extra],
        ]
    }
    for _, r in summary.iterrows():
        # No finished run and none pruned (every run diverged, failed or was stopped): no
        # mean ranks it, and a rank in grid order would read as one.
        ranked = r["n"] > 0 or "pruned" in r["statuses"]
        rank = str(r["rank"]) if ranked else "–"
        row = [rank, *[_text(r[v], v in exact) for v in sec.variables], str(r["n"])]
        row += [_pm(r, m, sci[m]), _ci(r, m, sci["ci"])]
        row += [
            NO_TEST
            if col.startswith("test_") and r["rank"] in untested
            else _pm(r, col, sci[col])
            if pm
            else number_text(r.get(f"{col}_mean"), sci[col] or None)
            for col, pm in extra
        ]
        row += [r["statuses"], _seconds(r.get("wall_time_s_mean"))]
        rows.append(row)
    return header, rows


# A test cell of a config whose runs have no test split (split 0.9 0.1 0): no number, and
# none missing (a blank is a run that did not finish).
NO_TEST = "–"
NO_TEST_LINE = f"{NO_TEST} test: no test rows (a split without any, such as 0.9 0.1 0)"


def untested_ranks(runs: pd.DataFrame) -> set[Any]:
    """The ranks of the configs whose runs all have no test rows (``n_test`` 0: split
    0.9 0.1 0); records without ``n_test`` (older ones) had test rows."""
    if "n_test" not in runs or "rank" not in runs or runs.empty:
        return set()
    none = pd.to_numeric(runs["n_test"], errors="coerce").eq(0)
    every = none.groupby(runs["rank"]).all()
    return set(every.index[every.to_numpy(dtype=bool)])


def print_table(sec: Section, summary_path: Path) -> None:
    """The top PRINT_ROWS configs of a section as a rich table on stdout."""
    from mlplab.console import rich_loaded

    rich_loaded()
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from mlplab.console import terminal_text
    from mlplab.pipes import writes_utf8

    # An ASCII or latin-1 stdout prints a '?' for each character it lacks: "0.91 ? 0.02".
    ascii_only = not writes_utf8(sys.stdout)

    def plain(text: str) -> Text:
        # Text, not markup: a data path such as `runs[/red].csv` is a name, which as
        # markup raised an error after a whole sweep had trained.
        if ascii_only:
            text = text.replace("±", "+/-").replace("≥", ">=").replace("≤", "<=").replace("–", "-")
        return Text(terminal_text(text))

    header, rows = table_rows(sec, PRINT_ROWS)
    clip = bounds_text(sec.metric)
    # Title and caption as lines of their own: a table's pads them with spaces to its
    # width (trailing spaces in every log, blank rows where a terminal wraps them).
    title = plain(
        f"{sec.title}: {len(sec.summary)} config{'' if len(sec.summary) == 1 else 's'} "
        f"ranked by {sec.metric}, mean ± std over seeds"
    )
    caption = plain(
        f"fixed: {fixed_settings(sec)}\n95% CI: Student-t interval of the mean over seeds"
        + (f", clipped to {clip}" if clip else "")
        + f" ({T_NOTE});\n{seed_note(sec)}\n{TIME_NOTE}"
        + (f"\n{NO_TEST_LINE}" if untested_ranks(sec.runs) else "")
    )
    from mlplab.pipes import table_box

    table = Table(box=table_box(sys.stdout))
    for h in header:
        # Printed at its full width (below), no header or value is cut or folded.
        table.add_column(plain(h), justify="left" if h in sec.variables else "right")
    for row in rows:
        table.add_row(*map(plain, row))
    console = Console()
    # As wide as the table is, so that no number wraps or is cropped: in logs and pipes,
    # and in a terminal narrower than the table, whose lines then wrap. Fitted to a narrow
    # terminal, rich cropped the last columns away, header and all (an 80-column one lost
    # the time column), even at the width its own measure gave as the table's least.
    # A height as well: without one, rich takes a dumb terminal (TERM=dumb: Emacs' shell,
    # some IDE consoles) as 80 columns whatever width it is given.
    width = Console(width=100_000, height=25).measure(table).maximum
    if not console.is_terminal or console.width < width:
        console = Console(width=max(80, width), height=25)
    console.print(title, highlight=False, soft_wrap=True)
    console.print(table)
    console.print(caption, highlight=False, soft_wrap=True)
    if len(sec.summary) > PRINT_ROWS:
        console.print(
            plain(f"... {len(sec.summary) - PRINT_ROWS} more in {summary_path}"), highlight=False
        )


def print_skipped(skipped: list[Skipped]) -> None:
    """Name the result.json files left out, and why, on stderr."""
    if not skipped:
        return
    lines = [
        f"mlplab: report left out {len(skipped)} result.json file{'s' if len(skipped) > 1 else ''}:"
    ]
    lines += [f"  {path_text(s.path)}: {s.reason}" for s in skipped[:PRINT_SKIPPED]]
    if len(skipped) > PRINT_SKIPPED:
        lines.append(f"  ... and {len(skipped) - PRINT_SKIPPED} more")
    from mlplab.console import terminal_text

    print(terminal_text("\n".join(lines)), file=sys.stderr, flush=True)  # names from disk


# Settings a reader needs to know a table's numbers by, named even at their defaults.
ALWAYS_NAMED = ("data", "optim", "lr", "epoch", "batch_size")


def fixed_settings(sec: Section) -> str:
    """The settings every run of ``sec`` shares, as ``data moons (800/100/100 rows), optim
    adam, lr 0.01, ...``: those of :data:`ALWAYS_NAMED` and those set off their default. A
    table's numbers mean little without them, and only results.csv had them."""
    from mlplab.config import Config
    from mlplab.data.synthetic import GATES
    from mlplab.reports.collect import NOT_VARIABLES

    runs = sec.runs
    parts = []
    for name, info in Config.model_fields.items():
        if name in sec.variables or name in NOT_VARIABLES or name not in runs:
            continue
        values = runs[name]
        if values.isna().all() or values.map(repr).nunique() != 1:
            continue
        value = values.iloc[0]
        if name not in ALWAYS_NAMED and value == info.default:
            continue
        part = f"{name} {_text(value)}" + (
            " (full batch)" if name == "batch_size" and not value else ""
        )
        if name == "data" and value in GATES:
            # The gates train, validate and test on their 4 rows: ranking by val is
            # choosing by test, which "4/4/4 rows" left to be guessed.
            part += " (its 4 rows: train = val = test)"
        elif name == "data" and all(f"n_{s}" in runs for s in ("train", "val", "test")):
            part += _rows_text(runs)
        parts.append(part)
    return ", ".join(parts)


def _rows_text(runs: pd.DataFrame) -> str:
    """`` (800/100/100 rows train/val/test)`` where every run has those counts; rows that
    are one split's and another's (``shared_rows``) counted once: ``240/60 rows train/val
    (= test)``, as an estimator's fit holds out one set of rows for both."""
    cols = ["n_train", "n_val", "n_test"] + ["shared_rows"] * ("shared_rows" in runs)
    rows = runs[cols].astype(object).where(runs[cols].notna(), None).drop_duplicates()
    if len(rows) != 1:
        return ""
    n_train, n_val, n_test = (int(v) for v in rows.iloc[0][:3])
    shared = rows.iloc[0]["shared_rows"] if "shared_rows" in rows else None
    if shared == "val = test":
        return f" ({n_train}/{n_val} rows train/val (= test))"
    if shared == "train = val = test":
        return f" ({n_train} rows: train = val = test)"
    if shared == "train = val":
        return f" ({n_train}/{n_test} rows train (= val)/test)"
    return f" ({n_train}/{n_val}/{n_test} rows train/val/test)"


def plots_note(runs: pd.DataFrame) -> str:
    """What the figures leave out: they draw finished runs only, so a mean over other
    settings (a bar, a point, a heatmap cell) says nothing of the runs that diverged."""
    left_out = runs.loc[runs["status"] != "finished", "status"].value_counts()
    if left_out.empty:
        return ""
    what = ", ".join(f"{n} {status}" for status, n in sorted(left_out.items()))
    return (
        f"The figures draw the {len(runs) - int(left_out.sum())} finished runs of "
        f"{len(runs)}; the others ({what}) did not train to their end (a pruned run has "
        "the metrics of where a rule stopped it) and are left out of every mean below. "
        "The table's runs column says which configs they belong to."
    )


def _page(rep: Report, root: Path, plots: list[list[Any]], notes: list[str]) -> str:
    from mlplab.reports.html import Page, PageSection, render

    runs = pd.concat([s.runs for s in rep.sections], ignore_index=True)
    statuses = runs["status"].value_counts().to_dict()
    meta = {
        "folder": str(root),
        "runs": f"{len(runs)} (" + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + ")",
        "sections": ", ".join(s.title for s in rep.sections),
        "written": time.strftime("%Y-%m-%d %H:%M"),
    }
    page = Page(
        title=f"mlplab report: {root.name or root}",
        meta=meta,
        skipped=[f"{path_text(_relative(s.path, root))}: {s.reason}" for s in rep.skipped],
        notes=notes,
    )
    for sec, sec_plots in zip(rep.sections, plots, strict=True):
        header, rows = table_rows(sec, HTML_ROWS)
        test = "test_mae" if sec.kind == "regression" else "test_acc"
        clip = bounds_text(sec.metric)
        part = PageSection(
            title=sec.title,
            meta={
                "runs": str(len(sec.runs)),
                "configs": str(len(sec.summary)),
                "swept": ", ".join(sec.variables) or "nothing (seed replicates only)",
                "fixed": fixed_settings(sec),
                "ranked by": f"{sec.metric} mean over seeds, ties by "
                f"{tie_break(sec.kind, sec.metric)[0]}"
                + (" (across datasets: data is swept)" if "data" in sec.variables else ""),
            },
            table_header=header,
            table_rows=rows,
            # Settings of words (act, optim) read from the left; numbers (lr, hid_dim)
            # line up on the right, as the metrics do.
            text_columns={v for v in sec.variables if not _all_numbers(sec.summary[v])},
            table_note=f"{sec.metric} and {test}: mean ± std over seeds; "
            "seeds: finished replicates; 95% CI: Student-t interval of the mean "
            + (f"clipped to {clip}, the range {sec.metric} can take " if clip else "")
            + f"(blank with one seed; {T_NOTE}); {seed_note(sec)}; other metrics: means; runs: statuses "
            f"of every run of the config; {TIME_NOTE}; blank settings do not apply to that "
            "model."
            + (f" {NO_TEST_LINE}." if untested_ranks(sec.runs) else "")
            + (
                f" The first {HTML_ROWS} of {len(sec.summary)} configs; summary.csv has all."
                if len(sec.summary) > HTML_ROWS
                else ""
            ),
            plots=sec_plots,
            plots_note=plots_note(sec.runs),
        )
        best = sec.best_run
        if best is not None:
            run_dir = Path(str(best["run_dir"]))
            part.best_title = f"Best run: {best.get('run_id', run_dir.name)}"
            part.best_meta = {
                k: _text(best[k]) for k in [*sec.variables, "seed", sec.metric] if k in best
            }
            part.best_meta["folder"] = str(run_dir)
            plots_dir = run_dir / "plots"
            if plots_dir.is_dir():
                from mlplab.notebook import PAGE_IMAGE_MAX_BYTES, plot_files

                part.best_images = [
                    (p.stem.replace("_", " "), p)
                    for p, size in plot_files(plots_dir, IMAGE_SUFFIXES).items()
                    if size <= PAGE_IMAGE_MAX_BYTES
                ]
        page.sections.append(part)
    return render(page)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _seconds(v: Any) -> str:
    """A wall time: ``12.3``; ``""`` for NaN."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(x) else f"{x:.1f}"


def _number(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _nums(*values: Any, sci: bool = False) -> list[str]:
    """``values``, the ends of an interval, in one form: scientific for all where one is
    (a spread of 76263.4293 beside a mean of 6.629e+05 read as two scales), or ``sci``."""
    sci = sci or any(scientific(_number(v)) for v in values)
    return [number_text(v, sci) for v in values]


def _any_scientific(summary: pd.DataFrame, *columns: str) -> bool:
    """Whether a value of any of ``columns`` (those present) is written scientific."""
    return any(scientific(_number(v)) for c in columns if c in summary for v in summary[c].tolist())


def _pm(r: pd.Series, m: str, column_sci: bool = False) -> str:
    mean, std = _number(r.get(f"{m}_mean")), _number(r.get(f"{m}_std"))
    # In the mean's form (its column's), or scientific for both where the spread is large;
    # a spread too small for the mean's decimals in its own form (0.9123 ± 3.000e-05, not
    # ± 0.0000).
    sci = column_sci or scientific(mean) or abs(std) >= SCIENTIFIC_FROM
    mean_text = number_text(mean, sci)
    std_text = number_text(std, True if sci else None)
    return f"{mean_text} ± {std_text}" if mean_text and std_text else mean_text


def _ci(r: pd.Series, m: str, column_sci: bool = False) -> str:
    low, high = _nums(r.get(f"{m}_ci_low"), r.get(f"{m}_ci_high"), sci=column_sci)
    return f"[{low}, {high}]" if low and high else ""


def _texts_collide(values: pd.Series) -> bool:
    """Whether two distinct values of a swept setting read the same in 6 digits (0.01 and
    0.01000000000000001, two configs shown as one): then the column shows each exactly."""
    distinct = {v for v in values if v is not None and not (isinstance(v, float) and v != v)}
    return len({_text(v) for v in distinct}) < len(distinct)


def _text(v: Any, exact: bool = False) -> str:
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):  # as flags and YAML spell it, beside 'auto'
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v) if exact else f"{v:g}"
    if isinstance(v, str) and v.startswith("["):
        # A list-valued setting (target, ignore, split) is JSON in the CSVs, where it
        # must read back; the tables show it as the flags take it: id, 0.6 0.2 0.2.
        with contextlib.suppress(ValueError):
            items = json.loads(v)
            if isinstance(items, list):
                return " ".join(_text(item) for item in items)
    return str(v)


def _statuses(runs: pd.DataFrame, variables: list[str]) -> dict[Any, str]:
    """Per config rank: the statuses of its runs, as ``2 finished, 1 failed``."""
    # One groupby over (rank, status): a value_counts per rank took 1.4 s for 10,000 runs.
    counts = runs.groupby(["rank", "status"], sort=True, dropna=False).size()
    # Where a pruned config's runs were cut: the order of the pruned ranks (by how far
    # they got) showed no number it came from.
    cut = runs[runs["status"] == "pruned"]
    epochs = pd.to_numeric(cut.get("epochs_run", pd.Series(dtype=float)), errors="coerce")
    reached = epochs.groupby(cut["rank"]).agg(["min", "max"]) if len(cut) else None
    out: dict[Any, list[str]] = {}
    for (rank, status), n in counts.items():
        key = math.nan if rank != rank else rank  # one key for every NaN rank
        said = f"{n} {status}"
        if status == "pruned" and reached is not None and rank in reached.index:
            low, high = reached.loc[rank]
            if low == low:  # a record with no epochs_run says no epoch
                said += (
                    f" at epoch {low:.0f}" if low == high else f" at epochs {low:.0f}-{high:.0f}"
                )
        out.setdefault(key, []).append(said)
    return {rank: ", ".join(parts) for rank, parts in out.items()}
