"""Write ``skin_tone`` into ``models/melanoma/card.json``: the ITA categories of its training images.

The device says, with each dermoscopy result, whether the skin around the lesion is of a tone the
model was trained on (``firmware_app.inference.skin_tone``); that needs the card to say which tones
its training images had. This measures them exactly as the device does (``lesion_and_skin_ring``,
then ITA on the ring), on the same training images the model was built from (every development
source's training part, from the recipe's own ``split_parts``; run it with the training venv), and
counts each category. A category counts as trained on when at
least ``MIN_SHARE`` of the training images have it: a model learns little from a small minority, and
the safe mistake is to say "outside" (on these uncalibrated photos, some darker readings may be
shadowed or vignetted light skin rather than dark skin). Only the ``skin_tone`` section of the card changes;
the ``.tflite`` and its sha256 do not. The images are uncalibrated photos from the data set's own
cameras, so the categories are an estimate, and the card says so.

    PYTHONPATH=. ../venv-train/bin/python -m models.build.skin_tones [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from firmware_app.inference.skin_tone import CARD_FIELD, CATEGORY_NAMES, ita_category, ita_degrees
from firmware_app.lesion_measurements import lesion_and_skin_ring
from firmware_app.quality.lesion import WORK_SIZE
from firmware_app.quality.resample import shrink
from models.build.data import DEFAULT_DATA_DIR, REPO_ROOT, read_rgb
from models.build.melanoma import RECIPE
from models.build.sources import split_parts

CARD = REPO_ROOT / "models" / "melanoma" / "card.json"
MIN_SHARE = 0.05


def category_counts(paths: list[Path]) -> Counter[str]:
    """ITA category of each image's perilesional skin; "not_measured" when too little skin shows."""
    counts: Counter[str] = Counter()
    for path in tqdm(paths, desc="skin tone", unit="image"):
        _, ring = lesion_and_skin_ring(small := shrink(read_rgb(path), WORK_SIZE))
        try:
            counts[ita_category(ita_degrees(small, ring))] += 1
        except ValueError:
            counts["not_measured"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    document = json.loads(CARD.read_text(encoding="utf-8"))
    expected = {entry["name"]: entry["images"] for entry in document["data"]["training"]}
    paths: list[Path] = []
    for dataset in RECIPE.development:
        samples = dataset.load(args.data_dir)
        train = [samples[i] for i in split_parts(RECIPE, dataset, samples)["train"]]
        if len(train) != (stated := expected.get(dataset.name)):
            raise SystemExit(f"{dataset.name}: {len(train)} training images, the card says {stated}: not its split")
        paths += [sample.path for sample in train]
    counts = category_counts(paths)
    document[CARD_FIELD[0]] = {
        CARD_FIELD[1]: [name for name in CATEGORY_NAMES if counts[name] >= MIN_SHARE * len(paths)],
        "ita_category_counts": {name: counts[name] for name in (*CATEGORY_NAMES, "not_measured")},
        "training_images": len(paths),
        "method": "ITA of the perilesional skin ring, as on the device, on the training images of every source "
        f"(uncalibrated photos); a category is listed when at least {MIN_SHARE:.0%} of the training images have it",
        "script": "models/build/skin_tones.py",
    }
    CARD.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(document[CARD_FIELD[0]], indent=2))


if __name__ == "__main__":
    main()
