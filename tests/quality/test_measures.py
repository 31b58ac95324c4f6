"""Each measure means what its docstring says, on controlled inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware_app.quality import measures
from firmware_app.quality.resample import SLACK, mask_at_size, shrink
from tests.degradations import defocus, jpeg, jpeg_at, motion, noise
from tests.lesion_renderer import render_lesion


def _everywhere(image: np.ndarray) -> np.ndarray:
    return np.ones(image.shape[:2], bool)


def _sharpness(gray: np.ndarray) -> float:
    return measures.focus_across_rows_and_columns(measures.directional_sharpness(gray, _everywhere(gray)))


def test_sharpness_falls_as_the_blur_grows(retina_rgb):
    green = retina_rgb[::3, ::3, 1]
    values = [_sharpness(green)]
    for strength in (1, 2, 3):
        values.append(_sharpness(defocus(retina_rgb[::3, ::3], strength)[:, :, 1]))
    assert values == sorted(values, reverse=True)


def test_sharpness_does_not_depend_on_exposure(retina_rgb):
    green = retina_rgb[::3, ::3, 1]
    darker = (green * 0.6).astype(np.uint8)
    assert abs(_sharpness(green) - _sharpness(darker)) < 0.05


def test_directional_sharpness_singles_out_the_direction_a_motion_blur_smeared(retina_rgb):
    """A defocus blurs every direction alike; a slanted motion blur (30 degrees) smears the detail
    along its path, so the weakest direction falls far below the strongest."""

    def balance(rgb: np.ndarray) -> float:
        values = measures.directional_sharpness(rgb[:, :, 1], _everywhere(rgb[:, :, 1]))
        return min(values) / max(values)

    small = retina_rgb[::3, ::3]
    assert balance(small) > 0.95
    assert balance(defocus(small, 2)) > 0.85  # fewer steps are left past the rounding floor: a noisier ratio
    assert balance(motion(retina_rgb, 2)[::3, ::3]) < 0.8


def test_noise_sigma_recovers_added_noise_on_a_flat_image():
    flat = np.full((200, 200, 3), 120, np.uint8)
    noisy = noise(flat, 1)[:, :, 1]  # standard deviation 8
    assert 7.0 < measures.noise_sigma(noisy, _everywhere(noisy)) < 9.0


def test_blockiness_is_about_one_until_jpeg_compression_is_heavy(retina_rgb):
    assert measures.blockiness(retina_rgb[:, :, 1]) < 1.4
    assert measures.blockiness(jpeg(retina_rgb, 1)[:, :, 1]) > 2.0


def test_compression_reads_both_measures_on_one_tile_as_each_reads_the_frame(retina_rgb):
    """The gates' ``compression`` copies the central tile once; a tile is its own central tile."""
    for quality in (4, 30, 90):
        green = jpeg_at(retina_rgb, quality)[:, :, 1]
        expected = {"blockiness": measures.blockiness(green), "flat_blocks": measures.flat_block_fraction(green)}
        assert measures.compression(green) == expected


def test_clipped_fractions_count_crushed_and_burnt_pixels():
    image = np.array([[0, 5, 100, 255]], np.uint8)
    dark, bright = measures.clipped_fractions(image, _everywhere(image))
    assert (dark, bright) == (0.5, 0.25)


def test_unevenness_of_a_ramp_and_of_flat_light():
    flat = np.full((100, 100), 150, np.uint8)
    ramp = np.tile(np.linspace(200, 50, 100).astype(np.uint8), (100, 1))
    assert measures.illumination_unevenness(flat, _everywhere(flat)) < 0.01
    assert measures.illumination_unevenness(ramp, _everywhere(ramp)) > 0.4


def test_unevenness_with_a_floor_sets_dark_spots_aside_in_each_half():
    """A dark second lesion on one side reads as uneven light on its own; a per-half floor sets it
    aside, while a ramp's darker half keeps its skin (a floor on the whole region would not)."""
    skin = np.full((100, 100), 180, np.uint8)
    spotted = skin.copy()
    cv2.circle(spotted, (20, 50), 18, 40, -1)
    assert measures.illumination_unevenness(spotted, _everywhere(spotted)) > 0.12
    assert measures.illumination_unevenness(spotted, _everywhere(spotted), floor=0.8) < 0.02
    ramp = np.tile(np.linspace(200, 70, 100).astype(np.uint8), (100, 1))
    assert measures.illumination_unevenness(ramp, _everywhere(ramp), floor=0.8) > 0.3


