"""The fitting rules: ``derive_limits`` (the defaults, leave one source out) and ``edgescreen
quality fit`` (a camera's own limits from its first good photos)."""

from __future__ import annotations

import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from firmware_app.config import DermoscopyQualityConfig, FundusQualityConfig, QualityConfig, load_config
from firmware_app.messages import sentence
from firmware_app.quality.fit import derive_limits, fit_limits, profile_toml
from firmware_app.quality.fundus import RULES
from firmware_app.quality.gate import CAMERA_GEOMETRY, DEVICE_DECLARED, MEASURES, PHYSICAL
from firmware_app.quality.gate import RULES as GATE_RULES
from firmware_app.quality.verdict import Rule
from tests.calibration.render import checkerboard_views, uniform_target_frames
from tests.calibration.test_geometry import BOARD, CAMERA, DISTORTION, SIZE, SQUARE_MM
from tests.conftest import filled, shared_data, write_rgb
from tests.test_cli import edgescreen, json_lines

LENS = (CAMERA, DISTORTION, SIZE, BOARD, SQUARE_MM)


def _good_photos(retina_rgb: np.ndarray, count: int) -> list[np.ndarray]:
    """The same healthy retina as a camera's first photos: exposures and eyes (left, right) vary."""
    gains = np.linspace(0.85, 1.15, count)
    return [
        np.clip(retina_rgb[:, :: (1 if i % 2 else -1)] * gain, 0, 255).astype(np.uint8) for i, gain in enumerate(gains)
    ]


@pytest.fixture(scope="module")
def measured(retina_rgb):
    return [MEASURES["fundus"](rgb, 512, None) for rgb in _good_photos(retina_rgb, 10)]


def test_fitted_limits_are_never_looser_than_the_defaults_nor_tighter_than_midway(measured):
    defaults = FundusQualityConfig()
    for limit in fit_limits(measured, RULES, defaults):
        midway = (limit.photos_median + limit.default) / 2
        if limit.setting.startswith("min_"):
            assert limit.default <= limit.value <= max(limit.default, midway) + 1e-9, limit
        else:
            assert min(limit.default, midway) - 1e-9 <= limit.value <= limit.default, limit


def test_unbounded_limits_follow_the_photos_alone(measured):
    """Not bounded by the defaults: the photos' percentiles, widened (``derive_limits``' fallback)."""
    fitted = {f.setting: f for f in fit_limits(measured, RULES, FundusQualityConfig(), within_defaults=False)}
    sharpness = fitted["min_sharpness"]
    assert sharpness.value < sharpness.photos_min < sharpness.photos_median


def test_no_photo_no_limits():
    with pytest.raises(ValueError, match="no measured photo"):
        fit_limits([], RULES, FundusQualityConfig())


