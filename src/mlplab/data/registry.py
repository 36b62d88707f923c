"""The built-in datasets: name, task, default size and split, and how to make each.

Kept free of heavy imports so ``mlplab datasets`` answers at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: str  # binary | multiclass | regression
    n_samples: int
    n_features: int
    noise: float
    split: tuple[float, ...]  # counts or ratios; () means train = val = test (the gates)
    source: str  # synthetic | sklearn
    summary: str
    n_classes: int = 0


_GATE = "the 4 rows serve as train, val and test alike"
BUILTIN: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo("and", "binary", 4, 2, 0.0, (), "synthetic", f"AND gate; {_GATE}", 2),
        DatasetInfo("or", "binary", 4, 2, 0.0, (), "synthetic", f"OR gate; {_GATE}", 2),
        DatasetInfo("xor", "binary", 4, 2, 0.0, (), "synthetic", f"XOR gate; {_GATE}", 2),
        DatasetInfo(
            "sinlog",
            "regression",
            2400,
            2,
            0.5,
            (1600, 400, 400),
            "synthetic",
            "y = 2 sin(x1) + log(x2²/2) + e, x ~ U(0,10)²; split in order; noise 0.5: e's sd",
        ),
        DatasetInfo(
            "sine",
            "regression",
            1000,
            1,
            0.1,
            (0.8, 0.1, 0.1),
            "synthetic",
            "y = sin(x) + e, x ~ U(-6,6): one feature, drawn with its fit; noise 0.1: e's sd",
        ),
        DatasetInfo(
            "ring",
            "multiclass",
            10000,
            2,
            0.0,
            (8000, 1000, 1000),
            "synthetic",
            "3 classes by radius, stretched by (cos θ + 1); noise 0: sd added to x1, x2",
            3,
        ),
        DatasetInfo(
            "moons",
            "binary",
            1000,
            2,
            0.1,
            (0.8, 0.1, 0.1),
            "synthetic",
            "two interleaving half circles (radius 1); noise 0.1: sd added to x1, x2",
            2,
        ),
        DatasetInfo(
            "circles",
            "binary",
            1000,
            2,
            0.05,
            (0.8, 0.1, 0.1),
            "synthetic",
            "a circle inside a circle (radius 1, 0.5); noise 0.05: sd added to x1, x2",
            2,
        ),
        DatasetInfo(
            "circle",
            "binary",
            1000,
            2,
            0.0,
            (0.8, 0.1, 0.1),
            "synthetic",
            "the TensorFlow Playground's circle: class 1 in a disk (radius 2.5), 0 in a ring "
            "(3.5 to 5); noise 0: classes drawn at points moved by U(-5·noise, 5·noise)",
            2,
        ),
        DatasetInfo(
            "spiral",
            "binary",
            1000,
            2,
            0.1,
            (0.8, 0.1, 0.1),
            "synthetic",
            "two interleaved spirals (radius 5); noise 0.1: x1, x2 moved by U(-noise, noise)",
            2,
        ),
        DatasetInfo(
            "gauss",
            "binary",
            1000,
            2,
            0.1,
            (0.8, 0.1, 0.1),
            "synthetic",
            "two Gaussian blobs at (2, 2) and (-2, -2); noise 0.1: their sd is 1 + 3·noise",
            2,
        ),
        DatasetInfo(
            "quadrants",
            "binary",
            1000,
            2,
            0.0,
            (0.8, 0.1, 0.1),
            "synthetic",
            "the TensorFlow Playground's exclusive or: class 1 where x1 and x2 share a sign, "
            "x ~ U(-5,5)²; noise 0: classes drawn at points moved by U(-5·noise, 5·noise)",
            2,
        ),
        DatasetInfo(
            "digits",
            "multiclass",
            1797,
            64,
            0.0,
            (0.8, 0.1, 0.1),
            "sklearn",
            "8x8 handwritten digits (a small MNIST)",
            10,
        ),
        DatasetInfo(
            "iris",
            "multiclass",
            150,
            4,
            0.0,
            (0.6, 0.2, 0.2),
            "sklearn",
            "iris flowers, 3 species",
            3,
        ),
        DatasetInfo(
            "wine",
            "multiclass",
            178,
            13,
            0.0,
            (0.6, 0.2, 0.2),
            "sklearn",
            "wine cultivars, 3 classes",
            3,
        ),
        DatasetInfo(
            "breast_cancer",
            "binary",
            569,
            30,
            0.0,
            (0.8, 0.1, 0.1),
            "sklearn",
            "malignant or benign tumours",
            2,
        ),
        DatasetInfo(
            "diabetes",
            "regression",
            442,
            10,
            0.0,
            (0.8, 0.1, 0.1),
            "sklearn",
            # Its target is not scaled: the default SGD at lr 0.01 diverges on it.
            "disease progression after one year (y 25-346: the default lr diverges; use --standardize_target true, --lr 0.001, or --optim adam --lr 0.1)",
        ),
    )
}

# Synthetic sets that are generated in order and split in order (the labs do this).
SPLIT_IN_ORDER = {"sinlog", "ring"}
TWO_D = {
    *("and", "or", "xor", "sinlog", "ring", "moons", "circles", "spiral", "gauss", "quadrants"),
    "circle",
}


def datasets_table() -> str:
    """The built-in datasets as a table (for ``mlplab datasets``)."""
    import sys

    from rich.console import Console
    from rich.table import Table

    from mlplab.pipes import table_box

    table = Table(
        box=table_box(sys.stdout),
        title="built-in datasets (use --data NAME, or --data PATH.csv|.tsv|.txt|.parquet|.npz)",
        title_justify="left",
    )
    for col in ("name", "task", "rows", "features", "classes", "split", "about"):
        table.add_column(col, justify="right" if col in ("rows", "features", "classes") else "left")
    for d in BUILTIN.values():
        split = "train=val=test" if not d.split else "/".join(f"{x:g}" for x in d.split)
        table.add_row(
            d.name,
            d.task,
            str(d.n_samples),
            str(d.n_features),
            str(d.n_classes or "-"),
            split,
            d.summary,
        )
    console = Console(width=140, height=25, color_system=None)  # height: see reports.api
    with console.capture() as cap:
        console.print(table)
    # Without the spaces that pad the title to the table's width.
    return "\n".join(line.rstrip() for line in cap.get().splitlines())
