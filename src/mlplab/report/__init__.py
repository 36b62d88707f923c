"""Reports: run records -> ranked table, results.csv and a self-contained report.html.

- :mod:`mlplab.report.collect`: result.json files -> DataFrame;
- :mod:`mlplab.report.aggregate`: seed replicates -> mean, std, t-interval;
- :mod:`mlplab.report.plots`: seaborn figures;
- :mod:`mlplab.report.html`: the HTML page;
- :mod:`mlplab.report.api`: :func:`report` and ``mlplab report``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Report", "collect", "report"]


def __getattr__(name: str) -> Any:
    # Late imports: pandas and seaborn load only when a report is made.
    if name in ("report", "Report"):
        from mlplab.report import api

        return getattr(api, name)
    if name == "collect":
        from mlplab.report.collect import collect

        return collect
    raise AttributeError(f"module 'mlplab.report' has no attribute {name!r}")
