"""A group function for the Ray tests: holds one group so that a test can kill its worker.

It is pickled by value (``cloudpickle.register_pickle_by_value``), so the workers need
not import the tests.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

HOLD_S = 120.0


def hold_then_train(folder: str, configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Train the group, after holding it when ``folder`` has a ``RUN_ID.hold`` request.

    The held worker writes its PID to ``RUN_ID.pid`` (whole, then renamed) and sleeps,
    so that the test can SIGKILL it mid-group; the retried task finds the PID file and
    trains at once.
    """
    from mlplab.config import make_config
    from mlplab.runs.record import run_name
    from mlplab.sweeps.local import train_group

    if configs:
        run_id = run_name(make_config(configs[0]))
        request, pid_file = Path(folder) / f"{run_id}.hold", Path(folder) / f"{run_id}.pid"
        if request.exists() and not pid_file.exists():
            part = pid_file.with_suffix(".part")
            part.write_text(str(os.getpid()), encoding="utf-8")
            os.replace(part, pid_file)
            time.sleep(HOLD_S)
    return train_group(configs)