def test_the_command_writes_a_profile_the_device_loads(tmp_path, retina_rgb):
    photos = [write_rgb(tmp_path / f"first-{i}.jpg", rgb) for i, rgb in enumerate(_good_photos(retina_rgb, 10))]
    profile = tmp_path / "camera.toml"
    run = edgescreen(
        "quality", "fit", "--camera-model", "cam-A", "--modality", "fundus", "--out", str(profile), *map(str, photos)
    )
    assert run.returncode == 0, run.stderr
    document = tomllib.loads(profile.read_text(encoding="utf-8"))
    assert document["quality"]["camera_model"] == "cam-A"
    assert "min_sharpness" in document["quality"]["fundus"] and "preview_min_sharpness" in document["quality"]["fundus"]
    assert "# photos" in profile.read_text(encoding="utf-8")  # each limit with its statistics
    config = load_config(str(profile))
    assert config.quality.camera_model == "cam-A"
    assert config.quality.fundus.min_sharpness >= QualityConfig().fundus.min_sharpness
    # The camera's own field sets its geometry; what hangs on the patient keeps its declared value.
    assert config.quality.fundus.min_field_span > QualityConfig().fundus.min_field_span
    # ... and is left to the default, not written: a later release's declared value reaches the device.
    for setting in DEVICE_DECLARED["fundus"]:
        assert setting not in document["quality"]["fundus"], setting
        assert f"# {setting}: declared, the default applies" in profile.read_text(encoding="utf-8"), setting
        assert getattr(config.quality.fundus, setting) == getattr(QualityConfig().fundus, setting), setting
    check = edgescreen("quality", "--modality", "fundus", "--json", str(photos[5]), config=profile)
    assert check.returncode == 0, check.stderr
    assert json_lines(check.stdout)[0]["verdict"] != "reject"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_too_few_measurable_photos_leave_no_profile(tmp_path, retina_rgb, language):
    """Said in the device's language (on main English whatever it was), as is a profile's file that exists."""
    photos = [write_rgb(tmp_path / f"p{i}.jpg", rgb) for i, rgb in enumerate(_good_photos(retina_rgb, 3))]
    black = write_rgb(tmp_path / "black.jpg", np.zeros((400, 400, 3), np.uint8))
    profile, config = tmp_path / "camera.toml", tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n')
    args = ["quality", "fit", "--camera-model", "cam-B", "--out", str(profile), *map(str, [*photos, black])]
    run = edgescreen(*args, config=config)
    assert run.returncode == 2
    left_out = sentence("quality_fit.left_out", language, count=1)
    said = sentence("quality_fit.too_few", language, least=10, count=3, left_out=left_out)
    assert run.stderr.endswith(f"edgescreen: {said}\n") and ("reçues" in said) == (language == "fr")
    assert not profile.exists()
    profile.write_text("")
    there = edgescreen(*args, config=config)
    assert there.returncode == 2
    # After the refusal's log line, in English for the technician, as every command's refusal (cli.main).
    assert there.stderr.endswith(f"\nedgescreen: {sentence('quality_fit.out_exists', language, out=str(profile))}\n")


def test_one_photo_given_ten_times_is_one_photo_and_leaves_no_profile(tmp_path, retina_rgb):
    """Ten copies of one photo (a file copied, a folder globbed twice) set every limit from that one
    photo: min_disc_contrast went from the default 0.085 to 0.43, refusing darker fundi."""
    photo = write_rgb(tmp_path / "first.png", _good_photos(retina_rgb, 1)[0])
    copies = [photo, *(photo.with_name(f"copy-{i}.png") for i in range(9))]
    for copy in copies[1:]:
        copy.write_bytes(photo.read_bytes())
    profile = tmp_path / "camera.toml"
    run = edgescreen("quality", "fit", "--camera-model", "cam-D", "--out", str(profile), *map(str, copies))
    assert run.returncode == 2 and "got 1 (9 left out)" in run.stderr, run.stderr
    assert 'quality.fit_skipped photo=10 error="the same picture as photo 1"' in run.stderr
    assert not profile.exists()


def test_calibration_photos_left_in_the_folder_are_no_good_photos(tmp_path, retina_rgb):
    """Grey cards and checkerboards (the technician's calibration photos) were counted as "17 good
    fundus photos" and fitted; the gate refuses each as greyscale whatever the limits."""
    cards = [write_rgb(tmp_path / f"card-{i}.png", f) for i, f in enumerate(uniform_target_frames(480, 640, 6))]
    boards = [write_rgb(tmp_path / f"board-{i}.png", v) for i, v in enumerate(checkerboard_views(*LENS)[:5])]
    good = write_rgb(tmp_path / "first.jpg", _good_photos(retina_rgb, 1)[0])
    profile = tmp_path / "camera.toml"
    run = edgescreen(
        "quality", "fit", "--camera-model", "cam-F", "--out", str(profile), *map(str, [*cards, *boards, good])
    )
    assert run.returncode == 2 and "got 1 (11 left out)" in run.stderr, run.stderr
    assert "the gate refuses it whatever the limits (greyscale)" in run.stderr
    assert not profile.exists()


def test_retinas_given_to_a_dermoscopy_fit_are_no_good_photos(tmp_path):
    """Twelve of dr-600's retinas fitted as "12 good dermoscopy photos" a profile the dermoscopy gate
    then judged skin by; the gate refuses a retina on a skin visit whatever the limits
    (``quality.modality``), so too few are left to fit."""
    retinas = sorted(shared_data("fundus/dr-600/images").glob("*.jpg"))[:12]
    profile = tmp_path / "camera.toml"
    run = edgescreen(
        "quality",
        "fit",
        "--camera-model",
        "cam-G",
        "--modality",
        "dermoscopy",
        "--out",
        str(profile),
        *map(str, retinas),
    )
    assert run.returncode == 2 and "at least 10" in run.stderr, run.stderr
    assert "the gate refuses it whatever the limits (wrong_modality)" in run.stderr
    assert not profile.exists()


