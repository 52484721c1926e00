"""Figures of the spectra chapter: distorted spectra and the real formats' relative error."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from quantheory import plotting
from quantheory.display import Table
from quantheory.lr.spectra import SpectrumSample

#: one colour per sample label, shared by both figures
PALETTE = {
    "clean": plotting.COLORS["theory"],
    "additive": plotting.COLORS["accent"],
    "mult_vector": plotting.COLORS["measured"],
    "mult_coord": "#6a51a3",
    "int5 SR": plotting.COLORS["accent"],
    "int5 RN": "#e6a23c",
    "float8_e4m3fn SR": plotting.COLORS["measured"],
    "float8_e5m2 SR": "#6a51a3",
    "bfloat16 SR": plotting.COLORS["pass"],
    "int5 SR, model eps I": plotting.COLORS["accent"],
}


def _positive(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based indices and values where the values are positive (log axes show no others)."""
    index = np.arange(1, values.size + 1)
    keep = values > 0
    return index[keep], values[keep]


def plot_spectra(
    idealized: Mapping[str, SpectrumSample],
    predicted: Mapping[str, np.ndarray],
    real: Mapping[str, SpectrumSample],
    real_predicted: Mapping[str, np.ndarray],
):
    """Empirical spectra (sorted eigenvalues) against the predicted diagonals, log-log.

    Left: the idealized quantizers; right: real formats. ``predicted`` and
    ``real_predicted`` map a label to the predicted ``E[x~_i^2]`` (shape
    ``(d,)``), drawn as dashed lines (dotted when the label names a model);
    the samples' eigenvalues are solid.
    Non-positive eigenvalues (round-to-nearest sends whole coordinates to 0)
    cannot be drawn on log axes and are left out; the chapter counts them.
    """
    fig, (left, right) = plotting.figure(ncols=2, width=4.6, height=3.6)
    with plotting.style():
        for axis, samples, lines, title in (
            (left, idealized, predicted, "idealized quantizers"),
            (right, real, real_predicted, "real formats (stochastic / nearest rounding)"),
        ):
            for label, sample in samples.items():
                index, values = _positive(sample.eigenvalues())
                axis.plot(index, values, color=PALETTE.get(label), lw=1.4, label=label)
            for label, line in lines.items():
                style = ":" if "model" in label else "--"
                axis.plot(
                    np.arange(1, line.size + 1), line, ls=style, lw=1.0, color=PALETTE.get(label)
                )
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel("index i (eigenvalues sorted)")
            axis.set_title(title)
            axis.legend(loc="lower left")
        left.set_ylabel("eigenvalue of E[x~ x~^T] (empirical)")
    return fig


def plot_relative_error(
    samples: Mapping[str, SpectrumSample],
    predicted: Mapping[str, np.ndarray],
    idealized: Mapping[str, np.ndarray],
):
    """Per-coordinate relative error ``E[(x~_i - x_i)^2] / lambda_i``, log-log.

    Dots: measured; solid lines: the exact Gaussian prediction of each real
    format (``predicted``, shape ``(d,)`` each); dotted lines: the idealized
    model it is usually replaced by (``idealized``: ``step^2/(6 lambda_i)``
    for the integer grid, ``c 2^(-2m)`` for a float).
    """
    fig, axis = plotting.figure(width=5.6, height=3.8)
    with plotting.style():
        for label, sample in samples.items():
            index, values = _positive(sample.error / sample.spectrum)
            colour = PALETTE.get(label)
            axis.plot(index, values, "o", ms=2.2, alpha=0.7, color=colour, label=label)
            line = predicted[label] / sample.spectrum
            axis.plot(np.arange(1, line.size + 1), line, color=colour, lw=1.0)
            model = idealized[label]
            axis.plot(np.arange(1, model.size + 1), model, ls=":", color=colour, lw=1.2)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("coordinate i (lambda_i = i^-a)")
        axis.set_ylabel("E[(x~_i - x_i)^2] / lambda_i")
        axis.set_title("relative error: measured, exact (solid), idealized model (dotted)")
        axis.legend(loc="upper left", fontsize=8)
    return fig


def error_table(
    samples: Mapping[str, SpectrumSample],
    predicted: Mapping[str, np.ndarray],
    idealized: Mapping[str, np.ndarray],
    coordinates: tuple[int, ...],
) -> Table:
    """Error second moment per tested coordinate: measured / exact / idealized model.

    ``predicted`` and ``idealized`` map each label of ``samples`` to shape
    ``(d,)`` arrays of ``E[(x~_i - x_i)^2]``.
    """
    rows = []
    for i in coordinates:
        row = [str(i), f"{next(iter(samples.values())).spectrum[i - 1]:.3g}"]
        for label, sample in samples.items():
            row.append(
                f"{sample.error[i - 1]:.3g} / {predicted[label][i - 1]:.3g} / "
                f"{idealized[label][i - 1]:.3g}"
            )
        rows.append(row)
    return Table(
        ["i", "lambda_i", *(f"{label}: measured / exact / model" for label in samples)], rows
    )
