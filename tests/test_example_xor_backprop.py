"""``examples/xor_backprop.py`` runs and learns XOR."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "xor_backprop.py"
README = EXAMPLE.parents[1] / "README.md"
SLIDE_FINAL_COST = 0.0011291791  # the manual-backprop slide's own last printed cost
SCRIPT_BOUND = 0.01  # what the test below asserts of the script's last cost


def test_xor_backprop_example_reaches_accuracy_1():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=True
    )
    steps = re.findall(r"^(\d+) (\S+)$", proc.stdout, flags=re.MULTILINE)
    assert [int(s) for s, _ in steps] == list(range(0, 10001, 100))  # 'step cost' every 100
    assert float(steps[-1][1]) < SCRIPT_BOUND
    assert float(steps[-1][1]) < float(steps[0][1])
    assert "Hypothesis:" in proc.stdout and "Correct:" in proc.stdout
    accuracy = re.search(r"^Accuracy: (\S+)$", proc.stdout, flags=re.MULTILINE)
    assert accuracy is not None and float(accuracy.group(1)) == 1.0


def test_the_readmes_outcome_of_the_script_is_true_of_the_slide_too():
    """The README said the script reproduces the slide's outcome, "cost below 1e-3", of a
    slide whose last cost is 1.1e-3. Its bound must hold for the slide, and for the
    script by the test above."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    m = re.search(
        r"`xor_backprop\.py` reproduces its outcome \(accuracy 1\.0, cost below (\S+)", text
    )
    assert m, "the README's sentence on xor_backprop.py's outcome"
    assert SLIDE_FINAL_COST < float(m[1]) <= SCRIPT_BOUND
