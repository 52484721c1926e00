"""Figures of the Part II chapters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from quantheory.cg import surrogates as sg
from quantheory.cg.digits_claims import row_label
from quantheory.cg.surrogates import LABELS
from quantheory.plotting import COLORS, figure


def plot_sigma(bits_values: tuple[int, ...] = (1, 2)) -> plt.Figure:
    """The b-bit quantized ReLU for a few bit-widths (the paper's Figure 1)."""
    fig, axes = figure(ncols=len(bits_values), width=3.2, height=2.8)
    for ax, bits in zip(np.atleast_1d(axes), bits_values, strict=True):
        q = sg.max_level(bits)
        grid = np.linspace(-1.5, q + 1.5, 2001)
        ax.plot(grid, sg.quantized_relu(grid, bits), color=COLORS["measured"])
        ax.set_title(f"{bits}-bit quantized ReLU ($q_b = {q}$)")
        ax.set_xlabel("$x$")
        ax.set_ylabel(r"$\sigma(x)$")
    return fig


def plot_surrogates(bits: int, bound: float) -> plt.Figure:
    """Each surrogate g (top) and its derivative g' (bottom) on [-1, B] (Figure 2)."""
    fig, axes = figure(ncols=len(sg.SURROGATES), nrows=2, width=2.3, height=2.2, sharex=True)
    grid = np.linspace(-1.0, bound, 2001)
    for column, name in enumerate(sg.SURROGATES):
        g, dg = sg.surrogate_functions(name, bits)
        color = COLORS["measured"] if name in sg.ADMISSIBLE else COLORS["accent"]
        axes[0, column].plot(grid, g(grid), color=color)
        axes[0, column].set_title(LABELS[name], fontsize=9)
        axes[1, column].plot(grid, dg(grid), color=color)
        axes[1, column].set_xlabel("$x$")
        axes[1, column].set_ylim(-0.1, 1.2)
    axes[0, 0].set_ylabel("$g(x)$")
    axes[1, 0].set_ylabel("$g'(x)$")
    return fig


def plot_lemma53(terms: dict, factors: dict[str, np.ndarray]) -> plt.Figure:
    """Lemma 5.3 at random W: the inner product against its bound ``kappa P^2``.

    ``factors`` maps each surrogate to its (n, k) ``kappa``; every point is one
    (W, i, j) pair with ``v~ > 0`` and ``P > 0``; the line is equality.
    """
    fig, axes = figure(ncols=len(terms), width=3.2, height=3.3, sharey=True)
    for ax, (name, t) in zip(np.atleast_1d(axes), terms.items(), strict=True):
        kappa = factors[name]
        pairs = (kappa[None] > 0) & (t.prob > 0)
        bound = (kappa[None] * t.prob**2)[pairs]
        ax.loglog(bound, t.inner[pairs], ".", ms=2, alpha=0.4, color=COLORS["measured"])
        line = np.array([bound.min(), bound.max()])
        ax.loglog(line, line, color=COLORS["theory"], lw=1, label="equality")
        ax.set_title(LABELS[name])
        ax.set_xlabel(r"bound $\tilde v\,\delta P^2 / (2C_p)$")
    np.atleast_1d(axes)[0].set_ylabel(r"inner product $\langle \tilde w, -\tilde\nabla\rangle$")
    np.atleast_1d(axes)[0].legend(loc="upper left")
    return fig


def plot_growth(runs: dict, tracked: np.ndarray, bounds: dict[str, np.ndarray]) -> plt.Figure:
    """Left: ``|w_{j,i}^t|`` for the tracked pairs of one ReLU run. Right: for each
    surrogate, the largest ratio of the partial sum of ``|grad_j l_i|^2`` to
    Proposition 1's bound (``bounds[name]`` is (R, n, k)) over runs and pairs."""
    fig, (left, right) = figure(ncols=2, width=4.0, height=3.0)
    relu = runs["relu"]
    first = relu.components[:, 0][:, tracked]
    stop = relu.result.steps_to_zero[0]
    end = stop + 1 if stop >= 0 else first.shape[0]
    left.plot(np.arange(end), first[:end], color=COLORS["measured"], lw=0.8, alpha=0.7)
    left.set_xlabel("step $t$")
    left.set_ylabel(r"$|w_{j,i}^t|$, pairs with $v_{i,j} > 0$")
    left.set_title("ReLU surrogate, first run")
    for name, run in runs.items():
        partial = np.cumsum(run.class_gradients**2, axis=0)[:, :, tracked]
        ratio = (partial / bounds[name][:, tracked][None]).max(axis=(1, 2))
        right.semilogy(np.arange(1, ratio.size + 1), ratio, label=LABELS[name])
    right.axhline(1.0, color=COLORS["theory"], lw=1, ls="--", label="Proposition 1")
    right.set_xlabel("step $T$")
    right.set_ylabel(r"$\sum_{t<T} |\tilde\nabla_{w_j} l_i|^2$ / bound (largest)")
    right.legend(loc="lower right")
    return fig


def plot_norm_growth(runs: dict) -> plt.Figure:
    """Weight norm of every layer over epochs, relative to its start (mean over seeds).

    ``runs`` maps a Table 2 row ``(surrogate, bits)`` to its
    :class:`~quantheory.cg.digits.TrainingRun`.
    """
    first = next(iter(runs.values()))
    layers = first.weight_norms.shape[-1]
    fig, axes = figure(ncols=layers, width=3.1, height=2.9, sharey=True)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (key, run), color in zip(runs.items(), cycle, strict=False):
        relative = run.weight_norms / run.weight_norms[0]
        epochs = np.arange(relative.shape[0])
        for layer, ax in enumerate(np.atleast_1d(axes)):
            ax.plot(epochs, relative[:, :, layer].mean(axis=1), color=color, label=row_label(key))
    for layer, ax in enumerate(np.atleast_1d(axes)):
        ax.set_title(f"weight matrix {layer + 1}")
        ax.set_xlabel("epoch")
    np.atleast_1d(axes)[0].set_ylabel("norm / initial norm")
    np.atleast_1d(axes)[-1].legend(loc="lower right", fontsize=7)
    return fig


def plot_angle_sweep(sweep) -> plt.Figure:
    """Box plots of iterations to zero loss and of ``|W|`` against theta (Figure 3).

    One row per noise level of the :class:`~quantheory.cg.angle.AngleSweep`.
    """
    levels = sweep.noise_levels.size
    fig, axes = figure(ncols=2, nrows=levels, width=4.0, height=2.4, sharex=True, squeeze=False)
    ticks = [f"{np.rad2deg(t):.0f}°" for t in sweep.thetas]
    for row, level in enumerate(sweep.noise_levels):
        for col, data in enumerate((sweep.steps[row], sweep.norms[row])):
            ax = axes[row, col]
            ax.boxplot(
                list(data),
                tick_labels=ticks,
                widths=0.6,
                medianprops={"color": COLORS["accent"]},
                flierprops={"markersize": 3},
            )
        axes[row, 0].set_yscale("log")
        axes[row, 0].set_ylabel(f"noise {level:g}\niterations")
        axes[row, 1].set_ylabel("$|W|$ at zero loss")
    axes[-1, 0].set_xlabel(r"angle $\theta$ between the planes")
    axes[-1, 1].set_xlabel(r"angle $\theta$ between the planes")
    axes[0, 0].set_title("iterations to zero loss")
    axes[0, 1].set_title(r"$|W| = \sum_j |w_j|$")
    return fig


def plot_iterates(runs: dict, study: dict) -> plt.Figure:
    """Left: ``|W^t|`` of every population run, one colour per second layer
    (``runs`` maps a layer to its :class:`~quantheory.cg.iterates.IterateRun`).
    Right: the graded layer's ``|W^t|`` at every sample size and in the population
    (``study`` maps a label to a run), median over runs."""
    fig, (left, right) = figure(ncols=2, width=4.0, height=3.0)
    for (layer, run), color in zip(
        runs.items(), (COLORS["measured"], COLORS["accent"]), strict=False
    ):
        steps = np.arange(run.total_norm.shape[0])
        left.loglog(steps[1:], run.total_norm[1:], color=color, lw=0.9, alpha=0.8)
        left.plot([], [], color=color, label=f"{layer} layer")
    left.set_xlabel("step $t$")
    left.set_ylabel(r"$|W^t| = \sum_j |w_j^t|$")
    left.set_title("population descent (quadrature)")
    left.legend(loc="upper left")
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (label, run), color in zip(study.items(), cycle, strict=False):
        steps = np.arange(1, run.total_norm.shape[0])
        right.loglog(steps, np.median(run.total_norm[1:], axis=1), color=color, label=label)
    right.set_xlabel("step $t$")
    right.set_ylabel(r"median $|W^t|$, graded layer")
    right.set_title("growing samples and the population")
    right.legend(loc="upper left", fontsize=7)
    return fig
