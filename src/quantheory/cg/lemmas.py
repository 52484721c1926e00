"""The quantities in the lemmas of Long, Yin and Xin, measured on the annulus population.

Notation (the paper's, with 0-based class labels): ``D_i`` is class ``i``;
``Omega_W`` is the set of inputs with positive hinge loss; ``Omega_W^j`` is
``Omega_W`` intersected with ``{<w_j, x> > 0}``; ``w_{j,i}`` is ``w_j``
projected on ``V_i`` and ``w~`` its unit vector; ``grad_j l_i`` is the coarse
gradient (7) of the class-``i`` loss with respect to ``w_j``. All arrays of
per-pair quantities have shape ``(R, n, k)``: run, class, unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantheory.cg import network as nw
from quantheory.cg import quadrature as qd
from quantheory.cg import surrogates as sg
from quantheory.cg.population import AnnulusPopulation, log_uniform, random_weights
from quantheory.seeding import SeedLike, spawn
from quantheory.validation import positive_float, positive_int


def derivative_bounds(name: str, bits: int, bound: float) -> tuple[float, float]:
    """Assumption 2's ``(delta, delta~)`` of surrogate ``name`` on (0, bound], from SymPy."""
    check = sg.check_assumption2(name, bits, positive_float("bound", bound))
    return float(check.delta), float(check.delta_tilde)


def step_size(name: str, eta: float) -> float:
    """The step of surrogate ``name``'s descent: ``eta``, or ``eta / SCALE`` for the scaled
    ReLU, so that its coarse gradient (``SCALE`` times ReLU's) moves ``W`` exactly as
    ReLU's does."""
    return eta / sg.SCALE if name == sg.SCALED_RELU else eta


def unit_components(population: AnnulusPopulation, w: np.ndarray) -> np.ndarray:
    """``|w_{j,i}|`` for every run, class and unit: (R, d, k) weights give (R, n, k)."""
    return np.stack(
        [np.linalg.norm(population.plane(i).T @ w, axis=-2) for i in range(population.n_classes)],
        axis=1,
    )


@dataclass(frozen=True)
class LemmaTerms:
    """Monte Carlo estimates of the terms of Lemmas 5.1 and 5.3 at fixed weights.

    Attributes (each (R, n, k) unless stated)
    ----------
    prob : estimate of ``P_{D_i}(Omega_W^j)``.
    grad_norm : ``|grad_j l_i(W)|``, the norm of the sample-mean coarse gradient.
    inner : estimate of ``<w~_{j,i}, -grad_j l_i(W)>``.
    var_prob, var_inner, cov : per-sample variances and covariance of the two
        averaged quantities (for the delta method).
    samples : number of samples of each class.
    largest_input : ``max |h_j|`` over the samples (the input range B).
    """

    prob: np.ndarray
    grad_norm: np.ndarray
    inner: np.ndarray
    var_prob: np.ndarray
    var_inner: np.ndarray
    cov: np.ndarray
    samples: int
    largest_input: float


def lemma_terms(
    population: AnnulusPopulation,
    w: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    bits: int,
    derivative: nw.Derivative,
) -> LemmaTerms:
    """Estimate the terms of Lemmas 5.1 and 5.3 for every run of ``w`` (R, d, k).

    ``x``, ``y`` must hold the same number of samples of every class.
    """
    counts = np.bincount(y, minlength=population.n_classes)
    if np.any(counts != counts[0]) or counts[0] < 2:
        raise ValueError(f"need the same number (>= 2) of samples per class, got {counts}")
    fields: dict[str, list[np.ndarray]] = {k: [] for k in ("p", "g", "a", "vp", "va", "c")}
    largest = 0.0
    for i in range(population.n_classes):
        xi, yi = x[y == i], y[y == i]
        state = nw.forward(w, xi, yi, v, bits)
        largest = max(largest, float(np.abs(state.h).max()))
        c = nw.sample_coefficients(state, yi, v, derivative)
        in_region = ((state.loss > 0)[..., None] & (state.h > 0)).astype(float)
        component = population.component(w, i)
        norms = np.linalg.norm(component, axis=-2, keepdims=True)
        unit = np.divide(component, norms, out=np.zeros_like(component), where=norms > 0)
        inner = -c * (xi @ unit)
        fields["p"].append(in_region.mean(axis=-2))
        fields["g"].append(np.linalg.norm(nw.mean_gradient(xi, c), axis=-2))
        fields["a"].append(inner.mean(axis=-2))
        fields["vp"].append(in_region.var(axis=-2, ddof=1))
        fields["va"].append(inner.var(axis=-2, ddof=1))
        centred = (in_region - in_region.mean(axis=-2, keepdims=True)) * (
            inner - inner.mean(axis=-2, keepdims=True)
        )
        fields["c"].append(centred.sum(axis=-2) / (xi.shape[0] - 1))
    stacked = {k: np.stack(f, axis=1) for k, f in fields.items()}
    return LemmaTerms(
        prob=stacked["p"],
        grad_norm=stacked["g"],
        inner=stacked["a"],
        var_prob=stacked["vp"],
        var_inner=stacked["va"],
        cov=stacked["c"],
        samples=int(counts[0]),
        largest_input=largest,
    )