def test_the_profile_is_never_written_over_an_existing_file(tmp_path, retina_rgb):
    """``--out /etc/edgescreen/config.toml`` replaced the device's whole config with the [quality] tables."""
    photos = [write_rgb(tmp_path / f"p{i}.jpg", rgb) for i, rgb in enumerate(_good_photos(retina_rgb, 10))]
    config = tmp_path / "config.toml"
    config.write_text('[device]\nid = "clinic-7"\n')
    run = edgescreen("quality", "fit", "--camera-model", "cam-E", "--out", str(config), *map(str, photos))
    assert run.returncode == 2 and "exists; the profile is never written over a file" in run.stderr
    assert config.read_text() == '[device]\nid = "clinic-7"\n'


def _fit_to(out: Path, tmp_path: Path, retina_rgb: np.ndarray, language: str = "en") -> subprocess.CompletedProcess:
    """``quality fit --out out`` of ten good photos, on a device speaking ``language``."""
    photos = [write_rgb(tmp_path / f"p{i}.jpg", rgb) for i, rgb in enumerate(_good_photos(retina_rgb, 10))]
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n')
    return edgescreen("quality", "fit", "--camera-model", "cam-H", "--out", str(out), *map(str, photos), config=config)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_profile_for_a_folder_that_is_not_there_is_refused_in_the_devices_language(tmp_path, retina_rgb, language):
    """A USB stick not mounted: on main a FileNotFoundError traceback, exit status 1; then the system's
    reason in English inside the French sentence."""
    out = tmp_path / "usb-not-mounted" / "camera.toml"
    run = _fit_to(out, tmp_path, retina_rgb, language)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    reason = {"en": "No such file or directory", "fr": "aucun fichier ni dossier de ce nom"}[language]
    said = sentence("refused.output_unwritable", language, path=str(out), reason=reason)
    assert run.stderr.endswith(f"edgescreen: {said}\n"), run.stderr


def test_a_profile_onto_a_read_only_drive_is_refused(tmp_path, tiny_filesystem, retina_rgb):
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    out = tiny_filesystem / "camera.toml"
    run = _fit_to(out, tmp_path, retina_rgb)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr  # on main: OSError, EROFS
    assert f"{out}: cannot be written there (Read-only file system)" in run.stderr


def test_a_full_drive_leaves_no_empty_profile_that_refuses_the_next_fit(tmp_path, tiny_filesystem, retina_rgb):
    """On main a traceback and an empty camera.toml, which the next fit refused as a profile there."""
    filled(tiny_filesystem)
    out = tiny_filesystem / "camera.toml"
    run = _fit_to(out, tmp_path, retina_rgb)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert f"{out}: the disk is full; free space on {tiny_filesystem}" in run.stderr
    assert sorted(path.name for path in tiny_filesystem.iterdir()) == ["filler"]

    (tiny_filesystem / "filler").unlink()
    assert _fit_to(out, tmp_path, retina_rgb).returncode == 0
    assert tomllib.loads(out.read_text(encoding="utf-8"))["quality"]["camera_model"] == "cam-H"


def test_the_profile_is_never_written_through_a_link(tmp_path, retina_rgb):
    """A link to a file yet to be made passed for no file, and the profile was written where it led."""
    elsewhere = tmp_path / "elsewhere.toml"
    out = tmp_path / "camera.toml"
    out.symlink_to(elsewhere)
    run = _fit_to(out, tmp_path, retina_rgb)
    assert run.returncode == 2 and "exists; the profile is never written over a file" in run.stderr, run.stderr
    assert not elsewhere.exists()


