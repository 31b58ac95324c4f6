"""The dashboard's plots, drawn on the server with matplotlib (Agg) as SVG: no script in the browser.

Their titles, axes and legends are in the reader's language (``words``), as the page around them."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter

from review_station.web.words import number
from review_station.words import code, say

TRIAGE_COLOURS = {"refer": "#a30000", "ungradable": "#d08a00", "no_refer": "#3b7d3e"}


class _Decimals(ScalarFormatter):
    """matplotlib's ticks with the decimal separator of the reader's language: matplotlib writes "0.5"
    whatever the page, where the French figures around it read "0,5"."""

    def __init__(self, language: str) -> None:
        super().__init__(useOffset=False)
        self.language = language

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = super().__call__(x, pos)
        _, point, places = text.partition(".")
        return number(x, self.language, len(places)) if point else text


def _in_language(axes: plt.Axes, language: str, *axis: str) -> None:
    """The counts' axis (and ``axis``: the delays' hours) ticked as ``language`` writes decimals."""
    for name in ("y", *axis):
        getattr(axes, f"{name}axis").set_major_formatter(_Decimals(language))


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


# Days on an axis: matplotlib's month names are English whatever the language, so French gets numbers.
DAY_FORMATS = {"en": "%d %b %Y", "fr": "%d/%m/%Y"}


def _empty(figure: plt.Figure, axes: plt.Axes, language: str) -> str:
    axes.text(0.5, 0.5, say("plot.empty", language), ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
    return _svg(figure)


def _by_day(axes: plt.Axes, days: list[date], language: str) -> None:
    """An axis of whole days around ``days``: left to itself, matplotlib ticks hours for one day and
    spreads one point over years."""
    first, last = min(days), max(days)
    axes.set_xlim(first - timedelta(days=1), last + timedelta(days=1))
    axes.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, ((last - first).days + 2) // 8)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter(DAY_FORMATS.get(language, DAY_FORMATS["en"])))


def screenings_per_day(days: dict[date, Counter[str]], language: str = "en") -> str:
    figure, axes = plt.subplots(figsize=(7, 2.8))
    if not days:
        return _empty(figure, axes, language)
    labels = list(days)
    bottom = [0] * len(labels)
    for triage, colour in TRIAGE_COLOURS.items():
        heights = [days[day][triage] for day in labels]
        axes.bar(labels, heights, bottom=bottom, color=colour, label=code("triage", triage, language))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_ylabel(say("plot.screenings_axis", language))
    axes.set_title(say("plot.screenings", language))
    axes.legend(loc="upper left", fontsize="small")
    _in_language(axes, language)
    _by_day(axes, labels, language)
    figure.autofmt_xdate()
    return _svg(figure)


def ungradable_rate(days: dict[date, Counter[str]], language: str = "en") -> str:
    figure, axes = plt.subplots(figsize=(7, 2.4))
    if not days:
        return _empty(figure, axes, language)
    rates = [100 * count["ungradable"] / max(1, sum(count.values())) for count in days.values()]
    axes.plot(list(days), rates, marker="o", color=TRIAGE_COLOURS["ungradable"])
    axes.set_ylim(0, 100)
    axes.set_ylabel(say("plot.ungradable_axis", language))
    axes.set_title(say("plot.ungradable", language))
    _in_language(axes, language)
    _by_day(axes, list(days), language)
    figure.autofmt_xdate()
    return _svg(figure)


def receipt_delay(delays_h: list[float], language: str = "en") -> str:
    figure, axes = plt.subplots(figsize=(7, 2.4))
    if not delays_h:
        return _empty(figure, axes, language)
    axes.hist(delays_h, bins=30, color="#18324a")
    axes.set_xlabel(say("plot.delay_axis", language))
    axes.set_ylabel(say("plot.results_axis", language))
    axes.set_title(say("plot.delay", language))
    _in_language(axes, language, "x")
    return _svg(figure)
