"""The XOR labs' printed numbers, from `mlplab train` of examples/ (init: torch), on both engines.

The slides' digits are in REFERENCE.md (lab 08 of deeplearningzerotoall). The configs draw the
lab's own initial weights (``init: torch``: ``torch.manual_seed(777)`` then ``nn.Linear`` in
construction order), so the printout follows the slide's.

Two things keep the last digits of the late costs apart, both measured (see README, "The
slides' own numbers"):

- **The printed loss form.** The lab prints ``BCELoss(sigmoid(z))``: the log of a float32
  probability, rounded near 1 to ~6e-8, which is a relative error of ~5e-5 on a cost of 1e-3.
  mlplab prints BCE-with-logits, computed from ``z`` without that rounding. On the very same
  weights the two forms differ by up to 5e-5 relative (xor-nn) and 3e-4 (wide-deep); the
  torch engine's weights match a plain-torch replay of the lab to every printed digit.
- **float32 order of operations.** The NumPy engine's sums round differently from torch's, and
  the plateau at ln 2 amplifies that; wide-deep is more sensitive still (the lab itself,
  rerun with torch 2.13 here, prints 0.00015661 at step 10000 against the slide's 0.00015650).
"""

from __future__ import annotations

import math
import re

import pytest

from conftest import EXAMPLES

pytestmark = pytest.mark.slow  # trains the labs to the end, as printed

SLIDE_XOR_NN = {
    0: 0.7434073090553284,
    100: 0.6931650638580322,
    200: 0.6931577920913696,
    300: 0.6931517124176025,
    9800: 0.0012681199004873633,
    9900: 0.0012511102249845862,
    10000: 0.0012345188297331333,
}
SLIDE_XOR_NN_HYPOTHESIS = [0.00106378, 0.9988938, 0.9988939, 0.00165883]
SLIDE_WIDE_DEEP = {0: 0.6948983669281006, 10000: 0.0001565046259202063}

EARLY, LATE = (0, 100, 200, 300), (9800, 9900, 10000)
# Late xor-nn costs: the printed loss form alone accounts for up to 5e-5 (module docstring).
LATE_RTOL = 1e-4
# Wide-deep at step 10000 on the torch engine: measured 1.15e-3 off the slide (2.6e-4 of it
# the loss form, the rest float32 trajectory); the NumPy engine lands within 2.2e-4.
WIDE_DEEP_END_RTOL = {"numpy": 1e-3, "torch": 2e-3}

_COST = re.compile(r"^(\d+) ([-+0-9.eE]+)$")
_NUMBER = re.compile(r"[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?")


def parse_printout(text: str) -> dict:
    """The lab's printout: ``step cost`` lines, then Hypothesis, Correct and Accuracy."""
    costs = {int(m[1]): float(m[2]) for line in text.splitlines() if (m := _COST.match(line))}
    hyp = text.split("Hypothesis:", 1)[1].split("Correct:", 1)[0]
    correct = text.split("Correct:", 1)[1].split("Accuracy:", 1)[0]
    acc = text.split("Accuracy:", 1)[1].split()[0]
    return {
        "costs": costs,
        "hypothesis": [float(x) for x in _NUMBER.findall(hyp)],
        "correct": [float(x) for x in _NUMBER.findall(correct)],
        "accuracy": float(acc),
    }


_CACHE: dict[tuple[str, str], dict] = {}


@pytest.fixture
def printout(run_cli, tmp_path_factory):
    """Train an examples/ config as a real `mlplab train` process, once per (config, engine)."""

    def _get(config: str, engine: str) -> dict:
        if (config, engine) not in _CACHE:
            out = tmp_path_factory.mktemp("runs")
            proc = run_cli(
                "train",
                "--config",
                EXAMPLES / f"{config}.yaml",
                "--engine",
                engine,
                "--plots",
                "none",
                "--log_path",
                out,
            )
            assert proc.returncode == 0, proc.stderr
            _CACHE[config, engine] = parse_printout(proc.stdout + proc.stderr)
        return _CACHE[config, engine]

    return _get


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


ENGINES = pytest.mark.parametrize("engine", ["numpy", "torch"])


@ENGINES
def test_xor_nn_prints_a_cost_every_100_steps(printout, engine):
    assert sorted(printout("xor_nn", engine)["costs"]) == list(range(0, 10001, 100))


@ENGINES
def test_xor_nn_early_costs_are_the_slides_to_1e_5(printout, engine):
    costs = printout("xor_nn", engine)["costs"]
    for step in EARLY:
        assert rel(costs[step], SLIDE_XOR_NN[step]) < 1e-5, (step, costs[step])


@ENGINES
def test_xor_nn_late_costs_are_the_slides_up_to_the_loss_form(printout, engine):
    costs = printout("xor_nn", engine)["costs"]
    for step in LATE:
        assert rel(costs[step], SLIDE_XOR_NN[step]) < LATE_RTOL, (step, costs[step])


@ENGINES
@pytest.mark.xfail(
    strict=True,
    reason="mlplab prints BCE-with-logits; the slide prints BCELoss of a float32 sigmoid, "
    "which differs by up to 5e-5 relative at a cost of 1e-3 on the same weights",
)
def test_xor_nn_late_costs_are_the_slides_to_1e_5(printout, engine):
    costs = printout("xor_nn", engine)["costs"]
    assert all(rel(costs[s], SLIDE_XOR_NN[s]) < 1e-5 for s in LATE), costs


@ENGINES
def test_xor_nn_hypothesis_correct_and_accuracy_are_the_slides(printout, engine):
    p = printout("xor_nn", engine)
    assert p["hypothesis"] == pytest.approx(SLIDE_XOR_NN_HYPOTHESIS, abs=1e-5)
    assert p["correct"] == [0.0, 1.0, 1.0, 0.0]
    assert p["accuracy"] == 1.0


@ENGINES
def test_wide_deep_costs_are_the_slides(printout, engine):
    p = printout("xor_wide_deep", engine)
    assert rel(p["costs"][0], SLIDE_WIDE_DEEP[0]) < 1e-6
    end = p["costs"][10000]
    assert rel(end, SLIDE_WIDE_DEEP[10000]) < WIDE_DEEP_END_RTOL[engine], end
    assert p["correct"] == [0.0, 1.0, 1.0, 0.0] and p["accuracy"] == 1.0


@ENGINES
def test_perceptron_is_stuck_at_ln2_with_every_output_one_half(printout, engine):
    p = printout("xor_perceptron", engine)
    # The lab prints 0.6931 from step 100 on; from step 200 every cost is ln 2 to float32.
    assert all(rel(c, math.log(2)) < 1e-6 for s, c in p["costs"].items() if s >= 200)
    assert p["hypothesis"] == pytest.approx([0.5] * 4, abs=1e-6)
    # The lab's rule, `hypothesis > 0.5` on the float32 probability, calls every 0.5 class 0,
    # so its accuracy is 0.5. mlplab decides by the logit's sign, and these logits are
    # float32 noise around 0 (|z| < 1e-6), so its printed Accuracy is one of the tie's outcomes.
    lab_correct = [float(h > 0.5) for h in p["hypothesis"]]
    lab_accuracy = sum(c == y for c, y in zip(lab_correct, [0, 1, 1, 0])) / 4
    assert lab_accuracy == 0.5
    assert p["accuracy"] in (0.25, 0.5, 0.75)
