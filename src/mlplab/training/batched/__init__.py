"""Train K same-shaped models at once, as one stacked model.

A sweep over learning rates, momenta, L2 penalties, dropout rates, inits and seeds trains
many models that share their data and layer sizes. Trained one at a time, a tiny model
spends nearly all of its time in per-call overhead; stacked, every weight gets a leading
axis ``K`` (``[K, out, in]``) and one batched matrix product (``np.matmul``) serves all K
models, so the overhead is paid once per step instead of K times.

Two stacks: :class:`NumpyStack` (the NumPy engine's arithmetic; used when the engine
resolves to numpy, e.g. ``auto`` for tiny models on CPU) and :class:`TorchStack` (torch,
CPU or CUDA; when it resolves to torch). Each config's results equal training it alone
with the same seed on the same engine. For the NumPy stack:

- weights come from the shared init (:func:`mlplab.engines.init.init_state`) per config;
- each config has its own data-order RNG, ``default_rng([seed, 1])``, as :func:`train`;
- each config has its own dropout RNG, ``default_rng(seed)``, drawing its masks with the
  same calls, shapes and order as :class:`mlplab.engines.numpy.backend.NumpyBackend`;
- the optimizer formulas are the NumPy engine's (torch's), with per-config ``lr``, ``mm``
  and ``l2_coef`` as ``[K, 1]`` arrays of the parameter dtype, so a float32 update rounds as
  the single run's (a Python float meets float32 arrays as float32);
- learning-rate schedule, validation, best tracking and patience run per config; a config
  that stops early or diverges leaves the stack (the others go on).

Float results agree with single runs to rounding (a batched product may sum in another
order); accuracies are identical. The tests assert this.

After training, each config gets its full run record through :mod:`mlplab.training.run`'s
own ``_finish``: a single-run backend is rebuilt from the config's final weights,
optimizer state and RNG state, so the final evaluation, checkpoints, metrics.csv,
TensorBoard hparams and plots are exactly those of a single run.

Modules: ``grouping`` (which configs go together), ``numpy_stack`` and ``torch_stack``
(the stacked models), ``stack_loop`` (training a stack), ``records`` (``train_batched``
and the run records). Public API: :func:`group_key`, :func:`group_configs`,
:func:`train_batched`.
"""

from mlplab.training.batched.grouping import (
    DEFAULT_MAX_GROUP,
    FREE_SETTINGS,
    batchable,
    group_configs,
    group_key,
)
from mlplab.training.batched.numpy_stack import NumpyStack
from mlplab.training.batched.records import LAST_TIMINGS, TB_POINTS, train_batched
from mlplab.training.batched.torch_stack import TorchStack

__all__ = [
    "DEFAULT_MAX_GROUP",
    "FREE_SETTINGS",
    "LAST_TIMINGS",
    "TB_POINTS",
    "NumpyStack",
    "TorchStack",
    "batchable",
    "group_configs",
    "group_key",
    "train_batched",
]
