"""Write the lab notebooks, examples/*.ipynb, from the cells below (with nbformat).

The notebooks are kept without outputs; `tests/test_notebooks.py` executes every one of
them with a real Jupyter kernel and checks what they print. Edit the cells here, then run:

    python examples/build_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# Each notebook: a list of cells; a string starting with "#md " is a markdown cell.
NOTEBOOKS: dict[str, list[str]] = {}

NOTEBOOKS["01_perceptron_xor"] = [
    """#md # A perceptron: AND and OR, but not XOR (lab 08-1)
One Linear(2, 1) with a sigmoid, BCE, SGD lr 1, 10001 full-batch steps, seed 777. A line
separates the classes of AND and of OR, so the perceptron solves them. No line separates
XOR's: the cost sits at ln 2 = 0.6931 and every output is 0.5.""",
    """import math

import mlplab""",
    """#md `and_perceptron.yaml` is the lab's perceptron setup with `data: and`; a setting
given to `mlplab.train` overrides the file's, so `data="or"` trains the same perceptron on
OR (each run prints the data it trained on). Every run is kept in `runs/`, in a folder
named by its settings: execute the notebook again and `mlplab.train` loads the finished
run instead of training it anew (`rerun=True` trains it again, as the XOR cell below does).""",
    """gates = {}
for gate in ["and", "or"]:
    gates[gate] = r = mlplab.train(
        "and_perceptron.yaml",
        data=gate,  # overrides the file's `data: and`
        exp_name=f"{gate}-perceptron",
        log_every=0,
        verbose=False,
    )
    print(f"{r.record['data']}: accuracy {r.record['test_acc']}")""",
    """#md `xor_perceptron.yaml` draws the lab's own initial weights (`init: torch`), so the
printout is the lab's: `step cost` (every 1000 steps here; the lab prints every 100,
`log_every=100`), then Hypothesis, Correct and Accuracy.""",
    """# rerun=True: the lab's printout every time the notebook runs (a run already in its
# folder would be kept, and say only where it is).
xor = mlplab.train("xor_perceptron.yaml", log_every=1000, rerun=True)""",
    """#md The picture of the lecture's point. Each run draws its decision surface,
`surface.png` in its folder's `plots/` (a Result shows all its plots inline): the
perceptron's P(class 1) over the plane, its decision line (where P = 0.5) and the four
points. For AND a line puts (1, 1) alone on its side. For XOR the perceptron finds no line
at all: P is 0.5 everywhere, and two of the four points are marked misclassified.""",
    """from IPython.display import Image, display

for run in [gates["and"], xor]:
    print(f"{run.record['data']}: {run.run_dir / 'plots' / 'surface.png'}")
    display(Image(filename=str(run.run_dir / "plots" / "surface.png"), width=420))""",
    """print(f"xor: cost {xor.record['train_loss']:.4f} (ln 2 = {math.log(2):.4f})")
# The lab's hypothesis: the sigmoid of the model's output for each row of XOR. That raw
# output, before the sigmoid, is called a logit: 0 means a probability of 0.5, a positive
# logit leans to class 1, a negative one to class 0.
logits = xor.model_outputs(xor.dataset.X_test).ravel()
print("xor: hypothesis", [round(1 / (1 + math.exp(-z)), 6) for z in logits])
# A logit of at most 2**-23 is float32's rounding noise: 0.5 + z / 4 rounds to 0.5.
print("xor: logits in units of 2**-23", [float(z / 2**-23) for z in logits])""",
    """#md Every output is 0.5 in float32: the logits are rounding noise, none larger than
2⁻²³ ≈ 1.2e-7. The lab's rule `hypothesis > 0.5` calls all four rows class 0 and prints
accuracy 0.5. mlplab calls a logit of at most 2⁻²³ a tie, class 0, so its record says 0.5
too. Here the first row's logit is exactly 2⁻²³, on that cutoff: one float32 step larger
and it would be class 1, and the accuracy 0.25. That noise comes from the order of float32
sums, which differs from one CPU to another: on your machine the logits above may differ,
and with them the accuracy (0.25, 0.5 or 0.75 on these 4 rows) and the train accuracies
below; the cost, ln 2, and the outputs, 0.5, do not. The record's train accuracy, taken
every 100 epochs, shows how little that digit means: from epoch 200 the cost is ln 2 to
float32, yet here the accuracy reads 0.75, then 0.25, then 0.5, as the noise lands on
either side of the cutoff:""",
    """rec = xor.record
for epoch, cost, acc in zip(rec["val_epochs"][:4], rec["train_losses"], rec["train_accs"]):
    print(f"epoch {epoch}: cost {cost:.7f}, train accuracy {acc}")
print(f"xor: accuracy {rec['test_acc']}")""",
    """#md Here the accuracy is a matter of rounding; the cost, stuck at ln 2, says what
happened: XOR is not solved.""",
]

