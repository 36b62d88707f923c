"""A run whose folder is removed while it trains (a teacher's `rm -rf` of old runs) stops
and writes nothing back: it made the folder again and wrote a `finished` result.json
without its config.yaml, which no later command could read."""

from __future__ import annotations

import shutil

import pytest

from mlplab.errors import RecordError
from mlplab.runner import train
from mlplab.training.events import Step

KW = dict(data="moons", n_samples=200, batch_size=16, epoch=20, save_every=1, log_every=1,
          plots="none", verbose=False, exp_name="lab")  # fmt: skip


@pytest.mark.parametrize("replaced", [False, True])
def test_a_run_whose_folder_is_removed_stops_and_writes_nothing_back(tmp_path, replaced):
    exp = tmp_path / "runs" / "lab"

    def remove_at_step_30(event):
        if isinstance(event, Step) and event.step == 30:
            (run_dir,) = exp.glob("lab-*")
            shutil.rmtree(run_dir)
            if replaced:  # another folder of that name in its place
                run_dir.mkdir()

    with pytest.raises(RecordError, match=r"was removed \(or replaced\) while its run trained"):
        train(**KW, log_path=str(tmp_path / "runs"), subscribers=[remove_at_step_30])
    assert not list(exp.rglob("result.json")) and not list(exp.rglob("*.safetensors"))
    # The same command trains it again, whole.
    again = train(**KW, log_path=str(tmp_path / "runs"))
    assert again.status == "finished" and (again.run_dir / "config.yaml").is_file()
