"""Synthetic datasets: pure functions of (n_samples, noise, rng).

Each returns ``(X, y)`` in the order the points were generated; splitting is done by
:mod:`mlplab.data.dataset`. No hidden global RNG: every draw comes from ``rng``.
"""

from __future__ import annotations

import numpy as np

GATES = {
    "and": np.array([0, 0, 0, 1]),
    "or": np.array([0, 1, 1, 1]),
    "xor": np.array([0, 1, 1, 0]),
}
GATE_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The 4 rows of a 2-input logic gate: X [4, 2], y [4] in {0, 1}."""
    return GATE_X.copy(), GATES[name].copy()


def sinlog(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The regression lab: x1, x2 ~ U(0, 10), y = 2 sin(x1) + log(x2² / 2) + N(0, noise²)."""
    X = rng.uniform(0.0, 10.0, size=(n, 2))
    e = rng.normal(0.0, noise, size=n) if noise > 0 else np.zeros(n)
    y = 2 * np.sin(X[:, 0]) + np.log(X[:, 1] ** 2 / 2) + e
    return X, y[:, None]


def ring(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The classification lab's 3 classes.

    r = 3·U(0,1), θ = 2π·U(0,1); the class is int(r); r is then stretched to
    r·(cos θ + 1); x = (r cos θ, r sin θ). ``noise`` adds N(0, noise²) to x.
    """
    r = 3 * rng.uniform(0.0, 1.0, size=n)
    theta = 2 * np.pi * rng.uniform(0.0, 1.0, size=n)
    y = r.astype(int)
    r = r * (np.cos(theta) + 1)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X, y


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons), 2 classes."""
    out, inner = n // 2, n - n // 2
    a, b = np.linspace(0, np.pi, out), np.linspace(0, np.pi, inner)
    return _two_shapes(
        (np.cos(a), np.sin(a)), (1 - np.cos(b), 1 - np.sin(b) - 0.5), noise, _seed_from(rng)
    )


def circles(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one (scikit-learn's make_circles, factor 0.5)."""
    out, inner = n // 2, n - n // 2
    a = np.linspace(0, 2 * np.pi, out, endpoint=False)  # not the first point twice
    b = np.linspace(0, 2 * np.pi, inner, endpoint=False)
    return _two_shapes(
        (np.cos(a), np.sin(a)), (np.cos(b) * 0.5, np.sin(b) * 0.5), noise, _seed_from(rng)
    )


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The TensorFlow Playground's "circle": half the points in the disk of radius 2.5,
    half in the ring from 3.5 to 5 (radius and angle uniform, as its dataset.ts draws
    them). Class 1 where the point moved by U(-5 noise, 5 noise) on each axis lies within
    2.5 of the centre, 0 elsewhere: as in the Playground, noise flips the labels near the
    edge, not the points (its slider's 0-50 is noise 0-0.5 here)."""
    inner = n // 2
    r = np.concatenate([rng.uniform(0.0, 2.5, inner), rng.uniform(3.5, 5.0, n - inner)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    moved = X + rng.uniform(-5.0, 5.0, size=X.shape) * noise if noise > 0 else X
    y = (np.hypot(moved[:, 0], moved[:, 1]) < 2.5).astype(int)
    order = rng.permutation(n)
    return X[order], y[order]


def _two_shapes(
    outer: tuple[np.ndarray, np.ndarray],
    inner: tuple[np.ndarray, np.ndarray],
    noise: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 on the ``outer`` points, 1 on the ``inner``, shuffled, plus Gaussian noise,
    drawn as scikit-learn's make_moons and make_circles draw them, number for number (the
    same rows as mlplab's earlier releases, which called them): without its import, which
    cost each command a second or more."""
    X = np.vstack([np.append(outer[0], inner[0]), np.append(outer[1], inner[1])]).T
    y = np.hstack([np.zeros(len(outer[0]), dtype=np.intp), np.ones(len(inner[0]), dtype=np.intp)])
    draws = np.random.RandomState(seed)  # scikit-learn's random_state=int
    order = np.arange(len(y))
    draws.shuffle(order)
    X, y = X[order], y[order]
    X += draws.normal(scale=noise, size=X.shape)
    return X, y


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals, as in TensorFlow Playground, 2 classes."""
    n0 = n // 2
    out_x, out_y = [], []
    for label, count, delta in ((0, n0, 0.0), (1, n - n0, np.pi)):
        i = np.arange(count)
        r = i / max(count, 1) * 5
        t = 1.75 * i / max(count, 1) * 2 * np.pi + delta
        pts = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        pts += rng.uniform(-1, 1, size=pts.shape) * noise
        out_x.append(pts)
        out_y.append(np.full(count, label))
    X, y = np.concatenate(out_x), np.concatenate(out_y)
    order = rng.permutation(n)
    return X[order], y[order]


def gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs centred at (2, 2) and (-2, -2); ``noise`` scales their spread."""
    n0 = n // 2
    sd = 1.0 + 3.0 * noise
    a = rng.normal((2.0, 2.0), sd, size=(n0, 2))
    b = rng.normal((-2.0, -2.0), sd, size=(n - n0, 2))
    X = np.concatenate([a, b])
    y = np.concatenate([np.ones(n0, dtype=int), np.zeros(n - n0, dtype=int)])
    order = rng.permutation(n)
    return X[order], y[order]


def quadrants(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The TensorFlow Playground's "exclusive or": x ~ U(-5, 5)², kept 0.3 off the axes,
    class 1 where x1 and x2 have the same sign. ``noise`` draws the class from the point
    moved by U(-5 noise, 5 noise) on each axis, so that labels near the axes flip."""
    X = rng.uniform(-5.0, 5.0, size=(n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    moved = X + rng.uniform(-5.0, 5.0, size=X.shape) * noise if noise > 0 else X
    y = (moved[:, 0] * moved[:, 1] >= 0).astype(int)
    return X, y


def sine(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One feature: x ~ U(-6, 6), y = sin(x) + N(0, noise²); two periods, the curve a
    small MLP learns to bend, drawn with the data in the run's ``fit`` plot."""
    x = rng.uniform(-6.0, 6.0, size=(n, 1))
    e = rng.normal(0.0, noise, size=n) if noise > 0 else np.zeros(n)
    return x, (np.sin(x[:, 0]) + e)[:, None]


def _seed_from(rng: np.random.Generator) -> int:
    # scikit-learn takes an int random_state; draw it from our generator to stay explicit.
    return int(rng.integers(0, 2**31 - 1))
