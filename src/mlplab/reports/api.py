"""``report(log_path)``: the runs under a folder -> ranked table, results.csv, report.html.

Outputs, in ``out`` (default: the folder that was read):

- ``results.csv``: one row per run, every scalar of its result.json, with the ``rank`` of
  its config;
- ``summary.csv``: one row per config, seed replicates as mean, std and 95% interval;
- ``report.html``: the ranked table and the figures, self-contained.

The ranking uses the mean over seeds of the validation metric: ``val_acc`` (higher is
better) for classification, ``val_loss`` (lower is better) for regression.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlplab.reports.aggregate import aggregate, metric_names, ranking_metric
from mlplab.reports.collect import (
    collect,
    read_axis_order,
    scalar_columns,
    swept_variables,
    task_kind,
)

# Rows printed on the terminal; the files hold all of them.
PRINT_ROWS = 20
IMAGE_SUFFIXES = (".png", ".svg", ".gif", ".jpg")


@dataclass
class Report:
    """What :func:`report` returns.

    Attributes
    ----------
    runs : DataFrame
        One row per run (ranked), list-valued curves included.
    summary : DataFrame
        One row per config: ``rank``, the swept variables, ``n`` and metric statistics.
    variables : list of str
        The swept settings (those that vary among the runs, seed excluded), axis order first.
    kind : {'classification', 'regression'}
    metric : str
        The ranking metric (``val_acc`` or ``val_loss``).
    csv_path, summary_path, html_path : Path
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    variables: list[str]
    kind: str
    metric: str
    csv_path: Path
    summary_path: Path
    html_path: Path

    @property
    def best_run(self) -> pd.Series | None:
        """The best finished run of the best config, or None when none finished."""
        done = self.runs[self.runs["status"] == "finished"] if "status" in self.runs else self.runs
        return None if done.empty else done.iloc[0]

    def _repr_html_(self) -> str:
        """Jupyter's view: the ranked runs (status, metrics, run dir) and the best run's plots."""
        from mlplab.notebook import report_html

        return report_html(self)


def report(
    log_path: str | Path,
    exp_name: str | None = None,
    out: str | Path | None = None,
    verbose: bool = True,
    *,
    order: list[str] | None = None,
) -> Report:
    """Collect the runs under ``log_path`` (or ``log_path/exp_name``) and write the report.

    Parameters
    ----------
    log_path : path
        A log_path, an experiment folder, or a single run directory.
    exp_name : str, optional
        Only the runs of this experiment (``log_path/exp_name``).
    out : path, optional
        Folder for results.csv, summary.csv and report.html; default: the folder read.
    verbose : bool
        Print the ranked table and where the files went.
    order : list of str, optional
        Axis order (var1, var2, ...); default: from the newest ``sweep-*.yaml`` found.

    Raises
    ------
    mlplab.errors.ConfigError
        When the folder does not exist or holds no runs.
    """
    root = Path(log_path) / exp_name if exp_name else Path(log_path)
    all_runs = collect(root)
    out_dir = Path(out) if out is not None else root
    kind = task_kind(all_runs)
    # A log_path can mix classification and regression runs; rank and plot the majority.
    same_kind = (
        all_runs.get("task_type", pd.Series("", index=all_runs.index)) == "regression"
    ) == (kind == "regression")
    runs = all_runs[same_kind].reset_index(drop=True)
    variables = swept_variables(runs, order if order is not None else read_axis_order(root))
    metric, ascending = ranking_metric(kind)
    summary = aggregate(runs, variables, [*metric_names(kind), "wall_time_s"], (metric, ascending))
    runs = rank_runs(runs, summary, variables, metric, ascending)

    from mlplab.reports.plots import report_plots

    finished = runs[runs["status"] == "finished"] if "status" in runs else runs
    plots = report_plots(finished, summary, variables, kind) if len(finished) else []

    from mlplab.runs.atomic import atomic_write_text

    csv_path = out_dir / "results.csv"
    summary_path = out_dir / "summary.csv"
    html_path = out_dir / "report.html"
    atomic_write_text(csv_path, runs[scalar_columns(runs)].to_csv(index=False))
    atomic_write_text(summary_path, summary.to_csv(index=False))
    result = Report(runs, summary, variables, kind, metric, csv_path, summary_path, html_path)
    atomic_write_text(html_path, _page(result, root, plots, len(all_runs) - len(runs)))
    if verbose:
        print_table(result)
        print(f"report: {html_path}  table: {csv_path}", flush=True)
    return result


def rank_runs(
    runs: pd.DataFrame, summary: pd.DataFrame, variables: list[str], metric: str, ascending: bool
) -> pd.DataFrame:
    """Runs sorted by their config's rank, then by their own ``metric``; adds ``rank``."""
    from mlplab.reports.aggregate import group_keys

    ranks = dict(zip(group_keys(summary, variables), summary["rank"]))
    ranked = runs.assign(rank=group_keys(runs, variables).map(ranks))
    own = pd.to_numeric(
        ranked.get(metric, pd.Series(math.nan, index=ranked.index)), errors="coerce"
    )
    ranked = ranked.assign(_own=own if ascending else -own)
    ranked = ranked.sort_values(["rank", "_own"], na_position="last", kind="stable")
    cols = ["rank", *[c for c in ranked.columns if c not in ("rank", "_own")]]
    return ranked[cols].reset_index(drop=True)