NOTEBOOKS["02_manual_backprop"] = [
    """#md # Backpropagation by hand (the manual-backprop slide)
XOR with a 2-2-1 sigmoid network, NumPy only: the forward pass, the cost and every step of
the chain rule, one line each, as the slide writes them (and `xor_backprop.py`). The slide
starts from `torch.Tensor(2, 2)`, which is uninitialised memory, so its digits
(1.02 -> 0.00113) cannot be replayed. Here the loop starts from the xor-nn lab's initial
weights (`torch.manual_seed(777)`, then `nn.Linear(2, 2)` and `nn.Linear(2, 1)`), in
float32 as the lab's tensors: `mlplab.backprop` draws them from the lab's config
(`init: torch`) and gives them in the slide's orientation, `w1 [in, out]` for `X @ w1`.""",
    """import numpy as np

import mlplab

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # [4, 2]
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)  # [4, 1]: XOR


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_prime(x):
    return sigmoid(x) * (1 - sigmoid(x))


# One step of the xor-nn lab by the chain rule (shown at the end); its inputs are the
# lab's initial weights.
first = mlplab.backprop("xor_nn.yaml", form="lecture")
start = [first[name].value for name in ["w1", "b1", "w2", "b2"]]
learning_rate = 1.0""",
    """#md The slide's loop, 10001 steps. Its `d_Y_pred` is the derivative of each row's
cost, without the 1/4 of the mean cost that it prints, so `d_w1 = X.T @ d_l1` and
`d_w2 = a1.T @ d_l2` are **sums** over the 4 rows: 4 times the gradient of the mean cost.
The biases step by the **mean** of their deltas, which is the mean cost's gradient. That
is the lecture's update, as the slide writes it (the `1e-7` keeps the division finite).
`n` and `eps` are there for the comparison below; the slide's are `n=1`, `eps=1e-7`.""",
    """def train(w1, b1, w2, b2, n=1, eps=1e-7):
    for step in range(10001):
        # forward
        l1 = X @ w1 + b1
        a1 = sigmoid(l1)
        l2 = a1 @ w2 + b2
        Y_pred = sigmoid(l2)
        cost = -np.mean(Y * np.log(Y_pred) + (1 - Y) * np.log(1 - Y_pred))

        # backward, by the chain rule
        d_Y_pred = (Y_pred - Y) / (Y_pred * (1.0 - Y_pred) + eps)
        d_l2 = d_Y_pred * sigmoid_prime(l2)
        d_w2 = a1.T @ d_l2  # a sum over the rows
        d_a1 = d_l2 @ w2.T
        d_l1 = d_a1 * sigmoid_prime(l1)
        d_w1 = X.T @ d_l1  # a sum over the rows

        # update: weights by the summed gradient (divided by n), biases by the mean of
        # their deltas
        w1 = w1 - learning_rate * d_w1 / n
        b1 = b1 - learning_rate * d_l1.mean(axis=0)
        w2 = w2 - learning_rate * d_w2 / n
        b2 = b2 - learning_rate * d_l2.mean(axis=0)
        if step % 2000 == 0:
            print(step, cost.item())
    return Y_pred


Y_pred = train(*start)  # the slide's update
predicted = (Y_pred > 0.5).astype(np.float32)
print("Hypothesis:", Y_pred.ravel())
print("Correct:", predicted.ravel())
print("Accuracy:", (predicted == Y).mean())""",
    """#md Step 0's cost, 0.7434073090553284, is the xor-nn slide's: the same weights and the
same forward pass. The slide's update then takes larger steps than the xor-nn lab, whose
autograd follows the mean cost's gradient (autograd is PyTorch's automatic differentiation:
it records the forward pass and applies the same chain rule backwards, so nobody writes
the `d_` lines by hand), and it ends lower than that lab's 0.0012345.
With the weight steps divided by the 4 rows (`n=4`), and without the `1e-7`, which
autograd does not add, the same chain rule steps by the mean cost's gradient and prints
the xor-nn slide's numbers, 0.7434073 -> 0.0012345, and its Hypothesis
(0.00106378, 0.9988938, 0.9988939, 0.00165883):""",
    """Y_pred = train(*start, n=len(X), eps=0.0)  # the gradient of the mean cost, as autograd's
print("Hypothesis:", Y_pred.ravel())""",
    """#md `mlplab backprop` shows one step of this loop by the chain rule: every quantity of
step 0, each from the slide's formula (`form="lecture"`, from the shell
`mlplab backprop xor_nn.yaml --form lecture`) and each checked against torch autograd. Its
default form shows the mean cost's derivatives, the ones mlplab trains on; `--step N`
shows a later step. (`mlplab gradcheck` checks the NumPy engine's layers, written the same
way, against central differences and torch autograd.)""",
    """print(first)""",
]

