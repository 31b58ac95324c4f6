"""Is a frame screened as dermoscopy a retina? A visit left on "skin" with a fundus camera attached.

The dermoscopy gate judges a lesion on skin; a retina screened as one had passed it 41-62% of the
time, and the melanoma model scored it (``bench/wrong_modality.py``), and ``edgescreen quality fit
--modality dermoscopy`` fitted a dermatoscope's limits to fundus photos. Two things a retina shows
whatever the fundus camera, which together a dermatoscope's photo of skin does not:

- it is imaged through the camera's round aperture, which leaves the frame's corners dark (the
  fundus gate's own cue, ``fundus._NO_APERTURE_CORNERS``, read here on the lit field the lesion's
  segmentation found): every fundus photo of both sources lights none of them, and a frame lighting
  three or more was not taken through such an aperture;
- its light is the choroid's blood seen through the retina: red, with next to no blue (the lit
  part's mean blue over its mean red, ``colour.colour_measures``), where skin under a
  dermatoscope's white light reflects blue as well. A dermatoscope with a round field of its own
  leaves the corners dark too (ISIC UDA-1's), so the colour decides.

A fundus camera's white balance sets how much blue a retina shows: some APTOS cameras' cyan
balance gives a retina skin's blue, and such photos are not caught (``bench/wrong_modality.py``
gives the share per source). The limit is declared, not fitted per device (``quality fit`` would fit
it to whatever it is given, a retina included), and set from the photos in ``BLUE_OVER_RED_BELOW``.
"""

from __future__ import annotations

import numpy as np

from firmware_app.inference.preprocess import lit_corners

REASON = "wrong_modality"
# A frame whose lit field reaches this many of its corners was not imaged through a fundus camera's
# round aperture (as ``fundus._NO_APERTURE_CORNERS``; two are a field pushed to one side).
_APERTURE_CORNERS = 3
# Mean blue over mean red of the lit part below which a frame is a retina's light, not skin's: under
# every dermoscopy photo's of every source, and under a limit fitted on any one of them
# (``bench/modality_limit.py`` prints both).
BLUE_OVER_RED_BELOW = 0.25


def blue_over_red(colour: dict[str, float]) -> float:
    """The lit part's mean blue over its mean red, from ``colour.colour_measures``."""
    return colour["blue_share"] / colour["red_share"] if colour["red_share"] > 0 else float("inf")


def reads_as_retina(ratio: float, corners: int, below: float = BLUE_OVER_RED_BELOW) -> bool:
    """Whether a frame's ``blue_over_red`` and ``lit_corners`` are a retina's: lit into fewer than
    three corners and less blue than ``below``. The limit is a parameter so that
    ``bench/modality_limit.py`` judges limits fitted on one source by the gate's own rule."""
    return corners < _APERTURE_CORNERS and ratio < below


def retina_on_skin_visit(colour: dict[str, float] | None, field: np.ndarray) -> dict[str, float] | None:
    """The measures that show a frame screened as dermoscopy is a retina (its ``blue_over_red`` and
    the ``lit_corners`` of its lit ``field``, the segmentation's mask), or ``None`` when it may be
    skin: lit into three or more corners, blue enough, or too little of it a picture to tell its
    colour (``colour`` is ``None``; the gate judges that by its light)."""
    if colour is None:
        return None
    corners = lit_corners(field)
    ratio = blue_over_red(colour)
    if not reads_as_retina(ratio, corners):
        return None
    return {"blue_over_red": ratio, "lit_corners": float(corners)}
