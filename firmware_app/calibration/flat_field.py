"""Flat field: undo vignetting and uneven illumination, measured on a few frames of a uniform target.

Light falls off towards the corners of a small lens, and a dermatoscope's ring light or a fundus
camera's illumination is never perfectly even, so the same lesion would look darker at the edge of
the frame than at its centre. The fall-off is multiplicative in linear light, so it is measured and
undone there, per channel (the fall-off differs by wavelength). The gains are kept on a coarse grid:
illumination varies slowly, and the grid fits any frame size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import cv2
import numpy as np

from firmware_app.calibration.errors import TargetNotFound
from firmware_app.calibration.profile import KEPT_MAPS_MAX_PIXELS, FlatField
from firmware_app.colour import srgb8_to_linear

GRID_ROWS, GRID_COLUMNS = 18, 24  # gains at evenly spaced nodes, the outer ones on the frame's edges
# The illumination is modelled as a smooth polynomial surface in x and y of this degree: enough for
# vignetting and an off-centre light, too stiff to follow the target's texture or a shadow.
_DEGREE = 6
_FIT_SIZE = (128, 96)
# Refusals: a target this dark or this clipped tells nothing; more fall-off than this is a target
# that does not fill the frame or is lit from the side, not vignetting.
_MIN_LEVEL, _MAX_CLIPPED_FRACTION = 0.03, 0.01
_MAX_GAIN = 4.0
# Relative texture left after removing the smooth illumination: above this the target is not uniform.
_MAX_TEXTURE = 0.05
# Relative difference between a frame and the typical (median) frame: above this it is not the same shot.
_MAX_FRAME_DIFFERENCE = 0.06


def _terms(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Monomials u^i v^j with i + j <= degree, for coordinates in [-1, 1]."""
    return np.stack([u**i * v**j for i in range(_DEGREE + 1) for j in range(_DEGREE + 1 - i)], axis=-1)