NOTEBOOKS["03_xor_nn"] = [
    """#md # XOR solved: xor-nn and xor-nn-wide-deep (labs 08-2, 08-3)
`init: torch` draws the weights that `torch.manual_seed(777)` and `nn.Linear(2, 2)`,
`nn.Linear(2, 1)` give in the lab, so mlplab prints the xor-nn slide's costs: 0.7434 at
step 0, 0.0012345 at step 10000. The printed costs are the lab's own form, BCELoss of a
float32 sigmoid (binary cross-entropy, -mean(Y log p + (1 - Y) log(1 - p)), with p the
sigmoid's output rounded to float32), and match the slide to 1e-6 relative. The printed Hypothesis is the
slide's, [0.00106378, 0.9988938, 0.9988939, 0.00165883]: as in the lab, it is the outputs
of the last training step, before that step's update, while `Correct` and `Accuracy` are of
the model after it (one update later its outputs are [0.00106364, 0.998894, 0.998894,
0.00165861], which `xor_nn.predict_proba` gives). The run's
record (`train_losses`, as `result.json` keeps it) holds the more exact BCE-with-logits that
mlplab trains on, which differs from the slide's cost in the last digits: under 1e-5
relative for xor-nn. (BCE with logits is the same cross-entropy computed straight from the
logit, the output before the sigmoid, without rounding p first: it stays exact where p
rounds to 0 or 1.)""",
    """import mlplab

# rerun=True: the printout every time the notebook runs (a kept run would say only where
# it is). log_every=500: the lab prints every 100 steps, 101 lines.
xor_nn = mlplab.train("xor_nn.yaml", log_every=500, rerun=True)""",
    """#md `mlp 2-2-1 sigmoid` names the model by its layers' widths, as the lecture does:
2 inputs, one hidden layer of 2 sigmoid units, 1 output. `epoch 10001/10001` counts the
updates, one full-batch step per epoch: the lab's steps 0 to 10000, so the printout's last
line is step 10000. Printed every 500 steps rather than the lab's 100, the cost still
shows the lab's plateau: it stays at 0.693 (ln 2) to step 1500, then falls (0.68 at step
2000, under 0.05 at step 2500).""",
    """# Two forms of one cost. The printout's line 10000 above is the lab's form, BCELoss of a
# float32 sigmoid, as the slide prints it. The record's curves (a point every 100 steps,
# the last step 10000's) keep the cost mlplab trains on, BCE with logits, which parts
# from the lab's form in the 6th digit near p = 1.
record_cost = xor_nn.record["train_losses"][-1]
slide = 0.0012345188297331333
print(f"step 10000: record (BCE with logits) {record_cost:.10f}; slide (BCELoss) {slide:.10f}")
print(f"relative difference {abs(record_cost - slide) / slide:.1e}: the two forms, not two runs")""",
    """#md The run's summary, with its plots (loss curve, decision surface, network):""",
    """xor_nn""",
    """#md The wide-deep net, 2-10-10-10-1, from the lab's weights, printed as the lab
prints it (`log_every=10000`: its first and last lines). Its line 10000 is in the lab's
form, BCELoss of a float32 sigmoid, as the slide's 0.0001565046 is, and agrees with it to
under 1e-3 relative, not to the last digits: today's torch does not print the slide's
digits for this deeper net either, and its float32 sums move those digits from one
machine's CPU to another's.""",
    """# rerun=True, as above: the lab's printout every time the notebook runs.
wide = mlplab.train("xor_wide_deep.yaml", plots="none", log_every=10000, rerun=True)""",
    """#md The lecture's modern activations, on the wide-deep net: the same lab weights and
steps, one activation each. Runs are kept in `runs/`: execute the notebook again and the
sweep loads its finished runs instead of training them anew (`rerun=True` trains them
again). Sigmoid saturates in a deep net, so its gradients shrink layer
by layer; ReLU and its kin keep them (`mlplab plot activations` draws each with its
derivative).""",
    """import json

acts = ["sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
res = mlplab.sweep(
    "xor_wide_deep.yaml",
    act=acts,
    exp_name="xor-acts",
    log_every=0,
    plots="none",
    workers=1,
    report=False,
    verbose=False,
)
for cfg, run_dir in zip(res.configs, res.run_dirs):
    record = json.loads((run_dir / "result.json").read_text())
    # The cost at each validation, every 100 epochs: epoch e's is taken before its update,
    # at the lab's step e - 1. The first step, of those, whose cost is below 0.01:
    steps = [e - 1 for e in record["val_epochs"]]
    costs = record["train_losses"]
    below = next((s for s, c in zip(steps, costs) if c < 0.01), None)
    print(f"{cfg.act:>10}: cost {costs[-1]:.2e} at step 10000, below 0.01 by step {below}")""",
]

