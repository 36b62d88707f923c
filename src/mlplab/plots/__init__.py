"""Plots of runs and of the maths behind them, drawn with matplotlib on Agg (no window).

- :mod:`mlplab.plots.run_plots`: a run's loss curves, decision/regression surfaces,
  confusion matrix or predicted-vs-true, and network diagram (:func:`draw_run_plots`).
- :mod:`mlplab.plots.inputs`: the numbers those plots show, taken from the trained model
  (no matplotlib), so that drawing can happen elsewhere.
- :mod:`mlplab.plots.worker`: the worker processes that ``train`` draws in.
- :mod:`mlplab.plots.surfaces`: the numbers behind the surfaces (grid, probabilities,
  classes, values), for tests and for your own plots.
- :mod:`mlplab.plots.snapshots`: the decision surface captured during training, as an
  animated GIF and a grid of frames (``--snapshot_every N``).
- :mod:`mlplab.plots.network`: a small model as nodes and weighted edges.
- :mod:`mlplab.plots.activations`: each activation next to its derivative.
- :mod:`mlplab.plots.commands`: ``mlplab plot RUN_DIR`` and ``mlplab plot activations``.

The drawing submodules import matplotlib; this package itself, ``inputs``, ``surfaces``
and ``worker`` do not, so ``import mlplab.plots`` stays free and a run takes its model's
numbers without loading matplotlib.
"""
