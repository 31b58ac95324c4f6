"""The model sees the field of view, square and unstretched, colour-corrected as its card says, quantised
with the tensor's own scale."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

from firmware_app.inference.card import InputSpec
from firmware_app.inference.preprocess import (
    BACKGROUND_LEVEL,
    FieldOfViewNotFound,
    background_subtracted,
    crop_to_field_of_view,
    find_field_of_view,
    framed,
    lesion_square,
    lit_box,
    model_view,
    quantise,
    shades_of_gray,
)
from firmware_app.quality.lesion import LesionSegmentation, segment_lesion
from tests.lesion_renderer import render_lesion

FUNDUS = InputSpec(224, 224, "int8", "RGB", "fundus_fov", (127.5,) * 3, (127.5,) * 3)
CORRECTED_FUNDUS = InputSpec(224, 224, "int8", "RGB", "fundus_fov", (127.5,) * 3, (127.5,) * 3, "shades_of_gray_p6")
BACKGROUND_FUNDUS = replace(FUNDUS, colour_constancy="background_subtracted")
PLAIN = InputSpec(224, 224, "int8", "RGB", "none", (127.5,) * 3, (127.5,) * 3)
LESION_BOX = replace(PLAIN, crop="lesion_box")
LIT_FIELD = replace(PLAIN, crop="lit_field")


def _tinted(rgb: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """The same scene under a differently coloured light (a camera with another white balance)."""
    return np.clip(np.round(rgb.astype(np.float64) * gains), 0, 255).astype(np.uint8)


def test_field_of_view_of_a_real_fundus(retina_rgb):
    fov = find_field_of_view(retina_rgb)
    height, width = retina_rgb.shape[:2]
    assert abs(fov.centre_x - width / 2) < 0.05 * width
    assert abs(fov.centre_y - height / 2) < 0.05 * height
    assert 0.4 * width < fov.radius < 0.55 * width


def test_field_follows_the_eye_when_it_is_off_centre(retina_rgb):
    canvas = np.zeros((2000, 2600, 3), np.uint8)
    canvas[300:1711, 900:2311] = retina_rgb
    reference = find_field_of_view(retina_rgb)
    moved = find_field_of_view(canvas)
    assert moved.centre_x == pytest.approx(reference.centre_x + 900, abs=8)
    assert moved.centre_y == pytest.approx(reference.centre_y + 300, abs=8)
    assert moved.radius == pytest.approx(reference.radius, rel=0.02)


def test_a_field_cut_by_a_wide_sensor_keeps_its_radius_and_is_padded_square(retina_rgb):
    reference = find_field_of_view(retina_rgb)
    cut = retina_rgb[250:-250]
    fov = find_field_of_view(cut)
    assert fov.radius == pytest.approx(reference.radius, rel=0.03)
    crop = crop_to_field_of_view(cut, fov)
    assert crop.shape[0] == crop.shape[1]
    assert crop[:20].max() == 0 and crop[-20:].max() == 0


@pytest.mark.parametrize("level", [0, 5])
def test_no_field_of_view_in_a_dark_frame(level):
    with pytest.raises(FieldOfViewNotFound):
        find_field_of_view(np.full((480, 640, 3), level, np.uint8))


def test_model_view_has_the_card_size_and_colour_order(retina_rgb):
    rgb_view = model_view(retina_rgb, FUNDUS)
    assert rgb_view.shape == (224, 224, 3) and rgb_view.dtype == np.uint8
    bgr_view = model_view(retina_rgb, InputSpec(224, 224, "int8", "BGR", "fundus_fov", (0,) * 3, (1,) * 3))
    np.testing.assert_array_equal(bgr_view, rgb_view[:, :, ::-1])


def test_plain_resize_for_dermoscopy():
    photo = np.random.default_rng(0).integers(0, 255, (150, 200, 3), dtype=np.uint8)
    spec = InputSpec(224, 224, "uint8", "RGB", "none", (0,) * 3, (1,) * 3)
    assert model_view(photo, spec).shape == (224, 224, 3)


@pytest.mark.parametrize(("dtype", "zero_point"), [("int8", 0), ("uint8", 128)])
def test_quantisation_inverts_with_the_tensor_scale(dtype, zero_point):
    spec = InputSpec(2, 2, dtype, "RGB", "none", (127.5,) * 3, (127.5,) * 3)
    view = np.array([[[0, 128, 255], [10, 20, 30]], [[40, 50, 60], [70, 80, 90]]], np.uint8)
    scale = 1 / 128
    tensor = quantise(view, spec, scale, zero_point)
    assert tensor.shape == (1, 2, 2, 3) and tensor.dtype == np.dtype(dtype)
    recovered = (tensor.astype(np.float32) - zero_point) * scale * 127.5 + 127.5
    np.testing.assert_allclose(recovered[0], view, atol=1.0)


@pytest.mark.parametrize(("dtype", "scale", "zero_point"), [("int8", 0.01, -14), ("uint8", 0.01, 121)])
def test_every_level_is_quantised_as_the_cards_arithmetic_says_each_channel_its_own(dtype, scale, zero_point):
    """The quantised values are looked up, per channel: each of the 256 levels of each channel must be
    exactly (level - mean) / std / scale + zero point, rounded and saturated to the tensor's type."""
    spec = InputSpec(16, 16, dtype, "RGB", "none", (127.0, 100.0, 30.0), (128.0, 60.0, 20.0))
    levels = np.arange(256, dtype=np.uint8)
    view = np.stack([levels, levels[::-1], np.roll(levels, 77)], axis=-1).reshape(16, 16, 3)
    tensor = quantise(view, spec, scale, zero_point)
    normalised = (view.astype(np.float32) - np.float32(spec.mean)) / np.float32(spec.std)
    info = np.iinfo(dtype)
    expected = np.clip(np.round(normalised / scale + zero_point), info.min, info.max).astype(dtype)
    assert tensor.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(tensor[0], expected)
    assert tensor.min() == info.min and tensor.max() == info.max  # the card's extremes saturate


