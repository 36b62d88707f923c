"""``python -m mlplab``: the same as the ``mlplab`` command."""

from mlplab.cli import run

run()