NOTEBOOKS["04_regression"] = [
    """#md # MLP regression (Standalone DL, lab 2)
`y = 2 sin(x1) + log(x2² / 2) + e` on 2400 points, split 1600/400/400. The linear model
against Linear(2, 200) -> ReLU -> Linear(200, 1), MSE, SGD lr 0.005, 4000 full-batch
epochs, as the lab trains them (`sinlog_linear.yaml`, `sinlog_mlp.yaml`), on the raw x1,
x2 as the lab does: not standardized (shifted and scaled to mean 0 and standard deviation 1
per column, which mlplab's `standardize` setting does). Each model is scored by its MAE,
the mean absolute error, and by R², the share of the targets' variance that it explains
(1 is perfect, 0 no better than always predicting the mean). Runs are kept in
`runs/`: execute the notebook again and `mlplab.train` loads the finished runs instead of
training them anew (`rerun=True` trains them again).""",
    """import numpy as np

import mlplab

quiet = dict(log_every=0, verbose=False)
linear = mlplab.train("sinlog_linear.yaml", plots="none", **quiet)
mlp = mlplab.train("sinlog_mlp.yaml", **quiet)
for name, run in [("linear", linear), ("mlp", mlp)]:
    print(f"{name}: test MAE {run.record['test_mae']:.3f}, R² {run.record['test_r2']:.2f}")
# A model that knew the curve exactly: its error on the test rows is the noise e alone.
x1, x2 = mlp.dataset.X_test.T  # raw x1, x2: the lab's sets are not standardized
curve = 2 * np.sin(x1) + np.log(x2**2 / 2)
print(f"the curve itself: test MAE {np.abs(curve - mlp.dataset.y_test.ravel()).mean():.3f}")""",
    """#md After the lab's 4000 epochs the MLP's test MAE is about 0.92 against the linear
model's 1.53 (R² 0.81 against 0.46). It has not learned all of the curve yet: the curve
itself, whose errors are the noise alone, scores 0.41 on the same rows.

The MLP's loss plot below spikes to about 28,000 at its third step: the lab's lr 0.005 on
the raw x (x2 up to 10, not standardized) makes the first SGD steps overshoot, as the lab's
own PyTorch run does; one step later the loss is back below 10 and falls from there.""",
    """mlp""",
    """#md The lab writes the MLP as a PyTorch `nn.Module`. `engine="torch"` trains the same
model with PyTorch (its test MAE agrees with the NumPy engine's to the printed digits),
and `to_torch()` gives any trained model back as the lab's module: `nn.Linear` layers with
the trained weights. The module takes inputs as the model was trained on them: the
dataset's splits (`dataset.X_test`) as they are, and raw rows after `dataset.transform(X)`,
which standardizes them where the run did (`standardize`). The lectures' synthetic sets,
sinlog among them, are trained raw, so here the module takes x1, x2 themselves.""",
    """import torch

# validate_every=200 (the lab's test MAE every 200 epochs) rather than the config's every
# epoch: validating changes no weight, and the run takes less time.
mlp_torch = mlplab.train(
    "sinlog_mlp.yaml", engine="torch", validate_every=200, plots="none", **quiet
)
print(f"mlp on torch: test MAE {mlp_torch.record['test_mae']:.3f}")
print("standardized:", mlp_torch.record["standardized"])
module = mlp_torch.to_torch()
print(module)
X = torch.as_tensor(mlp_torch.dataset.X_test[:3], dtype=torch.float32)
with torch.no_grad():
    print("module(X):    ", module(X).ravel().numpy().round(4))
print("model_outputs:", mlp_torch.model_outputs(mlp_torch.dataset.X_test[:3]).ravel().round(4))""",
]

