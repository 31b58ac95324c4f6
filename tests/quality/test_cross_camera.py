"""Issue 9: a gate that holds across cameras and patients. Pathology and pigmentation are not
defects, nor is a camera's own field mask or its MJPEG stream; and real graded photos of every
source in ../shared/data pass (those tests skip, saying why, when it is absent)."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from firmware_app.capture.camera import CameraSettings, Size
from firmware_app.capture.frame import Frame
from firmware_app.capture.image_file import read_frame
from firmware_app.capture.opencv_camera import OpenCVCamera
from firmware_app.config import SAMPLES_DIR
from firmware_app.inference.preprocess import find_field_of_view
from firmware_app.quality.gate import Speed
from firmware_app.quality.verdict import Verdict
from tests.camera_variations import VARIATIONS, black_border, round_field
from tests.conftest import shared_data
from tests.degradations import FUNDUS_DEFECTS, glare, jpeg, jpeg_at
from tests.lesion_renderer import render_lesion
from tests.quality.conftest import judge

EXPOSURE = {"too_dark", "too_bright", "glare"}


def _field_coordinates(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's offset from the field's centre, in field radii (x, y)."""
    fov = find_field_of_view(rgb)
    rows, cols = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]]
    return (cols - fov.centre_x) / fov.radius, (rows - fov.centre_y) / fov.radius


def _spots(rgb: np.ndarray, colour: tuple[int, int, int], count: int, radius: float, seed: int) -> np.ndarray:
    """``count`` soft blobs of ``colour`` scattered around the posterior pole (inside 0.6 radii)."""
    rng = np.random.default_rng(seed)
    x, y = _field_coordinates(rgb)
    fov_radius = find_field_of_view(rgb).radius
    weight = np.zeros(rgb.shape[:2], np.float32)
    for _ in range(count):
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 0.6)
        size = radius * rng.uniform(0.5, 1.5)
        weight = np.maximum(weight, np.hypot(x - distance * np.cos(angle), y - distance * np.sin(angle)) < size)
    weight = cv2.GaussianBlur(weight, (0, 0), fov_radius * radius / 4)[..., np.newaxis]
    return (rgb * (1 - weight) + np.asarray(colour, np.float32) * weight).astype(np.uint8)


def test_hard_exudates_are_not_glare(gate, retina_rgb):
    """Yellow-white lipid deposits, bright but coloured: pathology, not a specular reflection."""
    report = judge(gate, _spots(retina_rgb, (245, 225, 110), 40, 0.02, seed=1), "fundus")
    assert report.passed and not EXPOSURE & set(report.reasons), report


def test_haemorrhages_are_not_underexposure(gate, retina_rgb):
    """Dark red blots over the posterior pole."""
    report = judge(gate, _spots(retina_rgb, (70, 12, 8), 30, 0.035, seed=2), "fundus")
    assert report.passed and not EXPOSURE & set(report.reasons), report


def test_a_pigmented_fundus_is_not_too_dark(gate, retina_rgb):
    """A heavily pigmented choroid: green and blue absorbed, the red reflex kept."""
    pigmented = np.clip(retina_rgb * np.array([0.75, 0.5, 0.45], np.float32), 0, 255).astype(np.uint8)
    report = judge(gate, pigmented, "fundus")
    assert report.passed and "too_dark" not in report.reasons, report


def test_a_field_masked_at_top_and_bottom_is_normal(gate, retina_rgb):
    """Many cameras mask the field's top and bottom; the disc and macula lie on the meridian."""
    _, y = _field_coordinates(retina_rgb)
    masked = (retina_rgb * (np.abs(y) < 0.7)[..., np.newaxis]).astype(np.uint8)
    report = judge(gate, masked, "fundus")
    assert report.passed and "field_cut" not in report.reasons, report


def _in_a_square_with_a_grey_mask(rgb: np.ndarray) -> np.ndarray:
    """The retina as APTOS's cameras deliver it: a 224-pixel square inside the field (whose radius is
    1.2 times the square's half side: cut on every side, the mask left in the corners only), with
    the camera's black at 15 of 255, not 0 (a grey mask, as APTOS's are)."""
    fov = find_field_of_view(rgb)
    half = round(fov.radius / 1.2)
    x, y = round(fov.centre_x), round(fov.centre_y)
    square = cv2.resize(rgb[y - half : y + half, x - half : x + half], (224, 224), interpolation=cv2.INTER_AREA)
    return (15 + square * (240 / 255)).astype(np.uint8)


