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

    .venv/bin/python bench/wrong_modality.py [--limit 300] [--source NAME]...
"""

from __future__ import annotations

import argparse
from collections import Counter

from quality_data import SOURCES

from firmware_app.app import build_pipeline
from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.config import Config
from firmware_app.events import setup_logging
from firmware_app.inference.triage import Outcome
from firmware_app.quality.modality import REASON as WRONG_MODALITY

OTHER = {"fundus": "dermoscopy", "dermoscopy": "fundus"}
# The reason each gate gives a photo of the other modality: skin is no retina in view
# (``fundus._NO_APERTURE_CORNERS``), a retina is the wrong modality (``quality.modality``).
WRONG_KIND = {"fundus": "no_field_of_view", "dermoscopy": WRONG_MODALITY}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300, help="photos per source, spread evenly (0: all)")
    parser.add_argument("--source", action="append", choices=[s.name for s in SOURCES])
    args = parser.parse_args()
    setup_logging("warning")
    pipeline = build_pipeline(Config())
    print("source         screened as  photos  refused  as wrong kind  let through  of them no_refer")
    for source in SOURCES:
        if (args.source and source.name not in args.source) or not source.available():
            continue
        modality = OTHER[source.modality]
        outcomes: Counter = Counter()
        reasons: Counter = Counter()
        wrong_kind = 0
        for path, _, _ in source.photos(args.limit or None):
            try:
                result = pipeline.screen(read_frame(path), modality)
            except ImageError:
                continue
            outcomes[result.triage.outcome] += 1
            if result.triage.outcome is Outcome.UNGRADABLE:
                reasons.update(result.quality.reasons)
                wrong_kind += WRONG_KIND[modality] in result.quality.reasons
        total = sum(outcomes.values())
        passed = total - outcomes[Outcome.UNGRADABLE]
        print(
            f"{source.name:<14} {modality:<12} {total:>6}  {outcomes[Outcome.UNGRADABLE] / total:>7.1%}  "
            f"{wrong_kind / total:>12.1%}  {passed / total:>11.1%}  {outcomes[Outcome.NO_REFER] / total:>16.1%}"
        )
        print(f"    refused for: {', '.join(f'{reason} {count}' for reason, count in reasons.most_common())}")


if __name__ == "__main__":
    main()
