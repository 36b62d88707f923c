"""A sweep over a large data file: how many times its file is read, in units of one read.

Run from the repository root::

    python benchmarks/bench_sweep_data.py               # 100,000 rows x 20 columns
    python benchmarks/bench_sweep_data.py --rows 20000  # a shorter check

It writes a CSV of ``--rows`` rows and 20 numeric feature columns with a binary target,
then times, in this process (imports done first):

- the reference: one ``mlplab.assemble.load_data`` of the file (read, checked, split and
  standardized, as every run reads it);
- ``mlplab.sweep`` over three model shapes (``hid_dim 8 16 32``: three stacks), one epoch
  each, ``workers=1``, no plots and no report; and the same with ``workers=2``.

The sweep's time is shown as a ratio to one read. Each stack of a sweep once read the file
again (its own check first, then once a stack): four reads for three stacks. The rows
say how much of a short sweep of a large file that was.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_note, measure, ratio_rows, table


def write_table(path: Path, rows: int) -> None:
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 20))
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
    df["y"] = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    df.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the data file")
    parser.add_argument("--repeats", type=int, default=3, help="times each row is measured")
    args = parser.parse_args()

    import mlplab
    from mlplab.assemble import load_data
    from mlplab.config import make_config

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "big.csv"
        write_table(data, args.rows)
        common = dict(data=str(data), target="y", epoch=1, plots="none", log_every=0)
        read = measure(lambda: load_data(make_config(common)), args.repeats)
        runs = iter(range(1_000_000))

        def sweep(workers: int) -> None:
            # A fresh folder each time: every repeat trains, none finds its runs finished.
            log_path = str(Path(tmp) / f"runs{next(runs)}")
            result = mlplab.sweep(
                **common,
                hid_dim=[8, 16, 32],
                workers=workers,
                log_path=log_path,
                verbose=False,
                report=False,
            )
            assert result.counts["trained"] == 3, result.counts

        one = measure(lambda: sweep(1), args.repeats)
        two = measure(lambda: sweep(2), args.repeats)
    print(f"{args.rows:,} rows x 20 features; {machine_note()}")
    rows = ratio_rows(
        [
            ("one read of the file (load_data)", read, "the reference"),
            ("sweep of 3 stacks, workers=1", one, "1 epoch each"),
            ("sweep of 3 stacks, workers=2", two, "1 epoch each"),
        ],
        read,
    )
    print(table(["what", "median s", "spread", "ratio", "note"], rows))


if __name__ == "__main__":
    main()