def test_a_folder_given_for_the_profile_says_to_name_a_file_in_it(tmp_path, retina_rgb):
    """A folder read "exists; the profile is never written over a file", as if a file were there."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    run = _fit_to(folder, tmp_path, retina_rgb, "fr")
    assert run.returncode == 2 and "existe" not in run.stderr, run.stderr
    said = sentence("refused.output_is_folder", "fr", path=str(folder), example=str(folder / "quality.toml"))
    assert run.stderr.endswith(f"edgescreen: {said}\n"), run.stderr
    assert list(folder.iterdir()) == []


def test_a_photo_left_out_is_logged_by_its_place_and_reason_never_its_file_name(tmp_path, retina_rgb):
    """A clinic's file names are often patients' names: the log says which photo by its place in the
    list, and why (a truncated JPEG's message starts with its path)."""
    good = write_rgb(tmp_path / "good.jpg", _good_photos(retina_rgb, 1)[0])
    named = tmp_path / "DUPONT_Jeanne_1957-03-02.jpg"
    named.write_bytes(good.read_bytes()[:-200])
    run = edgescreen("quality", "fit", "--camera-model", "cam-C", "--out", str(tmp_path / "c.toml"), str(named))
    assert run.returncode == 2
    assert "quality.fit_skipped photo=1" in run.stderr and "truncated" in run.stderr
    assert "DUPONT" not in run.stderr


@dataclass(frozen=True)
class _Limits:
    max_noise: float = 9.0
    min_sharpness: float = 0.1
    max_glare: float = 0.5
    max_cut: float = 0.3


_RULES = (
    Rule("noisy", "noise", "max_noise", 1.0),
    Rule("blurred", "sharpness", "min_sharpness", 0.7),
    Rule("glare", "glare", "max_glare", 0.0),
    Rule("cut", "cut", "max_cut", 0.0),
)


def _measures(noise: float, sharpness: float, glare: float = 0.0, cut: float = 0.0) -> dict[str, float]:
    return {"noise": noise, "sharpness": sharpness, "glare": glare, "cut": cut}


def test_derived_limits_lie_between_the_photos_and_their_mild_defects_when_these_are_apart():
    """Noise: mild defects all far above the photos, so midway between the photos' 99.5th
    percentile and the defects' 10th. Sharpness (mild blur overlapping the photos) and glare (no
    defect exercises it): the photos' percentile widened by a quarter. Cut: physical, the default
    whatever the photos say."""
    rng = np.random.default_rng(3)
    good = [_measures(n, s, g, c) for n, s, g, c in rng.uniform((0.5, 0.6, 0.0, 0.0), (1.5, 0.8, 0.1, 0.9), (400, 4))]
    mild = {
        "noisy": [_measures(n, 0.7) for n in rng.uniform(3.0, 5.0, 50)],
        "blurred": [_measures(1.0, s) for s in rng.uniform(0.5, 0.7, 50)],
    }
    derived = {limit.setting: limit for limit in derive_limits(good, mild, _RULES, _Limits(), physical={"max_cut"})}
    noise = np.array([m["noise"] for m in good])
    edge = np.percentile([m["noise"] for m in mild["noisy"]], 10)
    assert derived["max_noise"].how == "between"
    assert derived["max_noise"].value == pytest.approx((np.percentile(noise, 99.5) + edge) / 2)
    sharpness = np.array([m["sharpness"] for m in good])
    lowest = np.percentile(sharpness, 0.5)
    assert derived["min_sharpness"].how == "percentile"
    assert derived["min_sharpness"].value == pytest.approx(lowest - 0.25 * (np.median(sharpness) - lowest))
    glare = np.array([m["glare"] for m in good])
    extreme = np.percentile(glare, 99.5)
    assert derived["max_glare"].how == "percentile"
    assert derived["max_glare"].value == pytest.approx(extreme + 0.25 * (extreme - np.median(glare)))
    assert (derived["max_cut"].how, derived["max_cut"].value) == ("physical", 0.3)
    assert derived["max_cut"].photos_max > 0.3


def test_a_share_nearly_every_photo_has_none_of_is_limited_past_the_few_that_have_some():
    """Glare on 300 photos, of which one has a little: its 99.5th percentile is the photos' median,
    0, and a limit there would refuse the next photo with one glint. The limit is set from the
    largest value seen instead, widened as the percentile would be; a measure with a tail keeps
    its percentile."""
    good = [_measures(1.0, 0.7, glare=0.0) for _ in range(299)] + [_measures(1.0, 0.7, glare=0.02)]
    derived = {limit.setting: limit for limit in derive_limits(good, {}, _RULES, _Limits())}
    assert derived["max_glare"].how == "percentile"
    assert derived["max_glare"].value == pytest.approx(0.02 + 0.25 * 0.02)
    fitted = {limit.setting: limit for limit in fit_limits(good, _RULES, _Limits(), within_defaults=False)}
    assert fitted["max_glare"].value == pytest.approx(0.025)
    rng = np.random.default_rng(4)
    tailed = [_measures(1.0, 0.7, glare=g) for g in rng.uniform(0.0, 0.1, 300)]
    glare = np.array([m["glare"] for m in tailed])
    limit = {f.setting: f for f in derive_limits(tailed, {}, _RULES, _Limits())}["max_glare"]
    assert limit.value == pytest.approx(np.percentile(glare, 99.5) * 1.25 - 0.25 * np.median(glare))


def test_no_photo_nothing_derived():
    with pytest.raises(ValueError, match="no measured photo"):
        derive_limits([], {}, _RULES, _Limits())


def test_the_previews_focus_limit_is_a_lower_limit(measured):
    """``preview_min_sharpness`` is a minimum like ``min_sharpness``, fitted below the photos."""
    preview = [m["sharpness"] for m in measured]
    fitted = fit_limits(measured, RULES, FundusQualityConfig(), within_defaults=False, preview_sharpness=preview)
    limit = next(f for f in fitted if f.setting == "preview_min_sharpness")
    assert limit.value < limit.photos_min


@pytest.mark.parametrize("modality", ["fundus", "dermoscopy"])
def test_every_declared_physical_limit_is_a_setting_one_of_the_gates_rules_reads(modality):
    """A misspelt name in a gate's ``PHYSICAL`` would silently let the rule fit that limit."""
    settings = {rule.setting for rule in GATE_RULES[modality]}
    assert PHYSICAL[modality] and PHYSICAL[modality] <= settings
    assert CAMERA_GEOMETRY[modality] <= PHYSICAL[modality]
    limits = QualityConfig().limits(modality)
    assert all(hasattr(limits, setting) for setting in PHYSICAL[modality])


def test_a_limit_no_photo_measured_is_left_to_the_default_not_written_into_the_profile():
    """A camera's own photos carry no dermoscopy ``coarse_sharpness`` (``dermoscopy._focus``): its
    limit is written as a comment, so the profile does not pin today's default for good."""
    measured = [{"sharpness": 0.6 + 0.01 * i, "sharpness_balance": 0.9 + 0.005 * i} for i in range(12)]
    fitted = fit_limits(measured, GATE_RULES["dermoscopy"], DermoscopyQualityConfig())
    text = profile_toml("camera X", "dermoscopy", fitted, len(measured), 0)
    limits = tomllib.loads(text)["quality"]["dermoscopy"]
    assert set(limits) == {"min_sharpness", "min_sharpness_balance"}
    assert "# min_coarse_sharpness: none of these photos carries its measure" in text


def test_a_limit_only_a_few_photos_measured_is_left_to_the_default():
    """Ten archived 200-pixel photos and one camera frame: the frame alone says nothing of a camera's
    focus, so the limits of the measures only it carries stay at their defaults."""
    small = [{"coarse_sharpness": 0.6 + 0.01 * i} for i in range(10)]
    frame = [{"sharpness": 0.71, "sharpness_balance": 0.93}]
    fitted = {
        f.setting: f for f in fit_limits(small + frame, GATE_RULES["dermoscopy"], DermoscopyQualityConfig(), least=10)
    }
    assert fitted["min_sharpness"].how == fitted["min_sharpness_balance"].how == "unseen"
    assert fitted["min_coarse_sharpness"].how != "unseen"


def _assert_declared_both_ways(good: list[dict[str, float]], mild: dict, settings: tuple[str, ...]) -> None:
    """``settings`` keep their declared dermoscopy defaults, marked physical, both where limits are
    fitted: by the rule on graded photos (``derive_limits``: the defaults, the bench) and on a
    device's own first photos (``fit_limits``: ``edgescreen quality fit``)."""
    defaults = DermoscopyQualityConfig()
    derived = derive_limits(good, mild, GATE_RULES["dermoscopy"], defaults, physical=PHYSICAL["dermoscopy"])
    fitted = fit_limits(good, GATE_RULES["dermoscopy"], defaults, declared=PHYSICAL["dermoscopy"])
    for limits in ({limit.setting: limit for limit in derived}, {limit.setting: limit for limit in fitted}):
        for setting in settings:
            assert limits[setting].how == "physical", limits[setting]
            assert limits[setting].value == getattr(defaults, setting)


def test_dermoscopys_burnt_out_skin_and_glare_are_declared_not_read_off_one_camera():
    """A dermatoscope whose graded photos hold no glint and no skin paler than 0.87 (HAM10000's, by
    the rule: 0 glare spots, a glare share of 0.0009 and a brightness limit of 0.87 refused another
    camera's graded photos) leaves those limits at their declared values, marked physical."""
    good = [{"brightness": 0.5 + 0.001 * i, "glare_spots": 0.0, "glare_fraction": 0.0} for i in range(300)]
    _assert_declared_both_ways(good, {}, ("max_brightness", "max_glare_spots", "max_glare_fraction"))


def test_dermoscopys_lesion_contrast_is_declared_a_faint_lesion_does_not_switch_it_off():
    """Graded photos hold faint lesions (down to 5.5 on HAM10000 and ISIC 2017 train, median 40):
    the rule's widened percentile fell under 0, a limit no photo can fall below, and a photo of
    plain skin would have passed; and a device's first lesions, all plainly seen, would have raised
    it over faint and amelanotic ones. The limit keeps its declared value either way."""
    graded = [{"lesion_contrast": 5.5 + 130.0 * (i / 299) ** 2} for i in range(300)]
    first_lesions = [{"lesion_contrast": 22.0 + 4.0 * i} for i in range(10)]
    for photos in (graded, first_lesions):
        _assert_declared_both_ways(photos, {}, ("min_lesion_contrast",))


def test_dermoscopys_hair_bubbles_and_empty_jpeg_blocks_are_declared_not_read_off_one_clinic():
    """A clinic whose patients were little hairy, photographed for an archive of small copies that
    show few bubbles and keep texture in every JPEG block (HAM10000's 200-pixel copies: hair over at
    most 0.18 of a lesion, at most 21 bubbles, most none, 0.2 of blocks empty; the rule fitted 0.19,
    13 and 0.178 on them, which refused ISIC 2017's graded photos for hair, bubbles and as
    compressed) leaves the three limits at their declared values, marked physical, the mild
    degradations that would have set one "between" notwithstanding; and a device's own first
    photos (``edgescreen quality fit``) do not narrow them to its first patients either."""
    good = []
    for i in range(300):
        hairy = i % 3 == 0  # a third of the patients have hair over their lesion, up to 0.18 of it
        with_bubbles = i % 10 == 0  # one photo in ten holds bubbles, up to 21
        good.append(
            {
                "hair_fraction": 0.18 * i / 299 if hairy else 0.0,
                "bubbles": float(i % 22) if with_bubbles else 0.0,
                "flat_blocks": 0.2 * i / 299,
            }
        )
    mild = {"compressed": [{"flat_blocks": 0.4}] * 30}
    _assert_declared_both_ways(good, mild, ("max_hair_fraction", "max_bubbles", "max_flat_blocks"))


def test_dermoscopys_too_little_light_is_declared_not_read_off_one_camera():
    """A dermatoscope whose camera leaves its dimmest graded photo at 0.65 (HAM10000's, where the
    rule put the limit at 0.54, between those photos and their mild underexposures, and refused
    ISIC 2017's dimmer graded photos as too dark) leaves ``min_highlights`` at its declared value,
    marked physical; nor do a device's first patients' skins set it for every later one."""
    good = [{"highlights": 0.65 + 0.35 * i / 299} for i in range(300)]
    mild = {"too_dark": [{"highlights": 0.45 * (0.65 + 0.35 * i / 29)} for i in range(30)]}
    _assert_declared_both_ways(good, mild, ("min_highlights",))