def _illumination_at_nodes(mean_linear: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit the smooth surface per channel; return it at the grid nodes and the target's texture."""
    small = cv2.resize(mean_linear, _FIT_SIZE, interpolation=cv2.INTER_AREA).astype(np.float64)
    height, width = small.shape[:2]
    v, u = np.mgrid[0:height, 0:width]
    # Pixel centres of the small image in the [-1, 1] frame coordinates the nodes use.
    terms = _terms((2 * u + 1) / width - 1, (2 * v + 1) / height - 1).reshape(-1, _DEGREE_TERMS)
    coefficients, *_ = np.linalg.lstsq(terms, small.reshape(-1, 3), rcond=None)
    # Relative to the fitted light, floored where it falls below what a gain may make up (_MAX_GAIN):
    # a patterned target's fit dips to zero and below between its dark and bright parts, and divided
    # by that a colour chart read "texture 433948%". A target the gains can correct is not floored.
    fitted = terms @ coefficients
    texture = float(np.std(small.reshape(-1, 3) / np.maximum(fitted, fitted.max(axis=0) / _MAX_GAIN) - 1))
    node_v, node_u = np.meshgrid(np.linspace(-1, 1, GRID_ROWS), np.linspace(-1, 1, GRID_COLUMNS), indexing="ij")
    return _terms(node_u, node_v) @ coefficients, texture


_DEGREE_TERMS = (_DEGREE + 1) * (_DEGREE + 2) // 2


def measure_flat_field(frames: Sequence[np.ndarray]) -> FlatField:
    """Gains from frames (8-bit RGB) of one uniform, evenly lit target; ``TargetNotFound`` otherwise."""
    if not frames:
        raise TargetNotFound("calibrate.target.no_frames")
    if len({f.shape for f in frames}) != 1:
        raise TargetNotFound("calibrate.target.sizes_differ")
    clipped = max(float(np.mean(f.max(axis=2) >= 254)) for f in frames)
    if clipped > _MAX_CLIPPED_FRACTION:
        raise TargetNotFound("calibrate.target.overexposed", percent=round(100 * clipped))
    linear = [srgb8_to_linear(f) for f in frames]
    mean = np.mean(linear, axis=0)
    if float(mean.mean()) < _MIN_LEVEL:
        raise TargetNotFound("calibrate.target.too_dark")
    typical = np.median(linear, axis=0) if len(linear) > 2 else mean  # the odd one out stands out
    for index, frame in enumerate(linear):
        difference = float(np.abs(frame - typical).mean() / typical.mean())
        if difference > _MAX_FRAME_DIFFERENCE:
            raise TargetNotFound("calibrate.target.moved", frame=index + 1, percent=round(100 * difference))
    nodes, texture = _illumination_at_nodes(mean)
    if texture > _MAX_TEXTURE or nodes.min() <= 0:
        raise TargetNotFound("calibrate.target.not_uniform", percent=round(100 * texture))
    gains = nodes.max(axis=(0, 1)) / nodes
    if float(gains.max()) > _MAX_GAIN:
        raise TargetNotFound("calibrate.target.edges_dark", percent=round(100 / float(gains.max())))
    flat = FlatField(gains=gains, frames=len(frames), residual_nonuniformity=0.0)
    corrected = cv2.resize(mean * flat_field_gains(flat, mean.shape[1], mean.shape[0]), _FIT_SIZE)
    return FlatField(gains=gains, frames=len(frames), residual_nonuniformity=spatial_nonuniformity(corrected))


def spatial_nonuniformity(image: np.ndarray) -> float:
    """How uneven an image of a uniform target still is across the frame: each channel's spread
    (smoothed over sensor noise) relative to that channel's own mean, the worst channel. A card's
    colour cast makes the channels differ from each other, not across the frame: it is not counted."""
    smooth = cv2.GaussianBlur(image, (0, 0), 4).reshape(-1, image.shape[2])
    return float(np.max(np.std(smooth, axis=0) / np.maximum(np.mean(smooth, axis=0), 1e-9)))


def _interpolator(grid: np.ndarray, width: int, height: int) -> Callable[[slice], np.ndarray]:
    """The node gains interpolated to every pixel of a band of rows of a frame ``width`` x
    ``height``, for each band in turn.

    Nodes sit on the frame's edges: pixel centre x maps to node coordinate x * (columns-1) /
    (width-1). Each pixel's gain hangs on its coordinates alone, so a band's are the whole map's."""
    node_rows, node_columns = grid.shape[:2]
    xs = np.linspace(0, node_columns - 1, width, dtype=np.float32)
    ys = np.linspace(0, node_rows - 1, height, dtype=np.float32)

    def band(rows: slice) -> np.ndarray:
        band_ys = ys[rows]
        map_x = np.ascontiguousarray(np.broadcast_to(xs, (band_ys.size, width)))
        map_y = np.ascontiguousarray(np.broadcast_to(band_ys[:, None], (band_ys.size, width)))
        return cv2.remap(grid, map_x, map_y, cv2.INTER_LINEAR)

    return band


@lru_cache(maxsize=4)
def _gain_map(gains: bytes, shape: tuple[int, ...], size: tuple[int, int]) -> np.ndarray:
    """The gains of every pixel of a frame of ``size`` (width, height); cached."""
    return _interpolator(np.frombuffer(gains, np.float32).reshape(shape), *size)(slice(None))


def band_gains(flat: FlatField, width: int, height: int) -> Callable[[slice], np.ndarray]:
    """The per-pixel gains for linear light of a band of rows of a frame ``width`` x ``height``
    ((rows, width, 3)), for each band in turn: read off the frame's map, kept for the next frame of
    its size, or interpolated band by band where that map would be too large to keep
    (``profile.KEPT_MAPS_MAX_PIXELS``)."""
    gains = flat.gains.astype(np.float32)
    if width * height <= KEPT_MAPS_MAX_PIXELS:
        return _gain_map(gains.tobytes(), gains.shape, (width, height)).__getitem__
    return _interpolator(gains, width, height)


def flat_field_gains(flat: FlatField, width: int, height: int) -> np.ndarray:
    """Per-pixel gains (height, width, 3) for linear light."""
    return band_gains(flat, width, height)(slice(None))