@dataclass(frozen=True)
class PopulationTerms:
    """The terms of Lemmas 5.1 and 5.3 on the population, by quadrature.

    Attributes (each (R, n, k))
    ----------
    prob : ``P_{D_i}(Omega_W^j)``.
    grad_norm : ``|grad_j l_i(W)|``, the population coarse gradient's norm.
    inner : ``<w~_{j,i}, -grad_j l_i(W)>``.
    largest_input : ``max |h_j|`` over the quadrature nodes (the input range B).
    nodes : quadrature nodes used, summed over runs and classes.
    """

    prob: np.ndarray
    grad_norm: np.ndarray
    inner: np.ndarray
    largest_input: float
    nodes: int


def population_terms(
    population: AnnulusPopulation,
    w: np.ndarray,
    v: np.ndarray,
    bits: int,
    surrogate: str,
    size: qd.RuleSize | None = None,
) -> PopulationTerms:
    """The terms of Lemmas 5.1 and 5.3 for every run of ``w`` (R, d, k), as expectations
    over each class's annulus by the quadrature rule of :mod:`quadrature`.

    By Lemma 4.1 class ``i`` sees ``W`` only through ``U_i = Q_i^T W`` (2, k), so the
    network runs on the rule's nodes in plane coordinates; ``|grad|`` and the inner
    product with ``w~_{j,i} = u_j / |u_j|`` are the same in the plane as in R^d.
    ``g'`` is the NumPy function lambdified from the surrogate's SymPy definition;
    ``size`` is the rule's fineness (default :class:`~quadrature.RuleSize`).
    """
    size = qd.RuleSize() if size is None else size
    derivative = sg.surrogate_functions(surrogate, bits)[1]
    levels = qd.surrogate_levels(surrogate, bits)
    shape = (w.shape[0], population.n_classes, w.shape[-1])
    prob, grad_norm, inner = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    largest, nodes = 0.0, 0
    for r in range(w.shape[0]):
        for i in range(population.n_classes):
            u = population.plane(i).T @ w[r]
            z, mass = qd.plane_rule(u, levels, population.inner, population.outer, size)
            y = np.full(z.shape[0], i)
            state = nw.forward(u, z, y, v, bits)
            c = nw.sample_coefficients(state, y, v, derivative)
            in_region = (state.loss > 0)[:, None] & (state.h > 0)
            grad = z.T @ (mass[:, None] * c)
            norms = np.linalg.norm(u, axis=0)
            unit = np.divide(u, norms, out=np.zeros_like(u), where=norms > 0)
            prob[r, i] = mass @ in_region
            grad_norm[r, i] = np.linalg.norm(grad, axis=0)
            inner[r, i] = -np.sum(unit * grad, axis=0)
            largest = max(largest, float(np.abs(state.h).max()))
            nodes += z.shape[0]
    return PopulationTerms(prob, grad_norm, inner, largest, nodes)


def lemma51_bound(
    terms: LemmaTerms | PopulationTerms, v: np.ndarray, delta_tilde: float, radius: float
) -> np.ndarray:
    """Lemma 5.1's lower bound on ``P(Omega_W^j)``: ``|grad_j l_i| / (v^_j delta~ M)``."""
    return terms.grad_norm / (nw.v_hat(v)[None, None, :] * delta_tilde * radius)


def lemma53_factor(v: np.ndarray, delta: float, cp: float) -> np.ndarray:
    """``kappa_{i,j} = v~_{i,j} delta / (2 C_p)``, shape (n, k): Lemma 5.3 reads
    ``<w~, -grad> >= kappa P^2``."""
    return nw.v_tilde(v) * delta / (2 * cp)


def lemma53_factors(
    terms: dict[str, LemmaTerms] | dict[str, PopulationTerms], v: np.ndarray, bits: int, cp: float
) -> dict[str, np.ndarray]:
    """:func:`lemma53_factor` for every surrogate, with its ``delta`` on the range of
    pre-activations that surrogate's terms saw."""
    return {
        name: lemma53_factor(v, derivative_bounds(name, bits, t.largest_input)[0], cp)
        for name, t in terms.items()
    }


def lemma53_gap(terms: LemmaTerms, kappa: np.ndarray, exponent: float = 2.0):
    """``inner - kappa P^exponent`` and its delta-method standard error, (R, n, k) each."""
    p = terms.prob
    gap = terms.inner - kappa * p**exponent
    slope = kappa * exponent * p ** (exponent - 1)
    var = terms.var_inner + slope**2 * terms.var_prob - 2 * slope * terms.cov
    return gap, np.sqrt(np.maximum(var, 0.0) / terms.samples)


