"""Matplotlib charts of the :mod:`matching.analytics.coverage` frames, for the analysts' notebooks.

Each function draws one chart on ``ax`` (a new figure when omitted) and returns the axes.
Matplotlib is a development dependency: import this module only where charts are drawn.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = [
    "plot_domain_region",
    "plot_profiles",
    "plot_label_calendar",
    "plot_best_scores",
    "plot_coverage_by",
    "plot_country_demand",
]


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def plot_domain_region(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Heatmap of :func:`~matching.analytics.coverage.expertise_by_domain_region`, one number per cell.

    ``table`` has shape (n_domains, n_regions); empty cells are left blank.
    """
    ax = _axes(ax, (13, 7))
    values = table.to_numpy()
    image = ax.imshow(values, cmap="YlGnBu", aspect="auto")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    threshold = values.max() / 2 if values.size else 0
    for (row, col), value in np.ndenumerate(values):
        if value:
            ax.text(
                col,
                row,
                str(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > threshold else "black",
            )
    ax.figure.colorbar(image, ax=ax, label="valid labelled profiles")
    ax.set_title("Valid labelled expertise by domain and region")
    return ax


def plot_profiles(frame: pd.DataFrame, title: str, label_column: str | None = None, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the ``profiles`` column of a frame indexed by category.

    ``label_column`` names a column to use as bar labels instead of the index.
    """
    ax = _axes(ax, (8, 0.35 * len(frame) + 1.5))
    labels = frame[label_column] if label_column else frame.index
    ax.barh([str(v) for v in labels], frame["profiles"], color="#3b7dd8")
    ax.invert_yaxis()
    for y, value in enumerate(frame["profiles"]):
        ax.text(value, y, f" {value}", va="center", fontsize=8)
    ax.set_xlabel("valid labelled profiles")
    ax.set_title(title)
    return ax


def plot_label_calendar(calendar: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of labels expiring per month, line of labels still valid (right axis).

    ``calendar`` is a :func:`~matching.analytics.coverage.label_calendar` frame, shape (n_months, 3).
    """
    ax = _axes(ax, (10, 4.5))
    ax.bar(calendar.index, calendar["expiring"], color="#d8703b", label="labels expiring in the month")
    ax.set_ylabel("labels expiring")
    ax.tick_params(axis="x", rotation=45)
    right = ax.twinx()
    right.plot(
        calendar.index, calendar["still_valid"], color="#3b7dd8", marker="o", label="valid at month end (no renewal)"
    )
    right.set_ylabel("labels still valid")
    right.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    ax.set_title("Label calendar: expiries over the next months")
    return ax


def plot_best_scores(coverage: pd.DataFrame, threshold: float, ax: Axes | None = None, bins: int = 20) -> Axes:
    """Histogram of each request's best score, with the strength threshold marked.

    ``coverage`` is a :func:`~matching.analytics.coverage.request_coverage` frame (one row per request).
    """
    ax = _axes(ax, (9, 4.5))
    ax.hist(
        coverage["best_score"],
        bins=bins,
        range=(0.0, max(1e-9, float(coverage["best_score"].max()))),
        color="#3b7dd8",
        edgecolor="white",
    )
    ax.axvline(threshold, color="#c0392b", linestyle="--", label=f"strength threshold ({threshold:.2f})")
    ax.set_xlabel("best match score")
    ax.set_ylabel("requests")
    ax.legend()
    ax.set_title("Distribution of each request's best score")
    return ax


def plot_coverage_by(frame: pd.DataFrame, title: str, ax: Axes | None = None, top: int = 15) -> Axes:
    """Share of requests with a strong best match for the ``top`` weakest groups.

    ``frame`` is a :func:`~matching.analytics.coverage.coverage_by` frame (weakest first); each bar
    is annotated with its number of requests.
    """
    shown = frame.head(top)
    ax = _axes(ax, (8, 0.35 * len(shown) + 1.5))
    ax.barh([str(v) for v in shown.index], shown["share_strong"], color="#2e9e6b")
    ax.invert_yaxis()
    for y, (share, n) in enumerate(zip(shown["share_strong"], shown["requests"], strict=True)):
        ax.text(share, y, f" {share:.0%} of {n}", va="center", fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("share of requests with a strong best match")
    ax.set_title(title)
    return ax


def plot_country_demand(countries: pd.DataFrame, ax: Axes | None = None, top: int = 25) -> Axes:
    """Requests vs valid profiles with experience, for the ``top`` countries by requests.

    ``countries`` is a :func:`~matching.analytics.coverage.country_demand` frame; countries with
    little experience are drawn in red.
    """
    shown = countries[countries["requests"] > 0].head(top)
    ax = _axes(ax, (11, 5))
    x = np.arange(len(shown))
    colors = np.where(shown["little_experience"], "#c0392b", "#3b7dd8")
    ax.bar(x - 0.2, shown["requests"], width=0.4, color=colors, label="requests (red: little experience)")
    bars = ax.bar(x + 0.2, shown["profiles"], width=0.4, color="#a0a0a0", label="valid profiles with experience")
    ax.bar_label(bars, fontsize=7)
    ax.set_xticks(x, shown["name"], rotation=60, ha="right")
    ax.set_ylabel("count")
    ax.legend()
    ax.set_title("Countries sending requests vs past cooperation of labelled profiles")
    return ax
