"""Plots of runs and of the maths behind them, drawn with matplotlib on Agg (no window).

- :mod:`mlplab.plots.run_plots`: a finished run's pictures, drawn in the calling
  process (:func:`~mlplab.plots.run_plots.draw_run_plots`): loss curves,
  decision/regression surfaces, confusion matrix or predicted-vs-true, the network
  diagram, and the snapshots' animation.
- :mod:`mlplab.plots.inputs` and :mod:`mlplab.plots.surfaces`: the numbers those
  plots show, taken from the data and the model's ``predict`` (no matplotlib), for
  tests and for your own plots.
- :mod:`mlplab.plots.recorder`: the surface captured during training
  (``--snapshot_every N``); :mod:`mlplab.plots.snapshots` draws it as an animated GIF
  and a grid of frames.
- :mod:`mlplab.plots.network`: a small model as nodes and weighted edges.
- :mod:`mlplab.plots.activations`: each activation next to its derivative.
- :mod:`mlplab.plots.commands`: ``mlplab plot RUN_DIR`` and ``mlplab plot activations``.

The plots take plain values (the record, the data, a ``predict`` callable, the
weights); they import nothing from :mod:`mlplab.training`. This package itself,
``inputs``, ``surfaces`` and ``recorder`` do not import matplotlib.
"""
