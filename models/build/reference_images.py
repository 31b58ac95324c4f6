"""Draw the reference images of the signed bundles from the bundled samples, deterministically.

    PYTHONPATH=. .venv/bin/python -m models.build.reference_images

A bundle's reference images are re-run by every device before it trusts the model
(``firmware_app.bundles.manifest``): each must score, on the device's runtime, what the publisher
signed. That check only catches something where a small change of the model's output moves the
score: on a sigmoid's flat ends (the healthy sample retina scores 3e-7) any runtime, any
preprocessing and many a tampered model give "about 0". So each reference is an image of the model's
own modality whose score lies on the steep part, near the card's operating thresholds, where a
wrong runtime or preprocessing would also move a verdict.

The only images the project may ship are its own (``firmware_app/samples``: a CC0 retina and a
synthetic naevus; no data set's photo may be copied into the repository), and both score far from
any threshold. So the references are the samples with findings drawn on, blended in at a strength
chosen so the committed model scores them near a threshold: dark-red dots (haemorrhages) and pale
yellow ones (exudates) on the retina; globules at the rim, a black blotch and blue-grey areas on the
naevus, cropped to the lesion as a dermatoscope frames it. They are test patterns for the runtime,
not examples of disease. Same samples, same OpenCV, same bytes; the strengths below were chosen on
the committed models (what counts is the score each bundle signs, measured again when it is
signed). Run this after a model changes, check the printed scores against the card's thresholds
(move a strength if one is far off), then sign the bundles again (``edgescreen models sign``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from firmware_app.bundles.manifest import REFERENCE_DIR
from firmware_app.capture.image_file import read_frame
from firmware_app.config import SAMPLES_DIR
from firmware_app.inference.model import TriageModel

MODELS_DIR = Path(__file__).resolve().parents[1]
JPEG_QUALITY = 92
HAEMORRHAGE = (110, 20, 15)
EXUDATE = (235, 215, 120)
GLOBULE = (40, 25, 30)
BLOTCH = (25, 15, 15)
BLUE_GREY = (100, 110, 140)


def _blend(plain: np.ndarray, drawn: np.ndarray, strength: float) -> np.ndarray:
    """``drawn`` over ``plain`` at ``strength`` in [0, 1]: the one knob that places a score."""
    mixed = (1.0 - strength) * plain.astype(np.float32) + strength * drawn.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def _dots(
    rgb: np.ndarray,
    centre: tuple[float, float],
    radii: tuple[float, float],
    colour: tuple[int, int, int],
    count: int,
    sizes: tuple[int, int],
    seed: int,
) -> np.ndarray:
    """``count`` filled dots of ``colour`` at random angles and at ``radii`` (pixels) from ``centre``."""
    rng = np.random.default_rng(seed)
    out = rgb.copy()
    for _ in range(count):
        angle, distance = rng.uniform(0.0, 2.0 * np.pi), rng.uniform(*radii)
        x, y = centre[0] + distance * np.cos(angle), centre[1] + distance * np.sin(angle)
        cv2.circle(out, (int(x), int(y)), int(rng.integers(*sizes)), colour, -1, cv2.LINE_AA)
    return out


def retina_with_lesions(strength: float, size: int = 512) -> np.ndarray:
    """The sample retina at ``size`` px with 30 haemorrhages and 20 exudates around the macula and disc."""
    rgb = cv2.resize(read_frame(SAMPLES_DIR / "fundus-retina.jpg").pixels, (size, size), interpolation=cv2.INTER_AREA)
    centre = (size / 2, size / 2)
    drawn = _dots(rgb, centre, (0.05 * size, 0.38 * size), HAEMORRHAGE, 30, (2, 7), seed=7)
    drawn = _dots(drawn, centre, (0.05 * size, 0.30 * size), EXUDATE, 20, (2, 6), seed=8)
    return _blend(rgb, drawn, strength)


def naevus_with_atypia(strength: float) -> np.ndarray:
    """The synthetic naevus with globules at its rim, black blotches and blue-grey areas, cropped to
    the lesion with a tenth of its radius around it, as a dermatoscope frames a lesion."""
    rgb = read_frame(SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg").pixels
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ys, xs = np.nonzero(grey < np.median(grey) - 30)  # the pigment: well darker than the skin
    centre, radius = (float(xs.mean()), float(ys.mean())), float(np.sqrt(len(ys) / np.pi))
    drawn = _dots(rgb, centre, (0.8 * radius, 1.3 * radius), GLOBULE, 30, (4, 12), seed=3)
    drawn = _dots(drawn, centre, (0.0, 0.6 * radius), BLOTCH, 3, (20, 40), seed=6)
    drawn = _dots(drawn, centre, (0.0, 0.6 * radius), BLUE_GREY, 6, (15, 35), seed=9)
    drawn = cv2.GaussianBlur(drawn, (0, 0), 1.5)  # the drawn edges as soft as a photo's
    half = int(1.1 * radius)
    x, y = int(centre[0]), int(centre[1])
    box = (slice(max(y - half, 0), y + half), slice(max(x - half, 0), x + half))
    return _blend(rgb[box], drawn[box], strength)


@dataclass(frozen=True)
class Reference:
    """One reference image: the bundle it pins, its file name, and how it is drawn."""

    model_id: str
    name: str
    draw: Callable[[float], np.ndarray]
    strength: float


REFERENCES = (
    Reference("dr-referable", "fundus-retina-lesions-22.jpg", retina_with_lesions, 0.22),
    Reference("dr-referable", "fundus-retina-lesions-25.jpg", retina_with_lesions, 0.25),
    Reference("dr-referable", "fundus-retina-lesions-27.jpg", retina_with_lesions, 0.27),
    Reference("melanoma", "dermoscopy-naevus-atypia-25.jpg", naevus_with_atypia, 0.25),
    Reference("melanoma", "dermoscopy-naevus-atypia-50.jpg", naevus_with_atypia, 0.50),
    Reference("melanoma", "dermoscopy-naevus-atypia-100.jpg", naevus_with_atypia, 1.00),
)


def write_references(models_dir: Path) -> None:
    """Replace each bundle's ``reference/`` folder with its drawn images, and print their scores."""
    for model_id in sorted({reference.model_id for reference in REFERENCES}):
        folder = models_dir / model_id / REFERENCE_DIR
        for old in folder.glob("*"):
            old.unlink()
        folder.mkdir(exist_ok=True)
        model = TriageModel(models_dir / model_id, threads=2)
        thresholds = {name: point.threshold for name, point in model.card.operating_points.items()}
        print(f"{model_id} (thresholds {thresholds})")
        for reference in (r for r in REFERENCES if r.model_id == model_id):
            rgb = reference.draw(reference.strength)
            path = folder / reference.name
            cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            print(f"  {path.relative_to(models_dir)}: scores {model.predict(read_frame(path).pixels).score:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    write_references(parser.parse_args().models_dir)


if __name__ == "__main__":
    main()
