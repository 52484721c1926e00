"""Figures of the digits chapter: the weight norms under the controls of Figure 6."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

from quantheory.cg.digits import TrainingRun
from quantheory.cg.digits_claims import Row, row_label
from quantheory.cg.digits_norms import growth_per_rate_by_epoch
from quantheory.plotting import COLORS, figure

#: line style of each training setting
SETTING_STYLES = ("-", "--", ":")
ROW_COLORS = (COLORS["measured"], COLORS["accent"])


def plot_norm_controls(settings: Mapping[str, Mapping[Row, TrainingRun]]) -> plt.Figure:
    """Norm relative to its start (top) and growth per unit of learning rate (bottom).

    ``settings`` maps a training setting's name (e.g. ``"step schedule"``) to
    its runs by Table 2 row; each curve is the mean over the slots. One
    column per weight matrix; log scales, since the settings differ by orders
    of magnitude.
    """
    first = next(iter(next(iter(settings.values())).values()))
    layers = first.weight_norms.shape[-1]
    fig, axes = figure(ncols=layers, nrows=2, width=3.1, height=2.6, sharex=True, squeeze=False)
    for (setting, runs), dashes in zip(settings.items(), SETTING_STYLES, strict=False):
        for (key, run), color in zip(runs.items(), ROW_COLORS, strict=False):
            relative = (run.weight_norms / run.weight_norms[0]).mean(axis=1)
            rate = growth_per_rate_by_epoch(run).mean(axis=1)
            label = f"{row_label(key)}, {setting}"
            for layer in range(layers):
                epochs = np.arange(relative.shape[0])
                axes[0, layer].plot(epochs, relative[:, layer], dashes, color=color, label=label)
                positive = np.where(rate[:, layer] > 0, rate[:, layer], np.nan)
                axes[1, layer].plot(epochs[1:], positive, dashes, color=color)
    for layer in range(layers):
        axes[0, layer].set_title(f"weight matrix {layer + 1}")
        axes[1, layer].set_xlabel("epoch")
        for ax in axes[:, layer]:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    axes[0, 0].set_ylabel("norm / initial norm")
    axes[1, 0].set_ylabel("growth per unit rate")
    fig.legend(
        *axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=7
    )
    return fig