def _gap_after_level(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute difference once one overall brightness factor is taken out.

    Shades of Gray removes the light's colour, not its strength (that stays the exposure's job), so
    two lights of different colour give the same picture up to one brightness factor.
    """
    image, reference = image.astype(np.float64), reference.astype(np.float64)
    return float(np.abs(image * (reference.mean() / image.mean()) - reference).mean())


@pytest.mark.parametrize("gains", [(1.0, 0.8, 0.6), (0.7, 0.9, 1.0)])
def test_shades_of_gray_removes_a_colour_cast(retina_rgb, gains):
    """Another camera's light tints every pixel by per-channel gains; the correction divides them out."""
    tinted = _tinted(retina_rgb, gains)
    assert _gap_after_level(shades_of_gray(tinted), shades_of_gray(retina_rgb)) < 1.5
    assert _gap_after_level(tinted, retina_rgb) > 5


def test_shades_of_gray_by_histogram_and_table_is_the_per_pixel_definition(retina_rgb):
    """The device computes the p-norms from histograms and applies the gains by a table: the
    pixels must be exactly those of the definition the models were built with."""
    for photo in (retina_rgb, (retina_rgb * np.array([0.9, 0.5, 0.3])).astype(np.uint8)):
        pixels = photo.astype(np.float64)
        illuminant = np.mean(pixels.reshape(-1, 3) ** 6, axis=0) ** (1 / 6)
        gains = np.sqrt(np.mean(illuminant**2)) / illuminant
        np.testing.assert_array_equal(shades_of_gray(photo), np.clip(np.round(pixels * gains), 0, 255).astype(np.uint8))


def test_shades_of_gray_leaves_a_grey_light_alone(retina_rgb):
    """A light of the same colour only dimmer is not a cast: the photo keeps its level."""
    darker = _tinted(retina_rgb, (0.6, 0.6, 0.6))
    np.testing.assert_allclose(shades_of_gray(darker).mean(), shades_of_gray(retina_rgb).mean() * 0.6, rtol=0.02)


def test_a_black_mask_around_the_field_does_not_change_the_correction(retina_rgb):
    padded = np.zeros((2000, 2000, 3), np.uint8)
    padded[300:1711, 300:1711] = retina_rgb
    np.testing.assert_array_equal(shades_of_gray(padded)[300:1711, 300:1711], shades_of_gray(retina_rgb))
    assert shades_of_gray(padded)[:300].max() == 0


@pytest.mark.parametrize(
    "photo",
    [
        np.zeros((64, 64, 3), np.uint8),
        np.dstack([np.full((64, 64), 90, np.uint8)] * 2 + [np.zeros((64, 64), np.uint8)]),
    ],
)
def test_a_photo_with_a_channel_without_signal_is_left_as_it_is(photo):
    """Black, or one channel empty: there is no illuminant to divide by, so nothing is invented."""
    np.testing.assert_array_equal(shades_of_gray(photo), photo)


