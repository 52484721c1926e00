"""Table 2 and Figure 6 on real data: scikit-learn's bundled 8x8 handwritten digits.

A small multilayer perceptron, ``64 -> H -> H -> 10``, trained in NumPy with
the backward pass written from the formulas. Each hidden layer is a linear map
(no bias), batch normalisation without affine parameters (so the
pre-activations are standardised, as in the paper's modified batch norm), and
an activation: ReLU for the full-precision network, or the b-bit quantized
ReLU with step ``tau``, ``sigma_tau(u) = tau sigma(u / tau)``, whose backward
pass uses the coarse gradient: ``sigma'`` replaced by ``g'(u / tau)``. The step
``tau`` is fixed before training by a Lloyd-Max fit of the uniform quantizer
to N(0, 1) input. Several seeds train at once: every array carries a leading
seed axis.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy import integrate, optimize, stats

from quantheory.cg import surrogates as sg
from quantheory.executor import map_cells
from quantheory.seeding import SeedLike, generator, seed_sequence, spawn
from quantheory.validation import one_of, positive_float, positive_int

BN_EPS = 1e-5
FULL_PRECISION = "full_precision"
#: control: quantized forward pass, no gradient to the hidden layers
FROZEN_HIDDEN = "frozen_hidden"


def lloyd_max_step(bits: int) -> float:
    """The step ``tau`` minimising ``E[(x - tau sigma(x / tau))^2; x > 0]``, x ~ N(0, 1).

    The b-bit quantizer with step tau maps (tau(a-1), tau a] to tau a for
    ``a = 1 .. q_b`` and everything above ``tau q_b`` to ``tau q_b``; negative
    inputs map to 0 exactly. Lloyd-Max with uniform levels: the mean squared
    error is integrated against the Gaussian density and minimised over tau.
    """
    q = sg.max_level(bits)

    def error(tau: float) -> float:
        total = 0.0
        for a in range(1, q + 1):
            total += integrate.quad(
                lambda t, level=a: (t - tau * level) ** 2 * stats.norm.pdf(t),
                tau * (a - 1),
                tau * a,
            )[0]
        total += integrate.quad(lambda t: (t - tau * q) ** 2 * stats.norm.pdf(t), tau * q, np.inf)[
            0
        ]
        return total

    result = optimize.minimize_scalar(error, bounds=(1e-3, 4.0), method="bounded")
    return float(result.x)


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation and the derivative its backward pass uses.

    ``surrogate`` is ``"full_precision"`` (ReLU, true derivative), the name of
    a surrogate (quantized forward, coarse backward), or ``"frozen_hidden"``
    (quantized forward, zero backward: only the output layer learns).
    """

    surrogate: str
    bits: int = 32
    tau: float = 1.0

    def forward(self, u: np.ndarray) -> np.ndarray:
        if self.surrogate == FULL_PRECISION:
            return np.maximum(u, 0.0)
        return self.tau * sg.quantized_relu(u / self.tau, self.bits)

    def backward(self, u: np.ndarray) -> np.ndarray:
        """The factor the chain rule multiplies by: ``1{u > 0}`` or ``g'(u / tau)``."""
        if self.surrogate == FULL_PRECISION:
            return (u > 0).astype(float)
        if self.surrogate == FROZEN_HIDDEN:
            return np.zeros_like(u)
        return sg.surrogate_functions(self.surrogate, self.bits)[1](u / self.tau)


def activation(surrogate: str, bits: int | None = None) -> Activation:
    """The activation of one Table 2 row (``bits`` ignored for full precision).

    ``surrogate`` may also be ``"clipped_relu"`` or ``"identity"``, the
    surrogates that violate Assumption 2 (the controls of Table 2).
    """
    one_of("surrogate", surrogate, (FULL_PRECISION, FROZEN_HIDDEN, *sg.SURROGATES))
    if surrogate == FULL_PRECISION:
        return Activation(FULL_PRECISION)
    bits = positive_int("bits", bits)
    return Activation(surrogate, bits, lloyd_max_step(bits))


