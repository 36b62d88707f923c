"""Reports: run records -> ranked tables, results.csv and a self-contained report.html.

- :mod:`mlplab.reports.collect`: result.json files -> DataFrame (and the files left out);
- :mod:`mlplab.reports.aggregate`: seed replicates -> mean, std, t-interval within the
  metric's range;
- :mod:`mlplab.reports.plots`: matplotlib figures, spreads computed in NumPy;
- :mod:`mlplab.reports.html`: the HTML page;
- :mod:`mlplab.reports.api`: :func:`report` and ``mlplab report``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Report", "collect", "report"]


def __getattr__(name: str) -> Any:
    # Late imports: pandas and matplotlib load only when a report is made.
    if name in ("report", "Report"):
        from mlplab.reports import api

        return getattr(api, name)
    if name == "collect":
        from mlplab.reports.collect import collect

        return collect
    raise AttributeError(f"module 'mlplab.reports' has no attribute {name!r}")
