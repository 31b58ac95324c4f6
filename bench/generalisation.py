"""How the device holds up on every source of ``../shared/data``, one row per source, one run.

For each source it screens the photos through the device's own pipeline (``read_frame``, the
configured calibration, the quality gate's full check, the models committed in ``models/``) with a
research run, so that the model's score is known even for a photo the gate refuses, and prints:

- gate columns: the share of the source's photos the gate rejects (every one of them was graded by
  specialists, so each is a false reject, at least arguably), the reject rates of referable (or
  melanoma) photos and of the others and their gap, for fundus the reject rates of the three
  pigmentation tertiles (the field's mean luminance, dark to light), and the share of clearly
  degraded versions (``tests/degradations.py``, strengths 2 and 3) rejected, and rejected with the
  right reason (by defect, also with it alone: no other reason beside it);
- model columns: the model's AUC on all photos, its sensitivity and specificity at the card's
  operating point, and the device's (an ungradable photo counted as referred, as the nurse would).

A model whose card names a source among its training data is marked ``*`` on that source: its
figures there are not an external test. With ``--fit-on SOURCE`` (repeatable, one modality) the
gate's limits are instead derived on those sources' photos by the one committed rule
(``firmware_app.quality.fit.derive_limits``: the photos, their streamed copies and their mild
degradations, never the strengths judged here) and the other sources of the modality are measured:
leave one source out. ``--derive`` prints the derived limits, with their statistics, instead of
measuring; the fundus defaults in ``firmware_app/config.py`` are its output on both fundus sources.
The blur defects are not applied to the sources stored at 256 pixels or less (``TOO_FINE``).

    .venv/bin/python bench/generalisation.py [--limit 300] [--degraded 30] [--source NAME]... [--config FILE]
    .venv/bin/python bench/generalisation.py --fit-on dr-600        # derived on dr-600, measured on APTOS
    .venv/bin/python bench/generalisation.py --fit-on dr-600 --fit-on aptos2019-224 --derive   # the defaults
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import time
import tomllib
from collections import Counter

import numpy as np
from quality_data import DEFECTS, SOURCES, Source

from firmware_app.app import build_pipeline
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.config import Config, QualityConfig, load_config
from firmware_app.events import setup_logging
from firmware_app.inference.triage import Outcome
from firmware_app.quality.fit import derive_limits, profile_toml
from firmware_app.quality.gate import PHYSICAL, RULES, QualityGate, Speed
from firmware_app.quality.resample import shrink
from firmware_app.quality.verdict import Rule
from models.build.metrics import ClusterBootstrap, Statistic, auc, sens_spec
from tests.degradations import jpeg_at

CLEAR = (2, 3)
# Blur defects are scaled to the photo (radius 4 and 8 per 1000 pixels): on the sources stored at
# 256 pixels or less (APTOS 224 squashed, HAM10000 200x150, ISIC 2017 256) that is one or two pixels,
# finer than such a photo can show (see the data's README): they are not applied there.
TOO_FINE = {name: ("defocus", "motion") for name in ("aptos2019-224", "ham10000", "isic2017-train", "isic2017-test")}


@dataclasses.dataclass
class Tally:
    rejected: list[bool] = dataclasses.field(default_factory=list)
    positive: list[bool] = dataclasses.field(default_factory=list)
    scores: list[float] = dataclasses.field(default_factory=list)
    device_refer: list[bool] = dataclasses.field(default_factory=list)
    luminance: list[float] = dataclasses.field(default_factory=list)
    reasons: Counter = dataclasses.field(default_factory=Counter)
    # The reasons the referable (or melanoma) photos among them were refused for: what a gap is made of.
    positive_reasons: Counter = dataclasses.field(default_factory=Counter)
    # Each photo's reasons (none when it passed), in the order of ``luminance``: which reasons a
    # tertile's reject rate is made of.
    photo_reasons: list[tuple[str, ...]] = dataclasses.field(default_factory=list)
    # Each photo's patient or lesion (``Source.photos``): the intervals resample them whole.
    groups: list[str] = dataclasses.field(default_factory=list)
    degraded: list[bool] = dataclasses.field(default_factory=list)
    degraded_right: list[bool] = dataclasses.field(default_factory=list)
    right_by_defect: dict[str, list[bool]] = dataclasses.field(default_factory=dict)
    # Refused for the right reason and no other: the nurse told the defect's one fix (a darkened
    # copy told blurred as well was told to refocus a camera in focus).
    alone_by_defect: dict[str, list[bool]] = dataclasses.field(default_factory=dict)
    threshold: float = float("nan")


def field_luminance(rgb: np.ndarray) -> float:
    """The photo's pigmentation measure: mean luminance of its lit pixels (the fundus field)."""
    small = shrink(rgb, 128).astype(np.float32)
    lit = small.max(axis=2) >= 24
    luma = small @ np.array([0.299, 0.587, 0.114], np.float32)
    return float(luma[lit].mean()) if lit.any() else 0.0


