"""Is there colour in the photo, and does the red channel carry the picture?

The models were trained on colour photos only. Counting channels is not enough: a greyscale photo
saved as RGB or as grey+alpha has three or four identical channels, and a red-free (green-filtered)
fundus photo has colour but no red. Both are judged from the pixels of the lit part of the frame.
"""

from __future__ import annotations

import numpy as np

from firmware_app.quality.measures import BURNT_OUT, channel_extremes
from firmware_app.quality.resample import shrink

# Pixels whose brightest channel is below this are the black surround, not the photo; at or above
# the clip level every channel may be burnt out to white: neither tells the photo's colour.
_LIT_LEVEL, _CLIP_LEVEL = 24, BURNT_OUT
# A frame that is too uniform (a blank wall, a lens cap, a burnt-out frame) is not judged on colour:
# it is judged, and explained, by the gates' exposure and field checks instead.
_MIN_SPREAD = 3.0
# At least this share of the frame must be lit and unclipped for its colour to be judged.
_MIN_LIT_SHARE = 0.05
# Colour is a large-scale property: a 128-pixel copy shows it as well as the full frame.
_WORKING_SIZE = 128


def colour_measures(rgb: np.ndarray) -> dict[str, float] | None:
    """``colourfulness``: the lit pixels' mean spread between their brightest and darkest channel,
    over their mean brightest channel (0 for a grey photo whatever its exposure; about 0.1 to 0.9 on
    real dermoscopy and fundus photos). ``red_share``: the lit pixels' mean red over their mean
    brightest channel (red is the brightest channel of skin and retina: about 0.6 to 1 on real
    photos; 0 for a green-only red-free photo). ``blue_share``: the same of blue, which a retina all
    but lacks and skin does not (``quality.modality``). ``None`` when too little of the frame is a
    picture to tell (see ``_MIN_SPREAD`` and ``_MIN_LIT_SHARE``)."""
    small = shrink(rgb, _WORKING_SIZE)
    # OpenCV's channel maximum and minimum: numpy's along the colour axis cost several times more.
    brightest, darkest = (extreme.astype(np.float32) for extreme in channel_extremes(small))
    lit = (brightest >= _LIT_LEVEL) & (brightest < _CLIP_LEVEL)
    if lit.mean() < _MIN_LIT_SHARE or float(brightest[lit].std()) < _MIN_SPREAD:
        return None
    level = float(brightest[lit].mean())
    return {
        "colourfulness": float((brightest - darkest)[lit].mean()) / level,
        "red_share": float(small[:, :, 0][lit].mean()) / level,
        "blue_share": float(small[:, :, 2][lit].mean()) / level,
    }


def colour_defect(measured: dict[str, float] | None, min_colourfulness: float, min_red_share: float) -> str | None:
    """The reason a photo is refused for its colour, or ``None``: ``greyscale`` before ``red_free``
    (a grey photo has no red signal of its own either)."""
    if measured is None:
        return None
    if measured["colourfulness"] < min_colourfulness:
        return "greyscale"
    if measured["red_share"] < min_red_share:
        return "red_free"
    return None