def table_rows(rep: Report, limit: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The ranked summary as formatted text: header and rows (mean ± std, 95% CI)."""
    m = rep.metric
    # (column, metric, with spread): the test metric shows mean ± std like the ranking one.
    if rep.kind == "regression":  # ranked by val_loss; MAE and R² read more easily
        extra = [("val_mae", False), ("test_mae", True), ("test_r2", False)]
    else:
        extra = [("test_acc", True), ("train_acc", False), ("val_loss", False)]
    header = ["rank", *rep.variables, "seeds", m, "95% CI"]
    header += [col for col, _ in extra] + ["runs", "time (s)"]
    rows = []
    summary = rep.summary.head(limit) if limit else rep.summary
    for _, r in summary.iterrows():
        row = [str(r["rank"]), *[_text(r[v]) for v in rep.variables], str(r["n"])]
        row += [_pm(r, m), _ci(r, m)]
        row += [_pm(r, col) if pm else _num(r.get(f"{col}_mean")) for col, pm in extra]
        row += [_status(rep.runs, r), _num(r.get("wall_time_s_mean"), 1)]
        rows.append(row)
    return header, rows


def print_table(rep: Report) -> None:
    """The top PRINT_ROWS configs as a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    header, rows = table_rows(rep, PRINT_ROWS)
    table = Table(
        title=f"{len(rep.summary)} configs ranked by {rep.metric}: mean ± std over seeds",
        title_justify="left",
    )
    for h in header:
        table.add_column(h, justify="left" if h in rep.variables else "right")
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough to keep numbers whole
        console = Console(width=max(console.width, 160))
    console.print(table)
    if len(rep.summary) > PRINT_ROWS:
        console.print(f"... {len(rep.summary) - PRINT_ROWS} more in {rep.summary_path}")


def _page(rep: Report, root: Path, plots: list[Any], others: int) -> str:
    from mlplab.reports.html import Page, render

    header, rows = table_rows(rep)
    statuses = rep.runs["status"].value_counts().to_dict() if "status" in rep.runs else {}
    meta = {
        "folder": str(root),
        "runs": f"{len(rep.runs)} ("
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + ")",
        "configs": str(len(rep.summary)),
        "swept": ", ".join(rep.variables) or "nothing (seed replicates only)",
        "ranked by": f"{rep.metric} mean over seeds",
        "written": time.strftime("%Y-%m-%d %H:%M"),
    }
    if others:
        meta["not shown"] = f"{others} runs of another task kind"
    page = Page(
        title=f"mlplab report: {root.name or root}",
        meta=meta,
        table_header=header,
        table_rows=rows,
        text_columns=set(rep.variables),
        table_note=f"{rep.metric} and {'test_mae' if rep.kind == 'regression' else 'test_acc'}: "
        "mean ± std over seeds; "
        "seeds: finished replicates; 95% CI: Student-t interval of the mean "
        "(blank with one seed); other metrics: means; runs: statuses of every run of the config.",
        plots=plots,
    )
    best = rep.best_run
    if best is not None:
        run_dir = Path(str(best["run_dir"]))
        page.best_title = f"Best run: {best.get('run_id', run_dir.name)}"
        page.best_meta = {
            k: _text(best[k]) for k in [*rep.variables, "seed", rep.metric] if k in best
        }
        page.best_meta["folder"] = str(run_dir)
        plots_dir = run_dir / "plots"
        if plots_dir.is_dir():
            page.best_images = [
                (p.stem.replace("_", " "), p)
                for p in sorted(plots_dir.iterdir())
                if p.suffix.lower() in IMAGE_SUFFIXES
            ]
    return render(page)


def _num(v: Any, digits: int = 4) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(x) else f"{x:.{digits}f}"


def _pm(r: pd.Series, m: str) -> str:
    mean, std = _num(r.get(f"{m}_mean")), _num(r.get(f"{m}_std"))
    return f"{mean} ± {std}" if mean and std else mean


def _ci(r: pd.Series, m: str) -> str:
    low, high = _num(r.get(f"{m}_ci_low")), _num(r.get(f"{m}_ci_high"))
    return f"[{low}, {high}]" if low and high else ""


def _text(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:g}"
    return str(v)


def _status(runs: pd.DataFrame, r: pd.Series) -> str:
    ids = str(r.get("run_ids", "")).split(", ")
    part = runs[runs["run_id"].isin(ids)] if "run_id" in runs else runs.iloc[0:0]
    counts = part["status"].value_counts().to_dict() if "status" in part else {}
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