def _framed(skin: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Skin of one colour framed in black, and its lit field."""
    framed = np.zeros((200, 200, 3), np.uint8)
    framed[10:-10, 10:-10] = skin
    return framed, framed[..., 0] > 0


def test_pale_skin_beside_a_black_frame_is_not_a_reflection_within_the_lit_field():
    """Whitish skin framed in black: beside the frame it outshines a background the black pulls
    down, unless the background is read on the lit field alone; a reflection still stands out."""
    pale, field = _framed((242, 236, 232))
    assert measures.specular_mask(pale)[field].any()
    assert not measures.specular_mask(pale, field=field).any()
    tissue, field = _framed((190, 110, 80))
    cv2.circle(tissue, (100, 100), 8, (255, 255, 255), -1)
    assert 150 < measures.specular_mask(tissue, field=field).sum() < 260


def test_specular_mask_finds_a_reflection_not_a_pale_frame():
    tissue = np.full((200, 200, 3), (190, 110, 80), np.uint8)
    cv2.circle(tissue, (100, 100), 8, (255, 255, 255), -1)
    assert 150 < measures.specular_mask(tissue).sum() < 260
    pale = np.full((200, 200, 3), 245, np.uint8)
    assert not measures.specular_mask(pale).any()


def test_measures_of_an_empty_region_do_not_fail():
    image = np.full((50, 50), 100, np.uint8)
    nothing = np.zeros((50, 50), bool)
    assert measures.brightness(image, nothing) == 0.0
    assert measures.directional_sharpness(image, nothing) == [0.0] * 4
    assert measures.directional_sharpness(image[:5, :5], nothing[:5, :5]) == [0.0] * 4
    assert measures.illumination_unevenness(image, nothing) == 1.0


def test_level_percentile_is_numpys_percentile_of_the_masked_levels(retina_rgb):
    green = np.ascontiguousarray(retina_rgb[:, :, 1])
    rng = np.random.default_rng(7)
    mask = rng.random(green.shape) < 0.3
    for q in (0, 1, 50, 90, 95, 99, 37.3, 100):
        assert measures.level_percentile(green, q) == float(np.percentile(green, q))
        assert measures.level_percentile(green, q, mask) == float(np.percentile(green[mask], q))
    odd_and_even = (mask[:3, :3], mask[:3, :4])
    for small in odd_and_even:
        region = np.ones(small.shape, bool)
        assert measures.level_percentile(green[: small.shape[0], : small.shape[1]].copy(), 50, region) == float(
            np.median(green[: small.shape[0], : small.shape[1]])
        )
    assert np.isnan(measures.level_percentile(green, 50, np.zeros(green.shape, bool)))


def test_connected_regions_are_opencvs_whatever_the_label_type():
    rng = np.random.default_rng(3)
    speckle = (rng.random((120, 160)) < 0.3).astype(np.uint8)
    count, labels, stats, centroids = measures.connected_regions(speckle.astype(bool))
    expected = cv2.connectedComponentsWithStats(speckle, connectivity=8, ltype=cv2.CV_32S)
    assert count == expected[0]
    np.testing.assert_array_equal(labels, expected[1])
    np.testing.assert_array_equal(stats, expected[2])
    np.testing.assert_allclose(centroids, expected[3])


def test_flat_blocks_are_read_as_numpy_reads_each_blocks_extremes(retina_rgb):
    """The erosion and dilation that give each 8x8 block's extremes agree with a reduction over the
    blocks, on a retina compressed from unusable to fine."""
    for quality in (4, 8, 15, 30, 60, 90):
        green = jpeg_at(retina_rgb, quality)[:, :, 1]
        tile = measures.central_tile(green)
        blocks = tile.reshape(tile.shape[0] // 8, 8, tile.shape[1] // 8, 8)
        low, high = blocks.min(axis=(1, 3)), blocks.max(axis=(1, 3))
        lit = (low >= 24) & (high < 250)
        expected = float(((high - low) <= 2.0)[lit].mean()) if lit.any() else 0.0
        assert measures.flat_block_fraction(green) == expected


def test_sharpness_reads_nothing_further_than_a_step_reaches_from_the_region(retina_rgb):
    """Read on the region's box (``STEP_REACH`` round it): the same whatever lies beyond, whether the
    box is inside the image or runs to its edge."""
    green = np.ascontiguousarray(retina_rgb[::2, ::2, 1])
    rng = np.random.default_rng(3)
    reach = measures.STEP_REACH
    for top, left, height, width in ((100, 120, 300, 250), (0, 0, 200, 160), (500, 400, 205, 305)):
        region = np.zeros(green.shape, bool)
        region[top : top + height, left : left + width] = rng.random((height, width)) < 0.9
        scrambled = rng.integers(0, 256, green.shape, dtype=np.uint8)
        near = cv2.dilate(region.astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8)) > 0
        scrambled[near] = green[near]
        assert measures.directional_sharpness(scrambled, region) == measures.directional_sharpness(green, region)


def test_sharpness_is_the_share_of_fine_steps_the_reblur_removes(retina_rgb):
    """Along rows and along columns, the measure as Crete-Roffet et al. define it, written out with
    numpy in floats on a region with holes (a step counts where both ends of its 9-pixel box lie in
    the region; steps of 2 levels or fewer are rounding): what the whole-number OpenCV form computes."""
    green = retina_rgb[::3, ::3, 1]
    mask = np.random.default_rng(4).random(green.shape) < 0.7
    margin = measures.STEP_REACH  # the 9-pixel box reaches 4 pixels before a step and 5 after it
    before, after = margin - 1, margin
    kept = []
    for image, region in ((green, mask), (green.T, mask.T)):  # along rows, then along columns
        values = image.astype(np.float64)
        reblurred = cv2.blur(values, (9, 1))
        rows, width = slice(margin, image.shape[0] - margin), image.shape[1]

        def step(plane: np.ndarray, rows=rows, width=width) -> np.ndarray:
            return np.abs(plane[rows, margin + 1 : width - margin + 1] - plane[rows, margin : width - margin])

        steps, blurred = step(values), step(reblurred)
        ends = (slice(margin - before, width - margin - before), slice(margin + after, width - margin + after))
        counted = region[rows, ends[0]] & region[rows, ends[1]]
        counted &= steps > 2
        kept.append(np.maximum(steps - blurred, 0.0)[counted].sum() / steps[counted].sum())
    assert measures.directional_sharpness(green, mask)[:2] == pytest.approx(kept, abs=1e-4)
    assert measures.directional_sharpness(green[:1], mask[:1]) == [0.0] * 4


def test_specular_mask_on_the_levels_makes_its_float_tests():
    """The table of least darkest channels and the subtraction floored at 0 are the float tests
    written out here: on a photo with bubbles and glare, and on a dark frame dotted with every pair
    of near-white brightest and any darkest level."""
    dotted = np.full((96, 1024, 3), (60, 40, 30), np.uint8)
    brightest, darkest = np.meshgrid(np.arange(232, 256), np.arange(256), indexing="ij")
    dotted[::4, ::4] = np.stack([brightest, darkest, darkest], axis=-1)
    for rgb in (render_lesion(seed=3, bubbles=30, glare_spots=2).rgb, dotted):
        for max_saturation in (0.2, 0.35):
            top, low = rgb.max(axis=2), rgb.min(axis=2)
            sigma = max(rgb.shape[:2]) / 20
            small = shrink(top, 64)
            blurred = cv2.GaussianBlur(small, (0, 0), sigma * small.shape[1] / rgb.shape[1])
            background = cv2.resize(blurred, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
            expected = (
                (top >= 235)
                & (low.astype(np.float32) >= top * (1.0 - max_saturation))
                & (top.astype(np.int16) - background.astype(np.int16) >= 30)
            )
            assert 0 < np.count_nonzero(expected) < np.count_nonzero(top >= 235)
            np.testing.assert_array_equal(measures.specular_mask(rgb, max_saturation=max_saturation), expected)


def test_unevenness_read_off_histograms_is_the_pixels_own(retina_rgb):
    """Each half's median and mean, read off its histogram, are those of its listed pixels (numpy),
    to float32 rounding, with and without a floor, on masks of every shape."""

    def listed(gray: np.ndarray, mask: np.ndarray, floor: float) -> float:
        small = shrink(gray, 128, SLACK)
        rows, cols = np.nonzero(mask_at_size(mask, small.shape))
        selected = small[rows, cols].astype(np.float32)
        selected = np.minimum(selected, np.percentile(selected, 90))
        middle_row, middle_col = np.median(rows), np.median(cols)
        halves = [selected[cols < middle_col], selected[cols >= middle_col]]
        halves += [selected[rows < middle_row], selected[rows >= middle_row]]
        if floor > 0:
            halves = [half[half >= floor * np.median(half)] if half.size else half for half in halves]
        means = [float(half.mean()) for half in halves if half.size]
        return float(1.0 - min(means) / max(means)) if max(means) > 1.0 else 1.0

    green = np.ascontiguousarray(retina_rgb[::2, ::2, 1])
    rng = np.random.default_rng(3)
    for _ in range(12):
        top, left = rng.integers(0, 60, 2)
        mask = np.zeros(green.shape, bool)
        mask[top : top + rng.integers(1, green.shape[0]), left : left + rng.integers(1, green.shape[1])] = True
        mask &= rng.random(green.shape) < rng.uniform(0.2, 1.0)
        for floor in (0.0, 0.8):
            expected = listed(green, mask, floor)
            assert measures.illumination_unevenness(green, mask, floor) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_illumination_map_reduces_both_planes_as_two_calls_would():
    """The masked levels and their weights reduced as one two-plane image are what reducing each on
    its own gives, bit for bit, for 8-bit levels (the fundus disc) and float lightness (the lesion's
    shading), at the reductions both gates use and at none."""
    rng = np.random.default_rng(11)
    for shape, sigma in (((253, 253), 253 / 28), ((192, 256), 64.0), ((120, 90), 1.5), ((31, 7), 40.0)):
        mask = rng.random(shape) > 0.3
        for gray in (rng.integers(0, 256, shape, dtype=np.uint8), (rng.random(shape) * 100).astype(np.float32)):
            factor = min(1.0, 2.0 / sigma)
            size = (max(1, round(shape[1] * factor)), max(1, round(shape[0] * factor)))
            weights = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
            weighted = cv2.resize(gray.astype(np.float32) * mask, size, interpolation=cv2.INTER_AREA)
            blurred = cv2.GaussianBlur(weighted, (0, 0), sigma * factor)
            support = cv2.GaussianBlur(weights, (0, 0), sigma * factor)
            smoothed, inside = measures.illumination_map(gray, mask, sigma)
            np.testing.assert_array_equal(smoothed, blurred / np.maximum(support, 1e-3))
            np.testing.assert_array_equal(inside, weights > 0.5)


def test_a_regions_median_is_numpys_median_of_its_values():
    """Regions' medians (the segmentation's, the optic disc's), read off a partition, are
    ``np.median``'s numbers exactly: odd and even counts, ties, float32 and float64, values that
    differ in the last places only."""
    rng = np.random.default_rng(5)
    for count in (*range(1, 40), 999, 1000, 12288):
        for values in (
            (rng.standard_normal(count) * 30).astype(np.float32),
            rng.integers(0, 4, count).astype(np.float64),
            (rng.random(count) * 1e-4 + 7.1).astype(np.float32),
        ):
            assert measures.middle_value(values) == float(np.median(values))
    assert np.isnan(measures.middle_value(np.zeros(0, np.float32)))


def test_value_percentile_is_numpys_percentile():
    """Its rank, the two values either side and numpy's interpolation between them, to the bit."""
    rng = np.random.default_rng(11)
    for size in (1, 2, 3, 10, 999, 4567):
        ties, spread = rng.integers(0, 5, size) * 1.0, rng.normal(0, 1e3, size)
        for values in (rng.random(size).astype(np.float32) * 100, ties, spread):
            for q in (0, 2, 37.3, 50, 99, 99.9, 100):
                assert measures.value_percentile(values, q) == float(np.percentile(values, q))


def test_each_pixels_extreme_channels_are_its_channels_max_and_min():
    """Read off the interleaved rows by a three-value window: the same as comparing the split
    channels, on photos of every shape down to one pixel, and on a view that is not contiguous."""
    rng = np.random.default_rng(9)
    for index in range(300):
        height, width = rng.integers(1, 40, 2)
        rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        rgb = rgb[:, ::2] if index % 3 == 0 else rgb
        brightest, darkest = measures.channel_extremes(rgb)
        np.testing.assert_array_equal(brightest, rgb.max(axis=2))
        np.testing.assert_array_equal(darkest, rgb.min(axis=2))
        np.testing.assert_array_equal(measures.brightest_channel(rgb), brightest)