NOTEBOOKS["05_classification"] = [
    """#md # Classification: the ring lab (Standalone DL, lab 3)
Three classes, by radius, on a stretched ring. Linear(2, 3) against Linear(2, 200) -> ReLU
-> Linear(200, 3), cross-entropy, SGD lr 0.005, the lab's 4000 full-batch epochs. The lab
draws 10000 points (8000 to train); 3000 here keep the notebook quick, as the MLP's epochs
on 8000 rows take several times as long (`mlplab train --config ring_mlp.yaml` runs the lab
as it is). The lab publishes 76–78% accuracy late in training. Runs are kept in `runs/`:
execute the notebook again and `mlplab.train` loads the finished runs instead of training
them anew (`rerun=True` trains them again).""",
    """import mlplab

# 3000 points; validate_every=200: the lab reports its accuracy every 200 epochs.
quick = dict(n_samples=3000, validate_every=200, log_every=0, verbose=False)
runs = {}
for name in ["ring_linear", "ring_mlp"]:
    runs[name] = mlplab.train(f"{name}.yaml", **quick)
    rec = runs[name].record
    print(f"{name}: test accuracy {rec['test_acc']:.3f}", end=" ")
    print(f"(train/val/test rows {rec['n_train']}/{rec['n_val']}/{rec['n_test']})")""",
    """#md The MLP reaches the lab's 76% on its 300 test rows. The linear model scores
little above 1/3, what guessing scores among three classes that the data draws equally
often (the class is int(r), r = 3·U(0, 1)): Linear(2, 3) gives each class the region where
its logit is the largest, and those regions are bounded by straight lines, which cannot
enclose one ring inside another.

The lab draws the true classes beside the predicted ones. Each run draws its decision
surface (the predicted class over the plane, the points in their true class, the mistakes
marked), its loss curves and its confusion matrix; a Result shows them inline:""",
    """runs["ring_linear"]""",
    """runs["ring_mlp"]""",
]