def test_model_view_corrects_colour_only_when_the_card_says(retina_rgb):
    plain = model_view(retina_rgb, FUNDUS)
    np.testing.assert_array_equal(plain, framed(retina_rgb, FUNDUS))
    np.testing.assert_array_equal(model_view(retina_rgb, CORRECTED_FUNDUS), shades_of_gray(plain))


def test_corrected_views_of_one_eye_under_two_lights_agree(retina_rgb):
    tinted = _tinted(retina_rgb, (0.85, 1.0, 0.7))
    corrected = _gap_after_level(model_view(tinted, CORRECTED_FUNDUS), model_view(retina_rgb, CORRECTED_FUNDUS))
    assert corrected < 1.5 < 5 < _gap_after_level(model_view(tinted, FUNDUS), model_view(retina_rgb, FUNDUS))


def test_a_field_located_on_a_halved_copy_maps_back_onto_the_photos_pixels():
    """Pixel ``i`` of a copy reduced by ``factor`` covers the photo's ``factor * i`` to
    ``factor * i + factor - 1``: a disc drawn at a known place is found there from a halved copy,
    and ``reduced`` is ``enlarged``'s inverse."""
    canvas = np.zeros((1200, 1600, 3), np.uint8)
    cv2.circle(canvas, (811, 597), 500, (200, 90, 40), -1)
    fov = find_field_of_view(canvas)
    assert (fov.centre_x, fov.centre_y) == pytest.approx((811, 597), abs=1.0)
    assert fov.radius == pytest.approx(500, rel=0.01)  # the 5-pixel blur before the threshold widens it
    for factor in (1, 2, 4, 8):
        back = fov.reduced(factor).enlarged(factor)
        assert (back.centre_x, back.centre_y, back.radius) == pytest.approx((fov.centre_x, fov.centre_y, fov.radius))


def _synthetic_retina(side: int = 224) -> np.ndarray:
    """A framed fundus view: a round field whose orange background darkens towards its rim, a bright
    disc, dark vessels and small dark and bright lesions, on the camera's black mask."""
    ys, xs = np.mgrid[:side, :side].astype(np.float64)
    centre = (side - 1) / 2
    radius = np.hypot(xs - centre, ys - centre) / (side / 2)
    shading = 1.0 - 0.35 * radius**2
    view = np.dstack([170 * shading, 80 * shading, 35 * shading])
    canvas = np.zeros((side, side, 3), np.float64)
    cv2.circle(canvas, (150, 110), 16, (1.0, 1.0, 1.0), -1)  # the optic disc
    for end in ((20, 40), (30, 190), (200, 30)):
        cv2.line(canvas, (150, 110), end, (-0.35, -0.45, -0.3), 3)  # vessels
    for x, y in ((80, 120), (95, 140), (70, 90)):
        cv2.circle(canvas, (x, y), 2, (-0.5, -0.6, -0.4), -1)  # haemorrhages
    cv2.circle(canvas, (110, 95), 3, (0.6, 0.9, 0.8), -1)  # an exudate
    view = view * (1.0 + canvas)
    view[radius > 1.0] = 0
    return np.clip(np.round(view), 0, 255).astype(np.uint8)


def _outside_kept_field(side: int = 224) -> np.ndarray:
    """True beyond 0.95 of a framed view's radius: the rim and the mask, which carry no contrast."""
    ys, xs = np.mgrid[:side, :side]
    centre = (side - 1) / 2
    return np.hypot(xs - centre, ys - centre) > 0.95 * side / 2


def test_background_subtracted_flat_field_is_all_no_contrast():
    """A field of one colour has nothing against its background: every pixel is 128, rim and mask too."""
    view = np.zeros((224, 224, 3), np.uint8)
    cv2.circle(view, (112, 112), 112, (150, 70, 30), -1)
    np.testing.assert_array_equal(background_subtracted(view), np.full_like(view, BACKGROUND_LEVEL))
    np.testing.assert_array_equal(background_subtracted(np.full((224, 224, 3), 90, np.uint8)), BACKGROUND_LEVEL)


