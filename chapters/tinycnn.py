"""A tiny CNN for chapter 8, built from the solution package's layers.

    x (m, 8, 8, 1) -> conv 3x3, pad 1 -> ReLU -> max-pool 2x2 -> flatten
      -> dense -> softmax + cross-entropy

The conv, ReLU and pooling layers (forward and backward) come from
`solutions`; only the dense layer, the loss and the optimiser live here,
because they are not part of the graded homework. Arrays are NHWC, float64.

Max pooling uses pool_backward_fast, which routes each window's gradient to
one maximal entry (solutions/pool_fast.py explains why, and chapter 8
measures it); loss_and_grads can be handed another pooling backward to
compare.
"""
import numpy as np

from solutions import conv_backward_fast, conv_forward_fast, pool_backward_fast, pool_forward_fast
from solutions import relu, relu_backward

CONV = {"stride": 1, "pad": 1}
POOL = {"f": 2, "stride": 2}


def init_params(rng, n_filters=8, f=3, n_in=1, image=8, n_classes=10):
    """Random weights, zero biases: the parameters W1 (f, f, n_in, n_filters),
    b1 (1, 1, 1, n_filters), W2 (n_flat, n_classes), b2 (1, n_classes).

    W1 ~ N(0, 2 / fan_in) with fan_in = f * f * n_in (He initialisation): a ReLU
    follows the convolution and zeroes about half of its outputs, and the
    factor 2 makes up for it, so the ReLU outputs keep about the mean square of
    the input pixels. W2 ~ N(0, 1 / fan_in) with fan_in = n_flat (LeCun's
    scale): no ReLU follows the dense layer, whose outputs are the logits, and
    the smaller scale keeps the first logits of order one, so the first loss is
    near log(n_classes), the loss of a uniform guess (chapter 8 prints both).
    """
    pooled = image // 2
    n_flat = pooled * pooled * n_filters
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / (f * f * n_in)), (f, f, n_in, n_filters)),
        "b1": np.zeros((1, 1, 1, n_filters)),
        "W2": rng.normal(0.0, np.sqrt(1.0 / n_flat), (n_flat, n_classes)),
        "b2": np.zeros((1, n_classes)),
    }


def forward(params, X):
    """X: (m, 8, 8, 1). Returns logits (m, n_classes) and the caches backward needs."""
    Z1, conv_cache = conv_forward_fast(X, params["W1"], params["b1"], CONV)
    A1, relu_cache = relu(Z1)
    P1, pool_cache = pool_forward_fast(A1, POOL, mode="max")
    flat = P1.reshape(P1.shape[0], -1)
    logits = flat @ params["W2"] + params["b2"]  # dense layer: one matrix product
    return logits, (conv_cache, relu_cache, pool_cache, P1.shape, flat)


def cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits): (m, K) against integer labels y: (m,).

    Returns the loss and dL/dlogits = (softmax - one_hot(y)) / m, the
    `s - y` result of chapter 2, divided by m because the loss is a mean.

    The loss is computed as in chapter 8's (eq-xent-loss), -z_y + log sum_q e^{z_q},
    never as log(softmax): a probability that underflows to 0 would give
    log(0) = -inf. The log-sum-exp subtracts the row maximum M first,
    log sum_q e^{z_q} = M + log sum_q e^{z_q - M}: no exponent is positive (no
    overflow) and one of them is e^0 = 1 (the sum is at least 1, its log finite).
    """
    m = logits.shape[0]
    rows = np.arange(m)
    shifted = logits - logits.max(axis=1, keepdims=True)             # z - M, all <= 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.mean(log_probs[rows, y])
    dlogits = np.exp(log_probs)                                       # softmax S
    dlogits[rows, y] -= 1.0
    return loss, dlogits / m


def loss(params, X, y):
    """Forward pass and mean cross-entropy only (what a gradient check perturbs)."""
    logits, _ = forward(params, X)
    return cross_entropy(logits, y)[0]


def loss_and_grads(params, X, y, pool_backward=pool_backward_fast):
    """Forward, loss, and the gradient of the loss for every parameter.

    pool_backward: the max-pool backward to use; chapter 8 passes the teaching
    solutions.pool_backward (every tied maximum gets the gradient) to compare.
    """
    logits, (conv_cache, relu_cache, pool_cache, pooled_shape, flat) = forward(params, X)
    loss, dlogits = cross_entropy(logits, y)
    grads = {
        # logits = flat @ W2 + b2, so dW2 = flat^T dlogits and db2 sums over the batch.
        "W2": flat.T @ dlogits,
        "b2": dlogits.sum(axis=0, keepdims=True),
    }
    dflat = dlogits @ params["W2"].T
    dP1 = dflat.reshape(pooled_shape)
    dA1 = pool_backward(dP1, pool_cache, mode="max")
    dZ1 = relu_backward(dA1, relu_cache)
    _, grads["W1"], grads["b1"] = conv_backward_fast(dZ1, conv_cache)
    return loss, grads


def predict(params, X):
    logits, _ = forward(params, X)
    return np.argmax(logits, axis=1)


class Adam:
    """Adam (Kingma and Ba, 2015), chapter 8's (eq-adam): momentum on the
    gradient (first moment mu), scaled per entry by a running root-mean-square
    of the gradient (second moment nu), both with bias correction."""

    def __init__(self, params, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.mu = {name: np.zeros_like(value) for name, value in params.items()}
        self.nu = {name: np.zeros_like(value) for name, value in params.items()}

    def step(self, params, grads):
        self.t += 1
        for name in params:
            self.mu[name] = self.beta1 * self.mu[name] + (1 - self.beta1) * grads[name]
            self.nu[name] = self.beta2 * self.nu[name] + (1 - self.beta2) * grads[name] ** 2
            mu_hat = self.mu[name] / (1 - self.beta1**self.t)
            nu_hat = self.nu[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * mu_hat / (np.sqrt(nu_hat) + self.eps)


def train(params, X, y, X_test, y_test, epochs=15, batch=32, lr=1e-2, seed=0):
    """Mini-batch Adam. Returns per-epoch history: mean training loss, train and test accuracy."""
    rng = np.random.default_rng(seed)
    opt = Adam(params, lr=lr)
    history = {"loss": [], "train_acc": [], "test_acc": []}
    for _ in range(epochs):
        order = rng.permutation(len(X))
        losses = []
        for start in range(0, len(X), batch):
            idx = order[start:start + batch]
            loss, grads = loss_and_grads(params, X[idx], y[idx])
            opt.step(params, grads)
            losses.append(loss)
        history["loss"].append(float(np.mean(losses)))
        history["train_acc"].append(float(np.mean(predict(params, X) == y)))
        history["test_acc"].append(float(np.mean(predict(params, X_test) == y_test)))
    return history