def batch_norm(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardise over the batch axis (-2): returns ``u``, the mean and the variance."""
    mean = s.mean(axis=-2, keepdims=True)
    var = s.var(axis=-2, keepdims=True)
    return (s - mean) / np.sqrt(var + BN_EPS), mean, var


def batch_norm_backward(du: np.ndarray, u: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``dL/ds`` from ``dL/du`` for ``u = (s - mean) / sqrt(var + eps)`` over the batch."""
    return (
        du - du.mean(axis=-2, keepdims=True) - u * (du * u).mean(axis=-2, keepdims=True)
    ) / np.sqrt(var + BN_EPS)


@dataclass
class Network:
    """Weights of ``S`` networks trained together (leading axis: seed).

    Attributes
    ----------
    weights : hidden and output weight matrices, shapes (S, in, out).
    bias : (S, 1, classes) output bias.
    running : per hidden layer (mean, var) for evaluation, shapes (S, 1, H).
    """

    weights: list[np.ndarray]
    bias: np.ndarray
    running: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


def init_network(seeds: int, sizes: tuple[int, ...], seed: SeedLike) -> Network:
    """He-normal weights for layer sizes ``(inputs, H, .., classes)``, ``seeds`` copies."""
    rng = generator(seed)
    weights = [
        rng.standard_normal((seeds, a, b)) * np.sqrt(2.0 / a) for a, b in itertools.pairwise(sizes)
    ]
    running = [(np.zeros((seeds, 1, b)), np.ones((seeds, 1, b))) for b in sizes[1:-1]]
    return Network(weights, np.zeros((seeds, 1, sizes[-1])), running)


def weight_norms(net: Network) -> np.ndarray:
    """Frobenius norm of every weight matrix of every seed, shape (S, layers)."""
    return np.stack([np.linalg.norm(w, axis=(1, 2)) for w in net.weights], axis=-1)


@dataclass(frozen=True)
class Cache:
    """What the backward pass needs from a training-mode forward pass."""

    inputs: list[np.ndarray]
    normalised: list[np.ndarray]
    variances: list[np.ndarray]
    means: list[np.ndarray]
    logits: np.ndarray


def forward(
    net: Network, x: np.ndarray, act: Activation, training: bool, normalise: bool = True
) -> Cache:
    """Logits for inputs ``x`` (S, B, 64); batch statistics when ``training``.

    With ``normalise=False`` there is no batch normalisation: the activation
    acts on the linear map's output (the control of Figure 6 whose loss is not
    invariant to the scale of the hidden weights).
    """
    inputs, normalised, variances, means = [], [], [], []
    a = x
    for layer, w in enumerate(net.weights[:-1]):
        inputs.append(a)
        s = a @ w
        if not normalise:
            u, mean, var = s, np.zeros(()), np.ones(())
        elif training:
            u, mean, var = batch_norm(s)
        else:
            mean, var = net.running[layer]
            u = (s - mean) / np.sqrt(var + BN_EPS)
        normalised.append(u)
        variances.append(var)
        means.append(mean)
        a = act.forward(u)
    inputs.append(a)
    return Cache(inputs, normalised, variances, means, a @ net.weights[-1] + net.bias)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy per seed (S,) and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_prob = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_prob, labels[..., None], -1)[..., 0]
    grad = np.exp(log_prob)
    np.put_along_axis(
        grad, labels[..., None], np.take_along_axis(grad, labels[..., None], -1) - 1, -1
    )
    return -picked.mean(axis=-1), grad / labels.shape[-1]