def test_background_subtracted_outside_the_field_is_the_constant():
    """The mask, the rim and a sensor's cut at the top and bottom read as no contrast, not as dark."""
    retina = _synthetic_retina()
    view = background_subtracted(retina)
    assert (view[_outside_kept_field()] == BACKGROUND_LEVEL).all()
    cut = retina.copy()
    cut[:30] = 0
    cut[-30:] = 0
    cut_view = background_subtracted(cut)
    assert (cut_view[:33] == BACKGROUND_LEVEL).all() and (cut_view[-33:] == BACKGROUND_LEVEL).all()
    # Away from the cut the view is the uncut one's: the background is the field's own.
    np.testing.assert_allclose(cut_view[60:-60].astype(float), view[60:-60].astype(float), atol=3)


def test_background_subtracted_keeps_lesions_and_vessels_against_the_background():
    view = background_subtracted(_synthetic_retina()).astype(int)
    assert view[120, 80, 1] < BACKGROUND_LEVEL - 60  # a haemorrhage is darker than its surround
    assert view[95, 110, 1] > BACKGROUND_LEVEL + 60  # an exudate brighter
    assert abs(view[170, 170] - BACKGROUND_LEVEL).max() <= 2  # the shaded background is gone


@pytest.mark.parametrize("gains", [(0.45, 0.45, 0.45), (1.4, 1.4, 1.4), (1.0, 0.7, 0.5), (0.6, 1.0, 1.3)])
def test_background_subtracted_is_the_same_under_another_exposure_or_light(gains):
    """A darker or brighter exposure, or another light's colour, multiply each channel: the view of
    the same retina stays within two levels on average, where the photos differ by tens. What is left
    is the 8-bit photos' own: a dim blue channel at level 16 moves 3% per rounding step, and a disc
    saturated at 255 has lost its contrast."""
    retina = _synthetic_retina()
    other = _tinted(retina, gains)
    assert np.abs(other.astype(int) - retina).mean() > 8
    gap = np.abs(background_subtracted(other).astype(int) - background_subtracted(retina)).mean()
    assert gap < 2.0


def test_background_subtracted_removes_vignetting():
    """Light falling off across the field (another camera's optics) multiplies slowly: it goes."""
    retina = _synthetic_retina()
    xs = np.mgrid[:224, :224][1]
    ramp = (0.5 + xs / 223.0)[..., np.newaxis]
    vignetted = np.clip(np.round(retina * ramp), 0, 255).astype(np.uint8)
    assert np.abs(vignetted.astype(int) - retina).mean() > 10
    assert np.abs(background_subtracted(vignetted).astype(int) - background_subtracted(retina)).mean() < 1.5


def test_model_view_subtracts_the_background_when_the_card_says(retina_rgb):
    plain = framed(retina_rgb, FUNDUS)
    np.testing.assert_array_equal(model_view(retina_rgb, BACKGROUND_FUNDUS), background_subtracted(plain))
    darker = _tinted(retina_rgb, (0.5, 0.5, 0.5))
    gap = np.abs(model_view(darker, BACKGROUND_FUNDUS).astype(int) - model_view(retina_rgb, BACKGROUND_FUNDUS)).mean()
    assert gap < 2.0 < 20 < np.abs(framed(darker, FUNDUS).astype(int) - plain).mean()


def _segmentation(shape: tuple[int, int], top: int, left: int, height: int, width: int) -> LesionSegmentation:
    """A segmentation at the working size ``shape`` whose lesion is the given rectangle."""
    mask = np.zeros(shape, bool)
    mask[top : top + height, left : left + width] = True
    return LesionSegmentation(mask, np.ones(shape, bool), 20.0)


def test_the_lesion_square_is_centred_on_the_lesion_one_and_a_half_times_its_longer_side():
    """An off-centre lesion, segmented on a copy half the photo's size: its box in the photo's pixels
    is 200 wide and 120 tall, centred at (300, 160), so the square is 300 across, centred there."""
    segmentation = _segmentation((200, 300), top=50, left=100, height=60, width=100)
    square = lesion_square((400, 600, 3), segmentation)
    assert (square.width, square.left + square.width / 2, square.top + square.width / 2) == (300, 300, 160)


def test_a_tiny_lesion_gets_half_the_photos_shorter_side_and_a_huge_one_no_more_than_all_of_it():
    tiny = lesion_square((400, 600, 3), _segmentation((200, 300), top=95, left=145, height=10, width=10))
    assert (tiny.width, tiny.left, tiny.top) == (200, 200, 100)  # centred on the lesion at (300, 200)
    huge = lesion_square((400, 600, 3), _segmentation((200, 300), top=10, left=60, height=180, width=180))
    assert (huge.width, huge.top) == (400, 0) and huge.left == 100