def _rate(values: list[bool]) -> str:
    return f"{np.mean(values):.1%}" if values else "-"


def _in_training(card: dict, source: Source) -> bool:
    return source.card_name in {entry["name"] for entry in card["data"]["training"]}


def measure(source: Source, config: Config, limit: int, degraded_count: int) -> tuple[Tally, bool]:
    research = dataclasses.replace(config.quality, research_run=True)
    pipeline = build_pipeline(dataclasses.replace(config, quality=research))
    gate = QualityGate(config.quality)
    tally = Tally()
    listing = source.photos(limit)
    degrade_every = max(1, len(listing) // max(1, degraded_count))
    defects = {d: v for d, v in DEFECTS[source.modality].items() if d not in TOO_FINE.get(source.name, ())}
    for index, (path, positive, group) in enumerate(listing):
        try:
            frame = read_frame(path)
        except ImageError:
            continue
        result = pipeline.screen(frame, source.modality)
        triage = result.triage
        tally.rejected.append(triage.outcome is Outcome.UNGRADABLE)
        tally.positive.append(positive)
        tally.groups.append(group)
        tally.device_refer.append(triage.outcome is not Outcome.NO_REFER)
        tally.scores.append(triage.score if triage.score is not None else float("nan"))
        if triage.operating_point is not None:
            tally.threshold = triage.operating_point.threshold
        tally.luminance.append(field_luminance(frame.pixels))
        tally.photo_reasons.append(() if result.quality.passed else result.quality.reasons)
        if not result.quality.passed:
            tally.reasons.update(result.quality.reasons)
            if positive:
                tally.positive_reasons.update(result.quality.reasons)
        if index % degrade_every == 0 and index // degrade_every < degraded_count:
            for defect, (degrade, reasons) in defects.items():
                for strength in CLEAR:
                    report = gate.check(Frame(degrade(frame.pixels, strength), "degraded"), source.modality)
                    right = not report.passed and bool(set(reasons) & set(report.reasons))
                    tally.degraded.append(not report.passed)
                    tally.degraded_right.append(right)
                    tally.right_by_defect.setdefault(defect, []).append(right)
                    tally.alone_by_defect.setdefault(defect, []).append(right and set(report.reasons) <= set(reasons))
    model_id = getattr(config.models, source.modality)
    card = json.loads((config.models.directory / model_id / "card.json").read_text(encoding="utf-8"))
    return tally, _in_training(card, source)


# A UVC camera streams MJPEG at this quality or better: its preview frames of a good photo are good
# photos too, for the preview's focus and for the compression limits (which keeps those off visible
# block borders alone). The full check's focus limits are not set by them: a still capture is not
# compressed that hard, and its focus decides the triage.
STREAMED_QUALITY = 50
STREAMED_REASONS = ("compressed",)
# The preview's own focus limit, derived by the same rule from the preview check's measures.
PREVIEW_RULES = (Rule("blurred", "sharpness", "preview_min_sharpness", 0.0),)


@dataclasses.dataclass
class FittingSet:
    """What ``firmware_app.quality.fit.derive_limits`` needs, measured at both of the gate's speeds:
    the good photos' measures (the graded photos; their streamed copies apart, ``STREAMED_REASONS``)
    and, by reason, those of the mild (strength 1) degradations that should be refused for it."""

    good: list[dict[str, float]] = dataclasses.field(default_factory=list)
    streamed: list[dict[str, float]] = dataclasses.field(default_factory=list)
    mild: dict[str, list[dict[str, float]]] = dataclasses.field(default_factory=dict)
    preview_good: list[dict[str, float]] = dataclasses.field(default_factory=list)
    preview_mild: dict[str, list[dict[str, float]]] = dataclasses.field(default_factory=dict)
    skipped: int = 0

    def add(
        self, measured: tuple[dict[str, float], ...], reasons: tuple[str, ...] = (), streamed: bool = False
    ) -> None:
        full, preview = measured
        if not reasons:
            (self.streamed if streamed else self.good).append(full)
            self.preview_good.append(preview)
        for reason in reasons:
            self.mild.setdefault(reason, []).append(full)
            self.preview_mild.setdefault(reason, []).append(preview)


def _unshown(source: Source) -> set[str]:
    """The measures a source's photos are too small to show (``TOO_FINE``): those of the rules whose
    reason a defect left out there would give (the blur rules on APTOS's 224 pixels)."""
    reasons = {reason for defect in TOO_FINE.get(source.name, ()) for reason in DEFECTS[source.modality][defect][1]}
    return {rule.measure for rule in (*RULES[source.modality], *PREVIEW_RULES) if rule.reason in reasons}


def _measured(rgb: np.ndarray, source: Source, quality: QualityConfig) -> tuple[dict[str, float], ...]:
    """The photo's measures at the full check's and the preview's speed, without the ``_unshown``."""
    unshown = _unshown(source)
    gate = QualityGate(quality)
    return tuple(
        {name: value for name, value in gate.measures(rgb, source.modality, speed).items() if name not in unshown}
        for speed in (Speed.FULL, Speed.PREVIEW)
    )


def fitting_set(sources: list[Source], quality: QualityConfig, limit: int | None, degraded_count: int) -> FittingSet:
    """The sources' photos measured for fitting: every photo and a streamed copy of it, and for the
    photos the bench degrades (``measure``) each defect at strength 1 (never 2 or 3, which the bench
    judges). A source too small to show a defect (``TOO_FINE``) neither gets it nor sets the limits
    of its measures (the data's README: APTOS's 224 pixels are not for sharpness limits)."""
    fitting = FittingSet()
    for source in sources:
        listing = source.listing(limit)
        degrade_every = max(1, len(listing) // max(1, degraded_count))
        defects = {d: v for d, v in DEFECTS[source.modality].items() if d not in TOO_FINE.get(source.name, ())}
        for index, (path, _) in enumerate(listing):
            try:
                rgb = read_frame(path).pixels
                fitting.add(_measured(rgb, source, quality))
            except (ImageError, ValueError):  # no field of view is a ValueError
                fitting.skipped += 1
                continue
            with contextlib.suppress(ValueError):
                fitting.add(_measured(jpeg_at(rgb, STREAMED_QUALITY), source, quality), streamed=True)
            if index % degrade_every or index // degrade_every >= degraded_count:
                continue
            for degrade, reasons in defects.values():
                with contextlib.suppress(ValueError):
                    fitting.add(_measured(degrade(rgb, 1), source, quality), reasons)
    return fitting


def derived(sources: list[Source], quality: QualityConfig, limit: int | None, degraded: int) -> str:
    """The limits ``firmware_app.quality.fit.derive_limits`` sets from the sources' photos, as the
    ``[quality]`` tables of a config, each with its statistics."""
    modality = sources[0].modality
    fitting = fitting_set(sources, quality, limit, degraded)
    defaults = quality.limits(modality)
    rules, physical = RULES[modality], PHYSICAL[modality]
    streamed_rules = [rule for rule in rules if rule.reason in STREAMED_REASONS]
    by_setting = {
        limit.setting: limit
        for limit in (
            *derive_limits(fitting.good, fitting.mild, rules, defaults, physical),
            *derive_limits(fitting.good + fitting.streamed, fitting.mild, streamed_rules, defaults, physical),
        )
    }
    limits = [*by_setting.values(), *derive_limits(fitting.preview_good, fitting.preview_mild, PREVIEW_RULES, defaults)]
    named = " + ".join(source.name for source in sources)
    return profile_toml(
        f"fitted on {named}", modality, limits, len(fitting.good), fitting.skipped, origin="bench/generalisation.py"
    )


def fitted_on(config: Config, profile: str) -> Config:
    """``config`` with the ``[quality]`` tables of ``profile`` (``derived``) in place."""
    document = tomllib.loads(profile)["quality"]
    modality = next(name for name in document if isinstance(document[name], dict))
    quality = config.quality
    limits = dataclasses.replace(quality.limits(modality), **document[modality])
    fitted = dataclasses.replace(quality, camera_model=document["camera_model"], **{modality: limits})
    return dataclasses.replace(config, quality=fitted)


# The statistics with an interval take the photos' labels (referable or melanoma) and their
# ``columns``: rejected (0/1) and the field's luminance, so that one resample draws whole photos.


def _reject_rate(_: np.ndarray, columns: np.ndarray) -> float:
    """The share of the photos the gate rejects, in points."""
    return float(columns[:, 0].mean()) * 100


def _gap(positive: np.ndarray, columns: np.ndarray) -> float:
    """Reject rate of the referable (or melanoma) photos minus that of the others, in points."""
    positive = positive.astype(bool)
    if not positive.any() or positive.all():
        return float("nan")
    return float(columns[positive, 0].mean() - columns[~positive, 0].mean()) * 100


def _tertiles(luminance: np.ndarray) -> np.ndarray:
    """Each photo's pigmentation tertile: 0 dark, 1 mid, 2 light field."""
    return np.digitize(luminance, np.percentile(luminance, (100 / 3, 200 / 3)))


def _tertile_rates(rejected: np.ndarray, luminance: np.ndarray) -> list[float]:
    """Reject rates, in points, of the photos' pigmentation tertiles (dark, mid, light field)."""
    bins = _tertiles(luminance)
    return [float(rejected[bins == b].mean()) * 100 for b in range(3)]


def _reason_counts(source: Source, tally: Tally) -> str:
    """The commonest reasons the gate gave: how many photos, of them referable (or melanoma), and
    for fundus how many in each pigmentation tertile (dark/mid/light)."""
    bins = _tertiles(np.array(tally.luminance)) if source.modality == "fundus" else None
    counted = []
    for reason, count in tally.reasons.most_common(6):
        text = f"{reason} {count} ({tally.positive_reasons[reason]})"
        if bins is not None:
            per_tertile = Counter(int(b) for b, given in zip(bins, tally.photo_reasons, strict=True) if reason in given)
            text += " " + "/".join(str(per_tertile[b]) for b in range(3))
        counted.append(text)
    return f"{source.name}: " + (", ".join(counted) or "-")


def _spread(positive: np.ndarray, columns: np.ndarray) -> float:
    """How far apart the tertiles' reject rates lie, in points (``columns``: rejected, luminance)."""
    rates = _tertile_rates(columns[:, 0].astype(bool), columns[:, 1])
    return max(rates) - min(rates)


def _interval(bootstrap: ClusterBootstrap, statistic: Statistic, positive: np.ndarray, columns: np.ndarray) -> str:
    """`` [low, high]``: the statistic's 95% interval over ``bootstrap``'s resamples of the photos,
    a patient's or a lesion's photos drawn together (dr-600's two eyes, HAM10000's several photos of
    a lesion; each photo alone where a source names neither). At 100 photos a tertile, one photo is
    one point, and a 300-photo sample's spread or gap moves by several points from one sample to the
    next."""
    interval = bootstrap.interval(statistic, positive, columns)
    return f" [{interval.low:.1f}, {interval.high:.1f}]"


def row(source: Source, tally: Tally, trained: bool) -> list[str]:
    rejected, positive = np.array(tally.rejected), np.array(tally.positive)
    columns = np.column_stack([rejected, tally.luminance]).astype(np.float64)
    # One set of resamples for every interval of the row (the same draws, drawn once).
    bootstrap = ClusterBootstrap(np.array(tally.groups), resamples=1000)
    tertiles = "-"
    if source.modality == "fundus":
        rates = _tertile_rates(rejected, np.array(tally.luminance))
        tertiles = "/".join(f"{r:.0f}%" for r in rates) + f", spread {max(rates) - min(rates):.1f}"
        tertiles += _interval(bootstrap, _spread, positive, columns)
    scores = np.array(tally.scores)
    scored = ~np.isnan(scores)
    sens, spec = sens_spec(positive[scored], scores[scored], tally.threshold)
    device = np.array(tally.device_refer)
    mark = "*" if trained else ""
    return [
        source.name,
        str(len(rejected)),
        f"{rejected.mean():.1%}" + _interval(bootstrap, _reject_rate, positive, columns),
        f"{rejected[positive].mean():.0%} / {rejected[~positive].mean():.0%}",
        f"{_gap(positive, columns):+.1f}" + _interval(bootstrap, _gap, positive, columns),
        tertiles,
        f"{_rate(tally.degraded)} ({_rate(tally.degraded_right)})",
        f"{auc(positive[scored], scores[scored]):.3f}{mark}",
        f"{sens:.2f} / {spec:.2f}{mark}",
        f"{device[positive].mean():.2f} / {(~device[~positive]).mean():.2f}{mark}",
    ]


HEADER = [
    "source",
    "photos",
    "gate rejects",
    "pos / neg rejected",
    "gap (pts)",
    "pigment tertiles",
    "degraded rejected (right reason)",
    "model AUC",
    "model sens / spec",
    "device sens / spec",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=300, help="photos per source, spread evenly (0: all)")
    parser.add_argument("--degraded", type=int, default=30, help="photos per source that are also degraded")
    parser.add_argument("--source", action="append", choices=[s.name for s in SOURCES])
    parser.add_argument("--config", help="a device config (its [quality] limits and camera_model); default: built-in")
    parser.add_argument(
        "--fit-on",
        action="append",
        choices=[s.name for s in SOURCES],
        help="derive the limits on these sources of one modality (repeatable) and measure its others",
    )
    parser.add_argument(
        "--derive", action="store_true", help="print the limits derived on the --fit-on sources, measure nothing"
    )
    args = parser.parse_args()
    config = load_config(args.config) if args.config else Config()
    setup_logging("warning")  # one line per screened photo would bury the table
    chosen = [s for s in SOURCES if (not args.source or s.name in args.source) and s.available()]
    if args.fit_on:
        fit_sources = [s for s in SOURCES if s.name in args.fit_on]
        if len({s.modality for s in fit_sources}) > 1:
            raise SystemExit("--fit-on: sources of one modality")
        profile = derived(fit_sources, config.quality, args.limit or None, args.degraded)
        if args.derive:
            print(profile, end="")
            return
        config = fitted_on(config, profile)
        chosen = [s for s in chosen if s.modality == fit_sources[0].modality and s not in fit_sources]
    elif args.derive:
        raise SystemExit("--derive needs the sources to derive on: --fit-on NAME...")
    if not chosen:
        raise SystemExit("no source of ../shared/data is present")
    started = time.perf_counter()
    rows, reasons, defects = [], [], []
    for source in chosen:
        tally, trained = measure(source, config, args.limit or None, args.degraded)
        rows.append(row(source, tally, trained))
        reasons.append(_reason_counts(source, tally))
        defects.append(
            f"{source.name}: "
            + ", ".join(f"{d} {_rate(v)} ({_rate(tally.alone_by_defect[d])})" for d, v in tally.right_by_defect.items())
        )
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    print(f"quality limits: camera_model {config.quality.camera_model!r}; {time.perf_counter() - started:.0f} s")
    for line in [HEADER, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |")
    print("* the model's card lists this source among its training data: not an external test")
    print("pos/neg: referable vs not (fundus), melanoma vs other (dermoscopy); tertiles: dark / mid / light field")
    print(
        "gate rejects by reason (in brackets, of them referable or melanoma; fundus: then per tertile, "
        "dark/mid/light): " + "; ".join(reasons)
    )
    print(
        "degraded (strengths 2, 3) rejected with the right reason (in brackets, with no other), by defect:\n  "
        + "\n  ".join(defects)
    )


if __name__ == "__main__":
    main()
