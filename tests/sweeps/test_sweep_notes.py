"""What a sweep says of its data before it trains."""

from __future__ import annotations

import mlplab

COMMON = dict(data="xor", epoch=5, log_every=0, plots="none", workers=1, verbose=False)


def test_a_sweep_says_once_what_train_notes_of_its_data(tmp_path, capsys):
    """A sweep printed none of the notes `mlplab train` gives its data: a class no
    validation row holds, a target far from order 1; over --stratify false true it ranked
    configs whose validation sets held different classes without a word."""
    import numpy as np
    import pandas as pd

    from mlplab.data.dataset import missing_class_notes

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    df["label"] = np.where(np.arange(300) < 3, "rare", np.where(df.a > 0, "yes", "no"))
    df.to_csv(tmp_path / "rare.csv", index=False)
    seed = next(
        s for s in range(200)
        if "no validation row" in " ".join(
            missing_class_notes(
                mlplab.load_dataset(str(tmp_path / "rare.csv"), seed=s), None, False
            )
        )
    )  # fmt: skip
    common = {**COMMON, "verbose": True, "log_path": str(tmp_path), "report": False}
    del common["data"]
    mlplab.sweep(**common, data=str(tmp_path / "rare.csv"), data_seed=seed, stratify=[False, True])
    out = capsys.readouterr().out
    assert (
        out.count("mlplab: note: stratify false: no validation row has the class(es) 'rare'") == 1
    )
    mlplab.sweep(**common, data="diabetes", lr=[0.001, 0.01])
    assert capsys.readouterr().out.count("mlplab: note: the target reaches 346") == 1