def test_a_lesion_at_the_edge_gets_its_square_shifted_inside_the_photo_never_padded():
    square = lesion_square((400, 600, 3), _segmentation((200, 300), top=0, left=260, height=60, width=40))
    assert (square.width, square.left, square.top) == (200, 400, 0)
    assert square.cut(np.zeros((400, 600, 3), np.uint8)).shape == (200, 200, 3)


@pytest.mark.parametrize(("spec", "lit"), [(LESION_BOX, True), (LIT_FIELD, False)], ids=["no lesion", "nothing lit"])
def test_nothing_to_crop_to_leaves_the_plain_view(spec: InputSpec, lit: bool):
    """No lesion found for ``lesion_box``, nothing lit for ``lit_field``, or no segmentation handed
    over: the whole photo, as the plain view."""
    photo = render_lesion(600, 400, seed=1, radius=0.1).rgb
    nothing = LesionSegmentation(np.zeros((200, 300), bool), np.full((200, 300), lit), 0.0)
    assert (lesion_square if spec.crops_to_lesion else lit_box)(photo.shape, nothing) is None
    np.testing.assert_array_equal(framed(photo, spec, lesion=nothing), framed(photo, PLAIN))
    np.testing.assert_array_equal(framed(photo, spec), framed(photo, PLAIN))  # none handed over


def test_the_lesion_box_view_is_the_square_around_the_segmented_lesion_resized():
    """A real segmentation of a small lesion off the photo's centre: the model's view is its square,
    resized, and the lesion fills far more of it than of the plain view."""
    lesion = render_lesion(1024, 768, seed=4, radius=0.1, centre=(0.62, 0.45))
    segmentation = segment_lesion(lesion.rgb)
    square = lesion_square(lesion.rgb.shape, segmentation)
    view = framed(lesion.rgb, LESION_BOX, lesion=segmentation)
    expected = cv2.resize(square.cut(lesion.rgb), (224, 224), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(view, expected)
    rows, cols = np.nonzero(lesion.mask)
    assert square.left <= cols.min() and cols.max() < square.left + square.width
    assert square.top <= rows.min() and rows.max() < square.top + square.height
    in_view = np.count_nonzero(square.cut(lesion.mask)) / square.width**2
    assert in_view > 3 * np.count_nonzero(lesion.mask) / lesion.mask.size


def _field(shape: tuple[int, int], top: int, left: int, height: int, width: int) -> LesionSegmentation:
    """A segmentation at the working size ``shape`` whose lit field is the given rectangle."""
    field = np.zeros(shape, bool)
    field[top : top + height, left : left + width] = True
    return LesionSegmentation(np.zeros(shape, bool), field, 0.0)


def test_the_lit_box_is_the_lit_fields_box_scaled_outward_to_the_photo():
    """A field segmented on a copy a third of the photo's size: its box grows to whole photo pixels
    that cover it (no lit pixel lost), and stops at the photo's edge."""
    box = lit_box((301, 450, 3), _field((100, 150), top=10, left=20, height=50, width=130))
    assert (box.left, box.top, box.width, box.height) == (60, 30, 390, 151)
    assert box.cut(np.zeros((301, 450, 3), np.uint8)).shape == (151, 390, 3)


@pytest.mark.parametrize(
    ("top", "left"),
    [(32, 32), (0, 64)],
    ids=["black border", "pillarboxed"],
)
def test_a_black_border_or_bars_give_the_model_the_view_of_the_photo_itself(top: int, left: int):
    """Another camera's framing of the same skin, segmented as the device does: the dark surround is
    cut off and the model sees exactly the photo's own view, where the plain view shrinks the skin
    and shows the black. The surround is a whole number of the working copy's pixels wide (the
    512-pixel frame is segmented at 256), as a border of any width is to within one of them."""
    photo = render_lesion(512 - 2 * left, 400 - 2 * top, seed=3, radius=0.15).rgb
    frame = np.zeros((400, 512, 3), np.uint8)
    frame[top : top + photo.shape[0], left : left + photo.shape[1]] = photo
    itself = framed(photo, LIT_FIELD, lesion=segment_lesion(photo))
    np.testing.assert_array_equal(itself, framed(photo, PLAIN))
    np.testing.assert_array_equal(framed(frame, LIT_FIELD, lesion=segment_lesion(frame)), itself)
    assert np.abs(framed(frame, PLAIN).astype(int) - itself).mean() > 20
