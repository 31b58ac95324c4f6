"""A visit set to the wrong modality: every source's photos screened as the other modality.

A nurse who leaves a visit on "eyes" with a dermatoscope in her hand (or the reverse) sends its
photos to the other gate and, if that gate lets them through, to the other model, whose score means
nothing for them. Per source of ``../shared/data``, through the device's own pipeline
(``read_frame``, calibration, the full quality check, the committed models), this prints how many
photos the other modality's gate refuses (so they are never triaged), how many it refuses as the
wrong kind of photo (``WRONG_KIND``: no retina in view on a visit set to eyes, a retina on a visit set
to skin), how many it lets through, and of those how many the other model calls ``no_refer``: the
photos a mistaken visit would record as needing no referral. The gate's reasons for the refusals
follow.

Last, whether colour could tell the skin the fundus gate lets through from a retina: the blue-to-red
the fundus gate's analysis reads on every photo (``modality.blue_over_red`` of the colour check's
measures; a retina's read on an analysis of its own as fundus), the highest of each fundus source's,
and of each dermoscopy source's photos let through those bluer than every retina: what a fundus
limit set above the retinas' highest would refuse, at most. ``--samples`` runs on the bundled
samples instead (one retina, one rendered naevus).

    .venv/bin/python bench/wrong_modality.py [--limit 300] [--source NAME]... [--samples]
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from dataclasses import dataclass, field

from quality_data import chosen, source_arguments

from firmware_app.app import build_pipeline
from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.config import Config
from firmware_app.events import setup_logging
from firmware_app.frame_analysis import FrameAnalysis
from firmware_app.inference.triage import Outcome
from firmware_app.quality.colour import colour_measures
from firmware_app.quality.gate import QualityGate
from firmware_app.quality.modality import REASON as WRONG_MODALITY
from firmware_app.quality.modality import blue_over_red

OTHER = {"fundus": "dermoscopy", "dermoscopy": "fundus"}
# The reason each gate gives a photo of the other modality: skin is no retina in view
# (``fundus._NO_APERTURE_CORNERS``), a retina is the wrong modality (``quality.modality``).
WRONG_KIND = {"fundus": "no_field_of_view", "dermoscopy": WRONG_MODALITY}


@dataclass
class Tally:
    """One source screened as the other modality."""

    modality: str
    outcomes: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    wrong_kind: int = 0
    # Each photo's blue-to-red as the fundus gate reads it (``nan``: too little of it a picture to
    # tell its colour), and whether the screening let it through.
    blue_over_red: list[tuple[float, bool]] = field(default_factory=list)


def read_blue_over_red(analysis: FrameAnalysis) -> float:
    """The lit part's mean blue over its mean red, as the gate's colour check reads it."""
    colour = colour_measures(analysis.thumbnail)
    return blue_over_red(colour) if colour is not None else math.nan


def _highest(tally: Tally) -> float:
    return max((ratio for ratio, _ in tally.blue_over_red if not math.isnan(ratio)), default=math.nan)


def colour_apart(tallies: dict[str, Tally]) -> None:
    """The retinas' highest blue-to-red, and the skin let through by the fundus gate bluer still."""
    retinas = {name: _highest(tally) for name, tally in tallies.items() if tally.modality == "dermoscopy"}
    print("\nblue-to-red on the fundus gate's analysis: highest of a retina; skin let through, bluer than every retina")
    for name, highest in retinas.items():
        print(f"{name:<14} highest {highest:.3f}")
    limit = max(retinas.values(), default=math.nan)
    for name, tally in tallies.items():
        if tally.modality == "fundus":
            through = [ratio for ratio, passed in tally.blue_over_red if passed]
            bluer = sum(ratio > limit for ratio in through)
            share = f"{bluer / len(through):.1%}" if through else "-"
            print(f"{name:<14} over {limit:.3f}: {bluer}/{len(through)} let through, {share}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source_arguments(parser, limit=300)
    args = parser.parse_args()
    setup_logging("warning")
    config = Config()
    pipeline = build_pipeline(config)
    # A retina, screened here as dermoscopy, is read as the fundus gate would read it.
    fundus_gate = QualityGate(config.quality)
    print("source         screened as  photos  refused  as wrong kind  let through  of them no_refer")
    tallies: dict[str, Tally] = {}
    for source in chosen(args):
        tally = tallies[source.name] = Tally(OTHER[source.modality])
        for path in source.paths:
            try:
                checked = pipeline.check_burst([read_frame(path)], tally.modality)
            except ImageError:
                continue
            result = pipeline.screen_checked(checked)
            let_through = result.triage.outcome is not Outcome.UNGRADABLE
            tally.outcomes[result.triage.outcome] += 1
            if not let_through:
                tally.reasons.update(result.quality.reasons)
                tally.wrong_kind += WRONG_KIND[tally.modality] in result.quality.reasons
            analysis = checked.analysis
            if tally.modality != "fundus":
                analysis = fundus_gate.analyse(analysis.frame, "fundus")
            tally.blue_over_red.append((read_blue_over_red(analysis), let_through))
        outcomes, total = tally.outcomes, sum(tally.outcomes.values())
        passed = total - outcomes[Outcome.UNGRADABLE]
        print(
            f"{source.name:<14} {tally.modality:<12} {total:>6}  {outcomes[Outcome.UNGRADABLE] / total:>7.1%}  "
            f"{tally.wrong_kind / total:>12.1%}  {passed / total:>11.1%}  {outcomes[Outcome.NO_REFER] / total:>16.1%}"
        )
        print(f"    refused for: {', '.join(f'{reason} {count}' for reason, count in tally.reasons.most_common())}")
    colour_apart(tallies)


if __name__ == "__main__":
    main()
