"""Summarize a py-spy raw profile by leaf frame: where the samples' own time goes.

Record, then summarize (py-spy comes with ``pip install -e ".[dev]"``)::

    py-spy record --format raw -o w2.raw --rate 500 -- \\
        mlplab train examples/sinlog_mlp.yaml --plots none --quiet --log_path /tmp/w2
    python benchmarks/pyspy_leaves.py w2.raw
"""

from __future__ import annotations

import argparse
from collections import Counter


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("raw", help="py-spy --format raw output (collapsed stacks)")
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args()
    leaves: Counter[str] = Counter()
    total = 0
    with open(args.raw, encoding="utf-8") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            n = int(count)
            total += n
            leaves[stack.split(";")[-1] or "(no Python frame)"] += n
    print(f"{total} samples\n\n| share | leaf frame (file:line) |\n|---:|---|")
    for leaf, n in leaves.most_common(args.top):
        print(f"| {100 * n / total:.1f}% | `{leaf}` |")


if __name__ == "__main__":
    main()
