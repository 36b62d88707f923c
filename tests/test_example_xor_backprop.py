"""``examples/xor_backprop.py`` runs and learns XOR."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "xor_backprop.py"


def test_xor_backprop_example_reaches_accuracy_1():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=True
    )
    steps = re.findall(r"^(\d+) (\S+)$", proc.stdout, flags=re.MULTILINE)
    assert [int(s) for s, _ in steps] == list(range(0, 10001, 100))  # 'step cost' every 100
    assert float(steps[-1][1]) < 0.01
    assert float(steps[-1][1]) < float(steps[0][1])
    assert "Hypothesis:" in proc.stdout and "Correct:" in proc.stdout
    accuracy = re.search(r"^Accuracy: (\S+)$", proc.stdout, flags=re.MULTILINE)
    assert accuracy is not None and float(accuracy.group(1)) == 1.0
