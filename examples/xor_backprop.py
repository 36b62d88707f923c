"""XOR with a 2-2-1 sigmoid network, trained by backpropagation written out by hand.

NumPy only: the forward pass, the binary cross-entropy cost and every step of the chain
rule are spelled out one line each, as the lecture writes them: the weights step by the
gradient summed over the rows, the biases by its mean. mlplab's NumPy engine computes the
same chain rule with reusable layers (``mlplab.engines.numpy``), on the mean cost (every
gradient divided by the rows, as PyTorch's); ``mlplab backprop --form lecture`` shows
one of its steps in this form.

Run: ``python examples/xor_backprop.py``
"""

import numpy as np

SEED = 777  # weights ~ N(0, 1) from this seed; it reaches accuracy 1.0
LEARNING_RATE = 1.0
STEPS = 10001

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)  # [4, 2]
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)  # [4, 1]: XOR


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_prime(x):
    return sigmoid(x) * (1 - sigmoid(x))


rng = np.random.default_rng(SEED)  # explicit randomness, no global seed
w1 = rng.standard_normal((2, 2))  # [in, hidden]: here X @ w1 (mlplab stores [out, in])
b1 = rng.standard_normal((2,))
w2 = rng.standard_normal((2, 1))
b2 = rng.standard_normal((1,))

for step in range(STEPS):
    # forward
    l1 = X @ w1 + b1
    a1 = sigmoid(l1)
    l2 = a1 @ w2 + b2
    Y_pred = sigmoid(l2)

    # binary cross-entropy
    cost = -np.mean(Y * np.log(Y_pred) + (1 - Y) * np.log(1 - Y_pred))

    # backward, by the chain rule (1e-7 keeps the division finite when Y_pred is 0 or 1)
    d_Y_pred = (Y_pred - Y) / (Y_pred * (1.0 - Y_pred) + 1e-7)
    d_l2 = d_Y_pred * sigmoid_prime(l2)
    d_b2 = d_l2
    d_w2 = a1.T @ d_b2
    d_a1 = d_b2 @ w2.T
    d_l1 = d_a1 * sigmoid_prime(l1)
    d_b1 = d_l1
    d_w1 = X.T @ d_b1

    # update: weights by the summed gradient, biases by the mean of their deltas
    w1 = w1 - LEARNING_RATE * d_w1
    b1 = b1 - LEARNING_RATE * np.mean(d_b1, axis=0)
    w2 = w2 - LEARNING_RATE * d_w2
    b2 = b2 - LEARNING_RATE * np.mean(d_b2, axis=0)

    if step % 100 == 0:
        print(step, cost)

predicted = (Y_pred > 0.5).astype(np.float64)
accuracy = (predicted == Y).mean()
print("\nHypothesis:", Y_pred.ravel(), "\nCorrect:", predicted.ravel(), "\nAccuracy:", accuracy)