def backward(
    net: Network, cache: Cache, labels: np.ndarray, act: Activation, normalise: bool = True
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Loss per seed, weight gradients (same shapes as ``net.weights``) and bias gradient.

    Written from the formulas: softmax cross-entropy, the linear maps, batch
    normalisation (unless ``normalise=False``), and the activation's
    :meth:`Activation.backward` factor.
    """
    loss, d_logits = cross_entropy(cache.logits, labels)
    grads = [np.zeros(0)] * len(net.weights)
    grads[-1] = np.swapaxes(cache.inputs[-1], -1, -2) @ d_logits
    d_bias = d_logits.sum(axis=-2, keepdims=True)
    da = d_logits @ np.swapaxes(net.weights[-1], -1, -2)
    for layer in range(len(net.weights) - 2, -1, -1):
        u = cache.normalised[layer]
        du = da * act.backward(u)
        ds = batch_norm_backward(du, u, cache.variances[layer]) if normalise else du
        grads[layer] = np.swapaxes(cache.inputs[layer], -1, -2) @ ds
        da = ds @ np.swapaxes(net.weights[layer], -1, -2)
    return loss, grads, d_bias


@dataclass(frozen=True)
class Schedule:
    """Momentum SGD as in the paper: ``lr`` divided by 10 every ``decay_every`` epochs.

    ``decay_every=None`` keeps the learning rate constant (a control of Figure 6).
    """

    epochs: int
    lr: float = 0.1
    momentum: float = 0.9
    batch: int = 64
    decay_every: int | None = 20

    def rate(self, epoch: int) -> float:
        if self.decay_every is None:
            return self.lr
        return self.lr * 0.1 ** (epoch // self.decay_every)

    def rates(self) -> np.ndarray:
        """The learning rate of every epoch, shape (epochs,)."""
        return np.array([self.rate(epoch) for epoch in range(self.epochs)])


@dataclass(frozen=True)
class Splits:
    """``S`` stratified train/test splits of the digits, one per training slot.

    Attributes
    ----------
    x : (S, N, 64) all N images, standardised with the mean and standard
        deviation of the split's own training part.
    y : (N,) labels.
    train, test : (S, N_train) and (S, N_test) image indices of each split.
    """

    x: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray

    @property
    def count(self) -> int:
        return self.train.shape[0]


@dataclass(frozen=True)
class TrainingRun:
    """One network configuration trained on every split (``S`` slots).

    Attributes
    ----------
    accuracy : (S,) held-out accuracy after the last epoch, in [0, 1].
    weight_norms : (epochs + 1, S, layers) Frobenius norm of every weight
        matrix at the start and after each epoch.
    train_loss : (epochs, S) mean training loss of each epoch.
    rates : (epochs,) the learning rate of each epoch.
    step_growth : (epochs, S, layers) the growth of each squared weight norm
        over each epoch that the momentum steps give if every gradient is
        orthogonal to its weights: ``sum_t |v_t|^2 + 2 a_t`` with
        ``a_t = momentum (a_{t-1} + |v_{t-1}|^2)`` (see :func:`step_growth`).
    network : the trained networks.
    activation : the activation they were trained with.
    test_train_ratio : test over training images of each split, ``n_test / n_train``
        (the splits overlap; see :func:`load_digits_splits`).
    """

    accuracy: np.ndarray
    weight_norms: np.ndarray
    train_loss: np.ndarray
    rates: np.ndarray
    step_growth: np.ndarray
    network: Network
    activation: Activation
    test_train_ratio: float


class StepGrowth:
    """The squared-norm growth momentum steps give a weight matrix orthogonal to its gradient.

    With ``v_t = momentum v_{t-1} - lr g_t`` and ``W_{t+1} = W_t + v_t``,
    ``|W_{t+1}|^2 - |W_t|^2 = |v_t|^2 + 2 <W_t, v_t>``, and if ``<W_t, g_t> = 0``
    (a loss invariant to the scale of W), ``a_t = <W_t, v_t>`` obeys
    ``a_t = momentum (a_{t-1} + |v_{t-1}|^2)``: the growth follows from the
    step lengths alone. Feed every step's velocities to :meth:`add`.
    """

    def __init__(self, slots: int, layers: int, momentum: float) -> None:
        self.momentum = momentum
        self.inner = np.zeros((slots, layers))  # a_t, predicted
        self.last = np.zeros((slots, layers))  # |v_{t-1}|^2
        self.total = np.zeros((slots, layers))

    def add(self, velocity: Sequence[np.ndarray]) -> None:
        """Book one step with velocities of shapes (S, in, out), one per layer."""
        self.inner = self.momentum * (self.inner + self.last)
        self.last = np.stack([(v**2).sum(axis=(1, 2)) for v in velocity], axis=-1)
        self.total += self.last + 2 * self.inner

    def take(self) -> np.ndarray:
        """The growth booked since the last call, (S, layers)."""
        total, self.total = self.total, np.zeros_like(self.total)
        return total


def train(
    splits: Splits,
    act: Activation,
    hidden: int,
    schedule: Schedule,
    seed: SeedLike,
    normalise: bool = True,
) -> TrainingRun:
    """Train one network per split, all at once; slot ``s`` has its own init and batch order.

    The same ``seed`` gives every configuration the same initialisations and
    batch orders, so that rows trained with it are paired slot by slot.
    """
    streams = spawn(seed, ["init", "batches"])
    slots, n_train = splits.train.shape
    sizes = (splits.x.shape[-1], hidden, hidden, int(splits.y.max()) + 1)
    net = init_network(slots, sizes, streams["init"])
    velocity = [np.zeros_like(w) for w in net.weights]
    bias_velocity = np.zeros_like(net.bias)
    rng = generator(streams["batches"])
    slot = np.arange(slots)[:, None]
    norms = [weight_norms(net)]
    losses = []
    booked = StepGrowth(slots, len(net.weights), schedule.momentum)
    growth = []
    n_batches = n_train // schedule.batch
    for epoch in range(positive_int("epochs", schedule.epochs)):
        order = np.take_along_axis(
            splits.train, np.argsort(rng.random((slots, n_train)), axis=1), axis=1
        )
        epoch_loss = np.zeros(slots)
        rate = schedule.rate(epoch)
        for b in range(n_batches):
            idx = order[:, b * schedule.batch : (b + 1) * schedule.batch]
            cache = forward(net, splits.x[slot, idx], act, True, normalise)
            loss, grads, d_bias = backward(net, cache, splits.y[idx], act, normalise)
            epoch_loss += loss / n_batches
            for layer, grad in enumerate(grads):
                velocity[layer] = schedule.momentum * velocity[layer] - rate * grad
                net.weights[layer] += velocity[layer]
            booked.add(velocity)
            bias_velocity = schedule.momentum * bias_velocity - rate * d_bias
            net.bias += bias_velocity
            for layer, (mean, var) in enumerate(net.running):
                net.running[layer] = (
                    0.9 * mean + 0.1 * cache.means[layer],
                    0.9 * var + 0.1 * cache.variances[layer],
                )
        norms.append(weight_norms(net))
        losses.append(epoch_loss)
        growth.append(booked.take())
    logits = forward(net, splits.x[slot, splits.test], act, False, normalise).logits
    accuracy = (logits.argmax(axis=-1) == splits.y[splits.test]).mean(axis=-1)
    return TrainingRun(
        accuracy,
        np.stack(norms),
        np.stack(losses),
        schedule.rates(),
        np.stack(growth),
        net,
        act,
        splits.test.shape[1] / n_train,
    )


def train_rows(
    splits: Splits,
    rows: Sequence[tuple[str, int]],
    hidden: int,
    schedule: Schedule,
    seed: SeedLike,
    normalise: bool = True,
) -> dict[tuple[str, int], TrainingRun]:
    """:func:`train` for every ``(surrogate, bits)`` row (bits 32: full precision).

    Every row gets ``seed``, the rows in order, as if one after the other:
    :func:`train` spawns its two streams from ``seed``, and a ``SeedSequence``
    spawns new children at each call, so row ``r`` of a ``SeedSequence`` draws
    its children ``2r`` and ``2r + 1`` (and ``seed`` is left past them), while
    an integer seed gives every row the same streams. See :func:`_row_seeds`.
    """
    rows = list(rows)
    runs = map_cells(
        partial(_train_row, splits=splits, hidden=hidden, schedule=schedule, normalise=normalise),
        rows,
        _row_seeds(seed, len(rows)),
        desc="Table 2 rows",
    )
    return dict(zip(rows, runs, strict=True))


def _row_seeds(seed: SeedLike, rows: int) -> list[np.random.SeedSequence]:
    """The seed each of ``rows`` rows hands to :func:`train` when they run one after
    the other on ``seed``, each as its own object, so that a row gets it wherever it runs.

    An integer gives a fresh ``SeedSequence`` per row. A ``SeedSequence`` is
    copied at the spawn count each row finds (two more per row before it), and
    ``seed`` itself is advanced past all the rows' spawns.
    """
    if not isinstance(seed, np.random.SeedSequence):
        return [seed_sequence(seed) for _ in range(rows)]
    first = seed.n_children_spawned
    seed.spawn(2 * rows)
    return [
        np.random.SeedSequence(
            seed.entropy,
            spawn_key=seed.spawn_key,
            pool_size=seed.pool_size,
            n_children_spawned=first + 2 * row,
        )
        for row in range(rows)
    ]


def _train_row(
    row: tuple[str, int],
    seed: np.random.SeedSequence,
    *,
    splits: Splits,
    hidden: int,
    schedule: Schedule,
    normalise: bool,
) -> TrainingRun:
    """:func:`train` of one ``(surrogate, bits)`` row of :func:`train_rows`."""
    name, bits = row
    act = activation(name, None if bits == 32 else bits)
    return train(splits, act, hidden, schedule, seed, normalise=normalise)


def load_digits_splits(count: int, test_fraction: float, seed: SeedLike) -> Splits:
    """``count`` stratified random splits of scikit-learn's bundled digits.

    Monte Carlo cross-validation: each split draws its own test set of
    ``test_fraction`` of the 1,797 images (every class in proportion); the
    features of each are standardised on its training part. The splits draw
    from the same images, so they overlap and are not independent replicates:
    intervals over them need the corrected resampled t of Nadeau and Bengio
    (:func:`quantheory.cg.digits_claims.resampled_t_interval`). Nothing is
    downloaded.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedShuffleSplit

    data = load_digits()
    state = int(generator(seed).integers(2**31))
    splitter = StratifiedShuffleSplit(
        positive_int("count", count),
        test_size=positive_float("test_fraction", test_fraction),
        random_state=state,
    )
    train, test = map(np.array, zip(*splitter.split(data.data, data.target), strict=True))
    mean = data.data[train].mean(axis=1, keepdims=True)
    std = data.data[train].std(axis=1, keepdims=True)
    std = np.where(std > 0, std, 1.0)  # pixels that are 0 in every training image stay 0
    return Splits((data.data[None] - mean) / std, data.target, train, test)


def finite_difference_error(
    x: np.ndarray,
    labels: np.ndarray,
    hidden: int,
    coordinates: int,
    seed: SeedLike,
    step: float = 1e-5,
    normalise: bool = True,
) -> float:
    """Largest gap between the backward pass and central differences, relative to
    the largest entry of the layer's gradient.

    The full-precision network (ReLU, where the loss is differentiable at
    almost every point), with or without batch normalisation, on one
    training-mode batch ``x`` (B, 64); ``coordinates`` random entries of every
    weight matrix are perturbed by ``+-step``.
    """
    streams = spawn(seed, ["init", "coordinates"])
    act = Activation(FULL_PRECISION)
    sizes = (x.shape[1], hidden, hidden, int(labels.max()) + 1)
    net = init_network(1, sizes, streams["init"])
    xs, ys = x[None], labels[None]

    def loss() -> float:
        return float(cross_entropy(forward(net, xs, act, True, normalise).logits, ys)[0][0])

    _, grads, _ = backward(net, forward(net, xs, act, True, normalise), ys, act, normalise)
    rng = generator(streams["coordinates"])
    worst = 0.0
    for layer, w in enumerate(net.weights):
        scale = float(np.abs(grads[layer]).max())
        for _ in range(positive_int("coordinates", coordinates)):
            index = (0, rng.integers(w.shape[1]), rng.integers(w.shape[2]))
            original = w[index]
            w[index] = original + step
            up = loss()
            w[index] = original - step
            down = loss()
            w[index] = original
            numeric = (up - down) / (2 * step)
            worst = max(worst, abs(numeric - grads[layer][index]) / scale)
    return worst


def reference_slope(surrogate: str, bits: int) -> Callable[[np.ndarray], np.ndarray]:
    """The factor the coarse gradient should multiply by, from the surrogate's formula.

    ``g'(u / tau)`` with ``g'`` differentiated symbolically from the
    surrogate's expression (:func:`quantheory.cg.surrogates.surrogate_functions`)
    and ``tau`` the Lloyd-Max step; ``1{u > 0}`` for full precision; 0 for the
    frozen control. Written apart from :meth:`Activation.backward`, which it checks.
    """
    if surrogate == FULL_PRECISION:
        return lambda u: (np.asarray(u) > 0).astype(float)
    if surrogate == FROZEN_HIDDEN:
        return np.zeros_like
    derivative = sg.surrogate_functions(surrogate, bits)[1]
    tau = lloyd_max_step(bits)
    return lambda u: derivative(np.asarray(u) / tau)


def forward_mode_derivatives(
    weights: Sequence[np.ndarray],
    bias: np.ndarray,
    x: np.ndarray,
    labels: np.ndarray,
    value: Callable[[np.ndarray], np.ndarray],
    slope: Callable[[np.ndarray], np.ndarray],
    directions: Sequence[Sequence[np.ndarray]],
) -> np.ndarray:
    """Directional derivatives of the training-mode loss of one network, by forward mode.

    The activation's value is ``value(u)`` and its derivative is taken to be
    ``slope(u)``: with a surrogate's slope, the coarse gradient's directional
    derivatives. Forward mode (tangents pushed through the linear maps, batch
    normalisation and the activation) is written apart from the reverse-mode
    :func:`backward`.

    Parameters
    ----------
    weights : one network's matrices, shapes (in, out); bias : (1, classes).
    x : (B, 64) inputs; labels : (B,).
    directions : D directions, each a list of (in, out) tangents, one per
        hidden layer (the output layer does not move).

    Returns
    -------
    (D,) directional derivatives.
    """
    out = []
    for direction in directions:
        a, da = x, np.zeros_like(x)
        for w, dw in zip(weights[:-1], direction, strict=True):
            s, ds = a @ w, da @ w + a @ dw
            centred, d_centred = s - s.mean(axis=0), ds - ds.mean(axis=0)
            sd = np.sqrt((centred**2).mean(axis=0) + BN_EPS)
            d_var = 2 * (centred * d_centred).mean(axis=0)
            u = centred / sd
            du = d_centred / sd - centred * d_var / (2 * sd**3)
            a, da = value(u), slope(u) * du
        logits = a @ weights[-1] + bias
        d_logits = da @ weights[-1]
        prob = np.exp(logits - logits.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        picked = d_logits[np.arange(labels.size), labels]
        out.append(float(np.mean((prob * d_logits).sum(axis=1) - picked)))
    return np.array(out)


@dataclass(frozen=True)
class BackwardCheck:
    """The backward pass of one trained row against the formula with its own ``g'``.

    Attributes
    ----------
    error : largest ``|backward - formula|`` over the directions, relative to
        the norm of the backward pass's gradient.
    apart : the other surrogates at the same bit-width, each with the largest
        ``|formula with its g' - formula with the row's g'|`` on the same
        network, batch and directions, same scale (empty for full precision).
    """

    error: float
    apart: dict[str, float]


def check_backward(
    run: TrainingRun, x: np.ndarray, labels: np.ndarray, directions: int, seed: SeedLike
) -> BackwardCheck:
    """:class:`BackwardCheck` of slot 0 of ``run`` on the batch ``x`` (B, 64).

    ``directions`` random unit directions in the hidden weights; the network
    in training mode (batch statistics of ``x``).
    """
    act = run.activation
    weights = [w[0] for w in run.network.weights]
    bias = run.network.bias[0]
    rng = generator(seed)
    tangents = []
    for _ in range(positive_int("directions", directions)):
        draw = [rng.standard_normal(w.shape) for w in weights[:-1]]
        norm = np.sqrt(sum((d**2).sum() for d in draw))
        tangents.append([d / norm for d in draw])
    single = Network([w[None] for w in weights], bias[None], [])
    _, grads, d_bias = backward(single, forward(single, x[None], act, True), labels[None], act)
    measured = np.array(
        [sum((g[0] * d).sum() for g, d in zip(grads[:-1], t, strict=True)) for t in tangents]
    )
    scale = np.sqrt(sum((g**2).sum() for g in grads) + (d_bias**2).sum())

    def formula(name: str) -> np.ndarray:
        slope = reference_slope(name, act.bits)
        return forward_mode_derivatives(weights, bias, x, labels, act.forward, slope, tangents)

    own = formula(act.surrogate)
    others = () if act.surrogate == FULL_PRECISION else sg.SURROGATES
    apart = {
        name: float(np.abs(formula(name) - own).max() / scale)
        for name in others
        if name != act.surrogate
    }
    return BackwardCheck(float(np.abs(measured - own).max() / scale), apart)