@dataclass(frozen=True)
class Trajectories:
    """Coarse-gradient descent runs with the per-class quantities of Lemma 5.5.

    Attributes
    ----------
    result : the :class:`~quantheory.cg.network.DescentResult`.
    components : (T + 1, R, n, k) ``|w_{j,i}^t|``.
    class_gradients : (T, R, n, k) ``|grad_j l_i(W^t)|`` (0 once a run stopped).
    region_counts : (T, R, n, k) samples of class i with a non-zero coefficient
        for unit j, i.e. in ``Omega_W^j`` when ``v_{i,j} > 0``.
    largest_weight : (R, k) ``max_t |w_j^t|``, the observed R of Proposition 1.
    """

    result: nw.DescentResult
    components: np.ndarray
    class_gradients: np.ndarray
    region_counts: np.ndarray
    largest_weight: np.ndarray

    @property
    def increments(self) -> np.ndarray:
        """``|w_{j,i}^{t+1}| - |w_{j,i}^t|``, shape (T, R, n, k)."""
        return np.diff(self.components, axis=0)


def tracked_descent(
    population: AnnulusPopulation,
    w0: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    bits: int,
    derivative: nw.Derivative,
    eta: float,
    max_steps: int,
) -> Trajectories:
    """Run (8) on the sample and record ``|w_{j,i}^t|`` and ``|grad_j l_i(W^t)|``.

    The sample must hold equally many inputs of every class, so that the
    sample-mean gradient is ``(1/n) sum_i grad l_i`` as in (9).
    """
    n = population.n_classes
    steps_total = max_steps + 1
    shape = (w0.shape[0], n, w0.shape[-1])
    components = np.zeros((steps_total, *shape))
    gradients = np.zeros((max_steps, *shape))
    counts = np.zeros((max_steps, *shape), dtype=np.int64)
    largest = np.zeros((w0.shape[0], w0.shape[-1]))
    classes = [y == i for i in range(n)]
    last = [0]

    def observe(step: int, active: np.ndarray, c: np.ndarray, w: np.ndarray) -> None:
        components[step] = unit_components(population, w)
        largest[:] = np.maximum(largest, np.linalg.norm(w, axis=-2))
        for i, members in enumerate(classes):
            grad = nw.mean_gradient(x[members], c[:, members])
            gradients[step, active, i] = np.linalg.norm(grad, axis=-2)
            counts[step, active, i] = np.count_nonzero(c[:, members], axis=1)
        last[0] = step

    result = nw.coarse_gradient_descent(
        w0, x, y, v, bits, derivative, eta, max_steps, observer=observe
    )
    end = last[0] + 1
    components[end:] = unit_components(population, result.w)
    largest[:] = np.maximum(largest, np.linalg.norm(result.w, axis=-2))
    return Trajectories(result, components, gradients, counts, largest)


def lemma55_bound(
    v: np.ndarray, delta: float, delta_tilde: float, cp: float, radius: float, eta: float
) -> np.ndarray:
    """The factor ``eta v~ delta / (2 n C_p v^^2 delta~^2 M^2)`` of Lemma 5.5, (n, k).

    Lemma 5.5: ``|w_{j,i}^{t+1}| - |w_{j,i}^t| >= factor * |grad_j l_i(W^t)|^2``.
    """
    n = v.shape[0]
    return (
        eta * nw.v_tilde(v) * delta / (2 * n * cp * nw.v_hat(v) ** 2 * delta_tilde**2 * radius**2)
    )


def prop1_constant(
    v: np.ndarray, delta: float, delta_tilde: float, cp: float, radius: float, eta: float
) -> np.ndarray:
    """Proposition 1's ``2 n C_p v^_j^2 delta~^2 M^2 / (eta v~_{i,j} delta)``, (n, k).

    Written from the proposition's statement, not from Lemma 5.5's factor:
    ``sum_t |grad_j l_i(W^t)|^2 <= constant * R`` when ``|w_j^t| <= R`` for all t.
    Pairs with ``v~_{i,j} <= 0`` (outside the proposition) get ``nan``.
    """
    n, v_tilde = v.shape[0], nw.v_tilde(v)
    numerator = 2 * n * cp * nw.v_hat(v)[None, :] ** 2 * delta_tilde**2 * radius**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v_tilde > 0, numerator / (eta * v_tilde * delta), np.nan)


