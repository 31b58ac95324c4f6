"""The dashboard's plots, drawn on the server with matplotlib (Agg) as SVG: no script in the browser."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

TRIAGE_COLOURS = {"refer": "#a30000", "ungradable": "#d08a00", "no_refer": "#3b7d3e"}


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _empty(figure: plt.Figure, axes: plt.Axes) -> str:
    axes.text(0.5, 0.5, "no screenings in this period", ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
    return _svg(figure)


def _by_day(axes: plt.Axes, days: list[date]) -> None:
    """An axis of whole days around ``days``: left to itself, matplotlib ticks hours for one day and
    spreads one point over years."""
    first, last = min(days), max(days)
    axes.set_xlim(first - timedelta(days=1), last + timedelta(days=1))
    axes.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, ((last - first).days + 2) // 8)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))


def screenings_per_day(days: dict[date, Counter[str]]) -> str:
    figure, axes = plt.subplots(figsize=(7, 2.8))
    if not days:
        return _empty(figure, axes)
    labels = list(days)
    bottom = [0] * len(labels)
    for triage, colour in TRIAGE_COLOURS.items():
        heights = [days[day][triage] for day in labels]
        axes.bar(labels, heights, bottom=bottom, color=colour, label=triage.replace("_", " "))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_ylabel("screenings")
    axes.set_title("Screenings per day by triage")
    axes.legend(loc="upper left", fontsize="small")
    _by_day(axes, labels)
    figure.autofmt_xdate()
    return _svg(figure)


def ungradable_rate(days: dict[date, Counter[str]]) -> str:
    figure, axes = plt.subplots(figsize=(7, 2.4))
    if not days:
        return _empty(figure, axes)
    rates = [100 * count["ungradable"] / max(1, sum(count.values())) for count in days.values()]
    axes.plot(list(days), rates, marker="o", color=TRIAGE_COLOURS["ungradable"])
    axes.set_ylim(0, 100)
    axes.set_ylabel("% ungradable")
    axes.set_title("Ungradable rate per day")
    _by_day(axes, list(days))
    figure.autofmt_xdate()
    return _svg(figure)


def receipt_delay(delays_h: list[float]) -> str:
    figure, axes = plt.subplots(figsize=(7, 2.4))
    if not delays_h:
        return _empty(figure, axes)
    axes.hist(delays_h, bins=30, color="#18324a")
    axes.set_xlabel("hours from capture to receipt at the station")
    axes.set_ylabel("results")
    axes.set_title("Capture-to-receipt delay")
    return _svg(figure)