@pytest.mark.parametrize("variation", ["tone 0.8", "tone 1.25", "cooler", "jpeg 70"])
def test_a_grey_mask_stays_mask_under_another_cameras_tone_and_colour(gate, retina_rgb, variation):
    """A field in a grey mask as another camera's tone curve, white balance or JPEG renders it: the
    field is found where it was, and passes. With the mask's level counted from 0, a gamma of 0.8
    lifted the mask (15 to 26) above it: the field found was the frame's whole square, and the
    retina was refused as cut on one side."""
    photo = _in_a_square_with_a_grey_mask(retina_rgb)
    varied = VARIATIONS["fundus"][variation](photo)
    assert find_field_of_view(varied).radius == pytest.approx(find_field_of_view(photo).radius, rel=0.02)
    report = judge(gate, varied, "fundus")
    assert report.passed, report


def test_a_frame_cut_through_the_disc_side_is_field_cut(gate, retina_rgb):
    """The same cut on the side of the disc removes what graders need."""
    x, _ = _field_coordinates(retina_rgb)
    cut = retina_rgb[:, : int(np.argmax(x[0] > 0.55))]
    report = judge(gate, cut, "fundus")
    assert report.verdict is Verdict.REJECT and "field_cut" in report.reasons, report


@pytest.mark.parametrize(
    "unlit",
    [lambda x, y: y > 0.0, lambda x, y: y < 0.0, lambda x, y: x < -0.3, lambda x, y: y > -0.3],
    ids=["lower-half", "upper-half", "one-side", "all-but-the-top"],
)
def test_a_field_left_dark_on_one_side_is_field_cut(gate, retina_rgb, unlit):
    """A lid hanging in the light or a camera off the pupil's axis leaves part of the field dark
    inside the frame: measured in its lit part only, such a field read as good, and the model scored
    half a retina (a referable eye came out no_refer). The camera's mask at top and bottom (above)
    is dark alike on both sides; this is not."""
    x, y = _field_coordinates(retina_rgb)
    darkened = (retina_rgb * ~unlit(x, y)[..., np.newaxis]).astype(np.uint8)
    report = judge(gate, darkened, "fundus")
    assert report.verdict is Verdict.REJECT and "field_cut" in report.reasons, report


def test_a_field_lit_only_in_its_middle_is_refused(gate, retina_rgb):
    """Light that reaches only the middle of the field (a pupil too small for the camera) leaves a
    smaller lit circle, its outline as sharp as an aperture's: judged as a whole field, its middle
    was scored as a whole retina, enlarged (referable eyes came out no_refer). Its size in the
    frame is what gives it away."""
    x, y = _field_coordinates(retina_rgb)
    middle = (retina_rgb * (np.hypot(x, y) < 0.6)[..., np.newaxis]).astype(np.uint8)
    report = judge(gate, middle, "fundus")
    assert report.verdict is Verdict.REJECT and "field_too_small" in report.reasons, report
    assert judge(gate, retina_rgb, "fundus").measures["field_span"] >= 0.9


def test_a_field_fading_towards_its_rim_is_refused(gate, retina_rgb):
    """The same small pupil as it usually shows: the light fading from the middle to the rim."""
    x, y = _field_coordinates(retina_rgb)
    fading = np.clip((0.9 - np.hypot(x, y)) / 0.5, 0.0, 1.0)[..., np.newaxis]
    report = judge(gate, (retina_rgb * fading).astype(np.uint8), "fundus")
    assert report.verdict is Verdict.REJECT and {"edge_artefact", "field_too_small"} & set(report.reasons), report


def test_a_large_lesion_overflowing_the_frame_is_not_cut_or_off_centre(gate):
    """Large irregular lesions (often melanomas) fill the dermatoscope's view on every side."""
    report = judge(gate, render_lesion(seed=3, radius=0.62).rgb, "dermoscopy")
    assert not {"lesion_cut", "lesion_off_centre", "too_dark"} & set(report.reasons), report
    assert report.passed