def prop1_bound(
    v: np.ndarray,
    delta: float,
    delta_tilde: float,
    cp: float,
    radius: float,
    eta: float,
    largest_weight: np.ndarray,
) -> np.ndarray:
    """Proposition 1's bound ``constant * R`` with ``R = largest_weight`` (R, k) the
    observed ``max_t |w_j^t|``; returns (R, n, k)."""
    constant = prop1_constant(v, delta, delta_tilde, cp, radius, eta)
    return largest_weight[:, None, :] * constant[None]


@dataclass(frozen=True)
class RandomWeightStudy:
    """The lemma terms for every surrogate of the lemmas at the same random weights.

    Attributes
    ----------
    w : (R, d, k) weights, run r Gaussian with a log-uniform scale.
    x, y : the sample they are evaluated on.
    terms : surrogate name -> :class:`LemmaTerms`.
    """

    w: np.ndarray
    x: np.ndarray
    y: np.ndarray
    terms: dict[str, LemmaTerms]


def random_weight_study(
    population: AnnulusPopulation,
    v: np.ndarray,
    bits: int,
    n_weights: int,
    per_class: int,
    scale_range: tuple[float, float],
    seed: SeedLike,
) -> RandomWeightStudy:
    """Draw ``n_weights`` random W and a sample; estimate the lemma terms for each surrogate."""
    seeds = spawn(seed, ["scales", "weights", "sample"])
    shape = (n_weights, population.dim, v.shape[1])
    w = random_weights(
        shape, log_uniform(*scale_range, n_weights, seeds["scales"]), seeds["weights"]
    )
    x, y = population.sample(per_class, seeds["sample"])
    terms = {
        name: lemma_terms(population, w, x, y, v, bits, sg.surrogate_functions(name, bits)[1])
        for name in sg.LEMMA_SURROGATES
    }
    return RandomWeightStudy(w, x, y, terms)


def descent_study(
    population: AnnulusPopulation,
    v: np.ndarray,
    bits: int,
    eta: float,
    runs: int,
    init_scale: float,
    per_class: int,
    max_steps: int,
    seed: SeedLike,
    surrogates: tuple[str, ...] = sg.LEMMA_SURROGATES,
) -> dict[str, Trajectories]:
    """Tracked coarse-gradient descent from the same random starts, one batch per surrogate
    (each at :func:`step_size`)."""
    seeds = spawn(seed, ["sample", "starts"])
    x, y = population.sample(per_class, seeds["sample"])
    shape = (positive_int("runs", runs), population.dim, v.shape[1])
    w0 = random_weights(
        shape, np.full(runs, positive_float("init_scale", init_scale)), seeds["starts"]
    )
    return {
        name: tracked_descent(
            population,
            w0,
            x,
            y,
            v,
            bits,
            sg.surrogate_functions(name, bits)[1],
            step_size(name, eta),
            max_steps,
        )
        for name in surrogates
    }


def trajectory_derivative_bounds(
    name: str, bits: int, run: Trajectories | qd.TrackedRun, radius: float
) -> tuple[float, float]:
    """``(delta, delta~)`` on (0, B] with ``B = max_t |w_j^t| M``, a bound on every ``h_j``."""
    return derivative_bounds(name, bits, float(run.largest_weight.max()) * radius)


def proposition1_bounds(
    population: AnnulusPopulation,
    v: np.ndarray,
    bits: int,
    eta: float,
    runs: dict[str, Trajectories] | dict[str, qd.TrackedRun],
) -> dict[str, np.ndarray]:
    """Proposition 1's bound for every surrogate's runs, (R, n, k) each."""
    out = {}
    for name, run in runs.items():
        delta, delta_tilde = trajectory_derivative_bounds(name, bits, run, population.outer)
        out[name] = prop1_bound(
            v,
            delta,
            delta_tilde,
            population.cp,
            population.outer,
            step_size(name, eta),
            run.largest_weight,
        )
    return out


def population_descent_study(
    population: AnnulusPopulation,
    layers: dict[str, np.ndarray],
    bits: int,
    eta: float,
    runs: int,
    init_scale: float,
    max_steps: int,
    seed: SeedLike,
    surrogates: tuple[str, ...] = sg.LEMMA_SURROGATES,
) -> dict[str, dict[str, qd.TrackedRun]]:
    """Population descent (by quadrature) from the same random starts for every second
    layer and every surrogate of the lemmas (each at :func:`step_size`):
    ``out[layer][surrogate]``."""
    k = {v.shape[1] for v in layers.values()}
    if len(k) != 1:
        raise ValueError(f"every layer needs the same number of units, got {sorted(k)}")
    shape = (positive_int("runs", runs), population.dim, k.pop())
    w0 = random_weights(shape, np.full(runs, positive_float("init_scale", init_scale)), seed)
    return {
        layer: {
            name: qd.tracked_population_descent(
                population, w0, v, bits, name, step_size(name, eta), max_steps
            )
            for name in surrogates
        }
        for layer, v in layers.items()
    }