NOTEBOOKS["06_parametrized_experiments"] = [
    """#md # Parametrized experiments (Standalone DL, lectures 3 and 4)
The lecture's `args` become settings; a list makes an axis of the grid (here n_layer x
hid_dim, two seeds each). Every run writes `result.json` (settings merged with results, as
the lecture's `experiment()` returns), and `mlplab.report` loads them all into pandas.
Runs are kept in `runs/exp1`, each in a folder named by a hash of its settings: execute the
notebook again and the sweep loads the 8 finished runs instead of training them (it says
`0 trained, 8 skipped`); `rerun=True` trains them again.""",
    """import json

import mlplab

args = dict(
    seed=[0, 1],
    # SIZE: in_dim and out_dim follow from the data
    data="ring",
    n_samples=1000,
    # MODEL
    n_layer=[1, 2],
    hid_dim=[8, 32],
    act="relu",
    use_bn=False,
    dp_rate=0.0,
    # HYPERPARAMETERS
    optim="ADAM",
    lr=0.01,
    l2_coef=1e-5,
    # EXP
    epoch=40,
    batch_size=100,
    # LOGGING
    log_path="runs",
    exp_name="exp1",
    plots="none",
)
res = mlplab.sweep(**args, workers=1, verbose=False)
res""",
    """record = json.loads((res.run_dirs[0] / "result.json").read_text())
print({k: record[k] for k in ["n_layer", "hid_dim", "seed", "train_acc", "val_acc", "test_acc"]})
print("curves:", [k for k in record if k.endswith("s") and isinstance(record[k], list)])""",
    """#md The lecture wraps a run in `experiment(partition, args)` and loops over settings
with a deep copy of `args`. With mlplab the function is `mlplab.train` (the data split is
part of the settings); the loop is the lecture's, and the sweep above does the same at once.""",
    """import copy


def experiment(args):
    # The lecture's experiment(): train with these settings, return settings + results.
    return mlplab.train(args, verbose=False).record


base = {k: (v[0] if isinstance(v, list) else v) for k, v in args.items()}
for lr in [0.01, 0.001]:
    one = copy.deepcopy(base)
    one.update(lr=lr, exp_name="exp2")
    result = experiment(one)
    print(f"lr {lr}: val_acc {result['val_acc']:.3f}, test_acc {result['test_acc']:.3f}")""",
    """#md In the 40 epochs, lr 0.001 takes steps too small to reach what lr 0.01 reaches:
its validation accuracy stays well below.""",
    """rep = mlplab.report("runs", exp_name="exp1", verbose=False)
best = rep.summary.iloc[0]
print(f"best: n_layer {best['n_layer']}, hid_dim {best['hid_dim']}", end=", ")
print(f"val_acc {best['val_acc_mean']:.3f}")
rep""",
    """#md `rep` shows the ranked table inline. The lecture's figures (the bars of train, val
and test accuracy, the panels of loss and accuracy curves, one per n_layer and hid_dim) are
in `runs/exp1/report.html`, which holds them as PNG images inside the page (it writes no
separate image files): open it in a browser. `report_plots` is the function that drew
them; given the report's tables it draws them again, each with its `title` and its `png`,
and `Image` shows one here, the bars:""",
    """from IPython.display import Image

from mlplab.reports.plots import report_plots

figures = report_plots(rep.runs, rep.summary, rep.variables, rep.kind)
print(f"{len(figures)} figures in {rep.html_path}:", "; ".join(f.title for f in figures))
Image(figures[0].png)""",
]


def build(name: str, cells: list[str]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for src in cells:
        if src.startswith("#md "):
            nb.cells.append(new_markdown_cell(src[4:]))
        else:
            nb.cells.append(new_code_cell(src))
    # Stable cell ids, so a rebuild that changes nothing leaves the files unchanged.
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    return nb


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        path = HERE / f"{name}.ipynb"
        nbformat.write(build(name, cells), path)
        print(path)


if __name__ == "__main__":
    main()