def test_a_lesion_pushed_against_one_edge_is_still_cut(gate):
    report = judge(gate, render_lesion(seed=7, centre=(0.97, 0.5), radius=0.25).rgb, "dermoscopy")
    assert report.verdict is Verdict.REJECT and "lesion_cut" in report.reasons


def _letterboxed(rgb: np.ndarray) -> np.ndarray:
    """The retina as a 640x480 UVC camera frames it."""
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 80:560] = cv2.resize(rgb, (480, 480), interpolation=cv2.INTER_AREA)
    return frame


@pytest.mark.parametrize("variation", sorted(VARIATIONS["dermoscopy"]))
def test_the_bundled_dermoscopy_sample_passes_as_any_good_camera_would_take_it(gate, variation):
    """``tests/camera_variations.py``: what differs between good cameras hides nothing a grader needs."""
    photo = read_frame(SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg").pixels
    report = judge(gate, VARIATIONS["dermoscopy"][variation](photo), "dermoscopy")
    assert report.passed, report


def test_a_lesions_share_is_of_the_lit_field_not_of_black_bars_beside_it(gate):
    """A small naevus, just above the smallest share judged, in a frame with black bars: the bars
    are no part of what the dermatoscope shows, so its share and its verdict stay the same."""
    photo = render_lesion(seed=2, radius=0.055).rgb
    plain = judge(gate, photo, "dermoscopy")
    barred = judge(gate, VARIATIONS["dermoscopy"]["pillarboxed"](photo), "dermoscopy")
    # The drawn lesion is smooth, and this small one reads as blurred at 640x480: its share is the test.
    assert "lesion_too_small" not in plain.reasons + barred.reasons
    assert (barred.verdict, barred.reasons) == (plain.verdict, plain.reasons)
    assert barred.measures["lesion_fraction"] == pytest.approx(plain.measures["lesion_fraction"], rel=0.1)


@pytest.mark.parametrize("size", [(320, 240), (1024, 768)])
def test_a_dermatoscopes_round_field_is_not_noise(gate, size):
    """The step from the lit field to the black beyond it is no sensor noise: the noise is read
    as on the same photo without it (at 320 pixels, where the working copy is the photo itself
    and the step stays a step, it used to read half as much again)."""
    photo = render_lesion(*size, seed=5, radius=0.2).rgb
    plain, in_round = (judge(gate, rgb, "dermoscopy") for rgb in (photo, round_field(photo)))
    assert in_round.passed, in_round
    assert in_round.measures["noise"] == pytest.approx(plain.measures["noise"], rel=0.05)


def test_real_photos_in_a_round_field_are_not_noisier(gate):
    """HAM10000's graded photos as a dermatoscope with a round field would take them read the
    noise they read whole, give or take what the skin left out in the corners holds (a third)."""
    paths = sorted(shared_data("dermoscopy/ham10000-200x150/images").glob("*.jpg"))[:30]
    for path in paths:
        rgb = read_frame(path).pixels
        plain, in_round = (judge(gate, photo, "dermoscopy") for photo in (rgb, round_field(rgb)))
        assert in_round.measures["noise"] <= 1.33 * plain.measures["noise"] + 0.05, path.name
        assert "noisy" not in in_round.reasons, path.name


def test_mjpeg_preview_frames_of_a_sharp_retina_pass(tmp_path, gate, retina_rgb):
    """A sharp retina streamed as MJPEG through the OpenCV backend, as a UVC camera delivers it:
    its block borders show, its detail is intact, so the preview passes and ``--auto`` can fire."""
    path = tmp_path / "uvc.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    assert writer.isOpened()
    for _ in range(3):
        writer.write(cv2.cvtColor(_letterboxed(retina_rgb), cv2.COLOR_RGB2BGR))
    writer.release()
    with OpenCVCamera(0, str(path), CameraSettings(Size(640, 480), Size(0, 0), 0.5)) as camera:
        frame = next(camera.preview_frames())
    for speed in Speed:
        report = gate.check(frame, "fundus", speed)
        assert report.passed and "compressed" not in report.reasons, (speed, report)


@pytest.mark.parametrize("quality", [50, 70])
def test_a_jpeg_at_streaming_quality_passes_and_a_crushed_one_does_not(gate, retina_rgb, quality):
    encoded, data = cv2.imencode(".jpg", _letterboxed(retina_rgb), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert encoded
    streamed = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert judge(gate, streamed, "fundus", Speed.PREVIEW).passed
    crushed = judge(gate, jpeg(_letterboxed(retina_rgb), 3), "fundus")
    assert crushed.verdict is Verdict.REJECT and "compressed" in crushed.reasons


# A fixed sample of real graded photos of every source: each must pass. (folder, label file, rows)
SOURCES = {
    "fundus": [("fundus/dr-600", "labels.csv"), ("fundus/aptos2019-224", "labels.csv")],
    "dermoscopy": [
        ("dermoscopy/ham10000-200x150", "metadata.csv"),
        ("dermoscopy/isic-uda1-cc0", "labels.csv"),
        ("dermoscopy/isic2017-cc0", "labels.csv"),
    ],
}
SAMPLE = 12


def _rows(folder: str, table: str) -> list[dict[str, str]]:
    with (shared_data(folder) / table).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _image(folder: str, row: dict[str, str]) -> Frame:
    return read_frame(shared_data(folder) / row.get("file", f"images/{row.get('image_id')}.jpg"))


def _spread(rows: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    return [rows[i] for i in np.linspace(0, len(rows) - 1, count).round().astype(int)]


ARTEFACT_REASONS = {"bubbles", "glare", "noisy"}


@pytest.mark.parametrize("frame", [black_border, round_field], ids=["black border", "round field"])
def test_real_photos_framed_in_black_gain_no_artefact(gate, frame):
    """ISIC 2017's graded training photos (many of pale skin) in a black frame or a round field:
    the black is not the skin's surroundings, so the pale skin beside it reads no reflections,
    bubbles or noise it did not read whole."""
    rows = [row for row in _rows("dermoscopy/isic2017-cc0", "labels.csv") if row["challenge_split"] != "test"]
    for row in _spread(rows, 60):
        rgb = _image("dermoscopy/isic2017-cc0", row).pixels
        plain, framed = (judge(gate, photo, "dermoscopy") for photo in (rgb, frame(rgb)))
        assert not (set(framed.reasons) - set(plain.reasons)) & ARTEFACT_REASONS, (row["file"], framed.reasons)


@pytest.mark.parametrize("folder", [folder for folder, _ in SOURCES["fundus"]])
def test_a_fixed_sample_of_real_graded_fundus_photos_all_pass(gate, folder):
    """Every one was graded by ophthalmologists: twelve spread evenly over the label file (a fixed
    rule, not a choice), and none may be rejected."""
    rejected = {}
    for row in _spread(_rows(folder, "labels.csv"), SAMPLE):
        report = gate.check(_image(folder, row), "fundus")
        if not report.passed:
            rejected[row.get("file")] = report.reasons
    assert not rejected


@pytest.mark.parametrize("variation", ["tone 0.8", "cooler", "jpeg 70"])
def test_real_fields_in_a_grey_mask_are_found_alike_under_another_cameras_rendering(variation):
    """APTOS's graded photos, sixty spread over the label file, as another camera's tone curve,
    white balance or JPEG renders them: the field is found within 2% of its radius as they are.
    With the mask's level counted from 0, nine of these 180 copies found a field 2% to 16% larger,
    their grey mask lifted into it, up to the frame's whole square."""
    folder = "fundus/aptos2019-224"
    for row in _spread(_rows(folder, "labels.csv"), 60):
        rgb = _image(folder, row).pixels
        varied = VARIATIONS["fundus"][variation](rgb)
        radius = find_field_of_view(rgb).radius
        assert find_field_of_view(varied).radius == pytest.approx(radius, rel=0.02), row["file"]


@pytest.mark.parametrize("quality", [50, 70])
def test_real_photos_streamed_as_mjpeg_pass_at_both_speeds(gate, quality):
    """The issue's new user: sharp dr-600 photos as a UVC camera streams them (MJPEG, quality 50 or
    70), twelve spread over the label file, pass the preview and the full check."""
    folder = "fundus/dr-600"
    for row in _spread(_rows(folder, "labels.csv"), SAMPLE):
        rgb = _image(folder, row).pixels
        streamed = jpeg_at(rgb, quality)
        for speed in Speed:
            report = gate.check(Frame(streamed, "mjpeg"), "fundus", speed)
            assert report.passed, (row["file"], speed, report.reasons)


def test_a_slanted_motion_blur_of_real_photos_is_blurred(gate):
    """The motion blur of the benchmark (30 degrees, strength 2) on ten dr-600 photos spread over
    the label file: eight at least are rejected as blurred (on the bench's thirty, 92% of strengths
    2 and 3), where the focus measured along rows and columns alone missed about half of them."""
    folder = "fundus/dr-600"
    degrade = FUNDUS_DEFECTS["motion"][0]
    reports = [
        gate.check(Frame(degrade(_image(folder, row).pixels, 2), "test"), "fundus")
        for row in _spread(_rows(folder, "labels.csv"), 10)
    ]
    blurred = [not r.passed and "blurred" in r.reasons for r in reports]
    assert sum(blurred) >= 8, [r.measures.get("sharpness_balance") for r in reports]


@pytest.mark.parametrize(
    ("modality", "folder", "table"), [("dermoscopy", f, t) for f, t in SOURCES["dermoscopy"]], ids=str
)
def test_a_fixed_sample_of_real_graded_photos_passes(gate, modality, folder, table):
    """Every one was graded by specialists. One of twelve may fail (the aim is 5% false rejects at
    most). ISIC 2017's ISIC_0014712 was refused as unevenly lit until the light's fall-off was read
    on what is plainly skin: its left half, pigmented skin beside a second dark lesion, read a third
    darker than its right."""
    rejected = {}
    for row in _spread(_rows(folder, table), SAMPLE):
        report = gate.check(_image(folder, row), modality)
        if not report.passed:
            rejected[row["image_id"]] = report.reasons
    assert len(rejected) <= 1, rejected


@pytest.mark.parametrize("folder", ["fundus/dr-600", "fundus/aptos2019-224"])
def test_real_referable_eyes_are_not_read_as_exposure_defects(gate, folder):
    """Severe and proliferative DR (grades 3, 4: haemorrhages, exudates, new vessels) and the same
    number of eyes without DR: a severe eye is never rejected as too dark or too bright, and severe
    eyes are rejected no more often than healthy ones (one photo of slack). Glare is left to the
    synthetic exudates above: APTOS's 352e4a939242 has exudates and a real white reflex too."""
    rows = _rows(folder, "labels.csv")
    severe = _spread([r for r in rows if r["icdr_grade"] in ("3", "4")], 16)
    healthy = _spread([r for r in rows if r["icdr_grade"] == "0"], 16)
    reports = {
        name: [gate.check(_image(folder, r), "fundus") for r in group]
        for name, group in (("severe", severe), ("healthy", healthy))
    }
    for report in reports["severe"]:
        assert report.passed or not {"too_dark", "too_bright"} & set(report.reasons), report
    rejects = {name: sum(not r.passed for r in group) for name, group in reports.items()}
    assert rejects["severe"] <= rejects["healthy"] + 1, rejects


def test_two_round_glints_are_the_skins_four_are_the_light_source(gate):
    """The bench's glare (tests/degradations.py) on the bundled naevus: two round burnt-out spots
    (strength 1) are not refused (graded photos hold as many; the nurse is told), four (strength 2)
    are the dermatoscope's ring of LEDs reflected, refused as glare (``max_glare_spots``, declared;
    fitted on HAM10000 alone, none of whose graded photos holds one, it was 0, and two refused:
    ``test_fit`` holds that such photos no longer lower it)."""
    photo = read_frame(SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg").pixels
    two = judge(gate, glare(photo, 1), "dermoscopy")
    assert two.passed and two.measures["glare_spots"] == 2, two
    four = judge(gate, glare(photo, 2), "dermoscopy")
    assert not four.passed and "glare" in four.reasons and four.measures["glare_spots"] == 4, four
