"""sRGB <-> linear light <-> CIELAB, shared by colour calibration and the skin-tone measure.

Colour maths happens in linear light (a camera's response is linear there, and a colour-correction
matrix is only meaningful there); colour *differences* are judged in CIELAB. Lab here is CIE 1976
L*a*b* relative to D65, the white of sRGB, as OpenCV computes it from sRGB values.
"""

from __future__ import annotations

import cv2
import numpy as np

# 12-bit table for encoding linear light back to 8-bit sRGB: finer than 8-bit output needs, and a
# table lookup is several times faster than the power function on a full frame.
_ENCODE_LEVELS = 4096
# Linear sRGB to CIE XYZ (D65), each row divided by the white's X, Y or Z, so white is (1, 1, 1);
# then CIELAB's constants: the cube root holds above EPSILON, a line of this slope below it.
_SRGB_TO_RELATIVE_XYZ = (
    np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
    / np.array([[0.950456], [1.0], [1.088754]])
).astype(np.float32)
_LAB_EPSILON, _LAB_SLOPE, _LAB_KAPPA = 0.008856, 7.787, 903.3


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] to linear light (IEC 61966-2-1)."""
    srgb = np.asarray(srgb, np.float32)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB values in [0, 1] (clipped to the gamut first)."""
    linear = np.clip(np.asarray(linear, np.float32), 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055).astype(np.float32)


_DECODE_8BIT = srgb_to_linear(np.arange(256) / 255.0)
_ENCODE_8BIT = np.round(linear_to_srgb(np.arange(_ENCODE_LEVELS) / (_ENCODE_LEVELS - 1)) * 255).astype(np.uint8)


def srgb8_to_linear(pixels: np.ndarray) -> np.ndarray:
    """8-bit sRGB to float32 linear light, by table lookup (OpenCV's LUT: about twice numpy's speed)."""
    return cv2.LUT(np.ascontiguousarray(pixels, np.uint8), _DECODE_8BIT)


def linear_to_srgb8(linear: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Float linear light to 8-bit sRGB (clipped), by table lookup on a 16-bit index; into ``out``
    (8-bit, ``linear``'s shape, contiguous) when given. The index is clipped into the table first,
    so the lookup need not check it (``mode="clip"``: faster, and it writes straight into ``out``)."""
    scaled = np.multiply(linear, _ENCODE_LEVELS - 1, dtype=np.float32)
    np.add(scaled, 0.5, out=scaled)
    np.clip(scaled, 0, _ENCODE_LEVELS - 1, out=scaled)
    return np.take(_ENCODE_8BIT, scaled.astype(np.uint16), out=out, mode="clip")


def srgb8_to_lab(pixels: np.ndarray) -> np.ndarray:
    """8-bit sRGB values (any shape ending in 3) to CIELAB (D65): L* in [0, 100].

    Computed here from the CIE formulas, not by OpenCV: OpenCV's first Lab conversion builds about
    7 MB of interpolation tables that then stay in the device's process for good (its values are
    that table's approximation of these, within 0.6 units), and at a lesion's working size this
    costs about the same."""
    values = np.asarray(pixels)
    return np.stack(srgb8_to_lab_planes(values), axis=-1).astype(np.float32, copy=False)


def srgb8_to_lab_planes(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``srgb8_to_lab``'s L*, a* and b*, each as a plane of its own of the pixels' shape (without
    the last axis): what a caller working on whole planes needs, without interleaving the three and
    splitting them again (half the conversion's cost at a lesion's working size). The conversion is
    computed plane by plane after the one matrix product, which gives the same numbers as on
    interleaved pixels (every one of the 2**24 8-bit colours checked). The product is taken with the
    planes as its rows (the matrix times the pixels' transpose), which the planes are read from
    without transposing the pixels' product and copying it: the same products (every 8-bit colour
    checked), at half the cost at a lesion's working size."""
    values = np.asarray(pixels)
    linear = srgb8_to_linear(values) if values.dtype == np.uint8 else srgb_to_linear(values / 255.0)
    xyz = _SRGB_TO_RELATIVE_XYZ @ linear.reshape(-1, 3).T
    # The cube root everywhere, its linear stretch only where it holds: values below EPSILON are
    # few on skin, and np.where would compute both for every value. Both are kept before the
    # cube root overwrites the product.
    dark = xyz <= _LAB_EPSILON
    stretched = xyz[dark] * np.float32(_LAB_SLOPE) + np.float32(16 / 116) if dark.any() else None
    dark_lightness = np.float32(_LAB_KAPPA) * xyz[1][dark[1]] if dark[1].any() else None
    # Each step writes over a plane it no longer needs: every fresh whole-plane array is memory
    # the allocator may have handed back to the system, and each of its pages faults in again (in
    # the screen's own sequence the conversion cost about 1 ms of CPU at a lesion's working size,
    # 0.27 ms of it the arithmetic). The same float32 operations in the same order, hence the
    # same numbers.
    f = np.cbrt(xyz, out=xyz)
    if stretched is not None:
        f[dark] = stretched
    fx, fy, fz = f
    a_star = np.subtract(fx, fy, out=fx)
    np.multiply(a_star, 500, out=a_star)  # 500 (f(X) - f(Y))
    b_star = np.subtract(fy, fz, out=fz)
    np.multiply(b_star, 200, out=b_star)  # 200 (f(Y) - f(Z))
    lightness = np.multiply(fy, 116, out=fy)
    np.subtract(lightness, 16, out=lightness)  # 116 f(Y) - 16
    if dark_lightness is not None:
        lightness[dark[1]] = dark_lightness
    shape = values.shape[:-1]
    return tuple(plane.reshape(shape) for plane in (lightness, a_star, b_star))


def delta_e76(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIE76 colour difference: the Euclidean distance in CIELAB (about 2.3 is just noticeable)."""
    return np.linalg.norm(np.asarray(lab_a, np.float64) - np.asarray(lab_b, np.float64), axis=-1)
