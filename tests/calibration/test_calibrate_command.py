"""``edgescreen calibrate`` makes a profile from photos of targets; the pipeline applies it and says so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from firmware_app.app import load_calibration
from firmware_app.calibration.profile import (
    PROFILE_SCHEMA,
    UNCALIBRATED,
    ProfileError,
    new_profile,
    read_profile,
    write_profile,
)
from firmware_app.capture.image_file import decode_frame, read_frame
from firmware_app.cli import main
from firmware_app.config import SAMPLES_DIR, CalibrationConfig, Config
from firmware_app.inference.triage import ungradable
from firmware_app.messages import message, sentence
from firmware_app.pipeline import ScreeningResult
from firmware_app.quality.verdict import QualityReport, Verdict
from firmware_app.report import result_json, result_line
from tests.calibration.render import (
    checkerboard_views,
    photographed_chart,
    scale_target,
    through_vignetting,
    uniform_target_frames,
)
from tests.calibration.test_geometry import BOARD, CAMERA, DISTORTION, SIZE, SQUARE_MM
from tests.capture import fake_picamera2
from tests.conftest import filled, other_copies, write_rgb
from tests.records.kit import in_language, open_store, records_table, write_config
from tests.test_cli import edgescreen, json_lines, said_lines


def calibrate(*args: str) -> int:
    return main(["calibrate", *args])


@pytest.fixture(scope="module")
def targets(tmp_path_factory, retina_rgb):
    """Photos of each target as a camera with vignetting and a colour cast took them, and one fundus."""
    folder = tmp_path_factory.mktemp("targets")
    photos = {
        "flat": [write_rgb(folder / f"flat{i}.png", f) for i, f in enumerate(uniform_target_frames(480, 640, 3))],
        "chart": [write_rgb(folder / "chart.png", through_vignetting(photographed_chart(seed=7)))],
        "square": [
            write_rgb(folder / f"square{i}.png", scale_target(0.02, 10.0, (1280, 960), angle, i))
            for i, angle in enumerate((3, -20))
        ],
        "board": [
            write_rgb(folder / f"board{i}.png", view)
            for i, view in enumerate(checkerboard_views(CAMERA, DISTORTION, SIZE, BOARD, SQUARE_MM))
        ],
        "fundus": [write_rgb(folder / "fundus.jpg", retina_rgb)],
    }
    return {name: [str(p) for p in paths] for name, paths in photos.items()}


def test_a_profile_is_made_step_by_step(tmp_path, targets, capsys):
    profile = tmp_path / "calibration" / "device.json"
    common = ["--profile", str(profile), "--camera-model", "imx708", "--serial", "SN 42", "--by", "tech"]
    assert calibrate("flat", *common, *targets["flat"]) == 0
    assert calibrate("colour", *common, *targets["fundus"], *targets["chart"]) == 0
    assert f"{targets['fundus'][0]}  REFUSED" in capsys.readouterr().err
    assert calibrate("scale", *common, "--target-mm", "10", *targets["square"]) == 0

    made = read_profile(profile)
    assert made.steps() == ["flat_field", "colour", "scale"]
    assert (made.camera_model, made.camera_serial, made.made_by) == ("imx708", "SN 42", "tech")
    assert made.id.startswith("SN-42-")
    assert made.colour.delta_e76_before["mean"] > 10 > 2 > made.colour.delta_e76_after["mean"]
    assert made.scale.mm_per_pixel == pytest.approx(0.02, rel=0.005)
    document = json.loads(profile.read_text())
    assert document["schema"] == PROFILE_SCHEMA and document["id"] == made.id


def test_geometry_from_checkerboard_photos(tmp_path, targets, capsys):
    profile = tmp_path / "lens.json"
    board = ["--board", "9x6", "--square-mm", str(SQUARE_MM)]
    assert calibrate("geometry", "--profile", str(profile), *board, *targets["board"], *targets["fundus"]) == 0
    lens = read_profile(profile).geometry
    assert lens.views == 8 and lens.reprojection_rms_px < 0.25 and lens.image_size == SIZE
    assert f"{targets['fundus'][0]}  REFUSED  1411x1411 differs" in capsys.readouterr().err


def test_inputs_without_the_target_are_refused_and_the_profile_is_untouched(tmp_path, targets, capsys):
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    before = profile.read_text()
    assert calibrate("colour", "--profile", str(profile), *targets["fundus"]) == 1
    assert calibrate("geometry", "--profile", str(profile), *targets["board"][:2]) == 1
    assert calibrate("flat", "--profile", str(profile), *targets["flat"], *targets["chart"]) == 1
    err = capsys.readouterr().err
    assert "colour calibration refused" in err and "at least 3 are needed" in err
    assert "differs from the first photo's 640x480" in err
    assert profile.read_text() == before


def test_a_colour_chart_given_as_the_flat_card_is_refused_as_a_chart(tmp_path, targets, capsys):
    """It was refused as "not uniform (texture 433948% ...)", which told the technician nothing."""
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["chart"]) == 1
    err = capsys.readouterr().err
    assert f"{targets['chart'][0]}  REFUSED  this is the colour chart, not a flat card" in err
    assert "'edgescreen calibrate colour'" in err and "texture" not in err and not profile.exists()


def test_the_steps_to_make_again_are_named_in_a_sentence(tmp_path, targets, capsys):
    """The note read "scale were measured before this change: make them again"."""
    profile = ["--profile", str(tmp_path / "device.json")]
    assert calibrate("colour", *profile, *targets["chart"]) == 0
    assert calibrate("scale", *profile, "--target-mm", "10", *targets["square"]) == 0
    capsys.readouterr()
    assert calibrate("colour", *profile, *targets["chart"]) == 0
    assert "note: the scale step was measured before this change: make it again\n" in capsys.readouterr().out
    assert calibrate("flat", *profile, *targets["flat"]) == 0
    said = capsys.readouterr().out
    assert "note: the colour and scale steps were measured before this change: make them again, in this order" in said


def test_a_hand_edited_or_broken_profile_is_refused(tmp_path, targets):
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    document = json.loads(profile.read_text())
    document["flat_field"]["gains"][0][0][0] = 9.0
    profile.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match="edited by hand"):
        read_profile(profile)
    profile.write_text("{not json")
    with pytest.raises(ProfileError, match="not a readable JSON calibration profile"):
        read_profile(profile)
    with pytest.raises(ProfileError, match="not found"):
        read_profile(tmp_path / "absent.json")


@pytest.mark.parametrize("damage", ["cut short", "edited by hand"])
def test_a_broken_profile_cannot_be_added_to_and_calibrate_says_what_to_do(tmp_path, targets, capsys, damage):
    """The refusal said "make it again with `edgescreen calibrate`", which then refused the same file."""
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    if damage == "cut short":
        profile.write_text(profile.read_text()[:200])
    else:
        profile.write_text(profile.read_text().replace('"frames": 3', '"frames": 4'))
    broken = profile.read_text()
    capsys.readouterr()
    assert calibrate("colour", "--profile", str(profile), *targets["chart"]) == 2
    said = capsys.readouterr().err
    assert f"move it aside (mv {profile} {profile}.broken) and make each step of the profile again" in said
    assert profile.read_text() == broken


def test_a_profile_that_cannot_be_written_is_said_so_not_a_traceback(tmp_path, targets, capsys):
    """A folder that cannot be written (a technician without sudo under /etc/edgescreen, a read-only
    card; here a path through a file, as root can write anywhere) raised a traceback."""
    in_a_file = Path(targets["flat"][0]) / "device.json"
    assert calibrate("flat", "--profile", str(in_a_file), *targets["flat"]) == 2
    said = capsys.readouterr().err
    assert f"flat measured but not written: cannot write {in_a_file}" in said and "as root" in said


def test_a_step_for_another_camera_is_not_added_to_this_cameras_profile(tmp_path, targets, capsys):
    """--camera-model and --serial only named a new profile's camera: a colour chart photographed with
    the dermatoscope was added, silently, to the fundus camera's profile."""
    profile = tmp_path / "device.json"
    assert (
        calibrate("flat", "--profile", str(profile), "--camera-model", "imx708", "--serial", "SN-A", *targets["flat"])
        == 0
    )
    before = profile.read_text()
    capsys.readouterr()
    assert calibrate("colour", "--profile", str(profile), "--serial", "SN-B", *targets["chart"]) == 2
    said = capsys.readouterr().err
    assert "it is the profile of camera 'imx708', serial 'SN-A'; --serial 'SN-B' names another" in said
    assert profile.read_text() == before
    assert (
        calibrate(
            "colour", "--profile", str(profile), "--serial", "SN-A", "--camera-model", "imx708", *targets["chart"]
        )
        == 0
    )
    assert read_profile(profile).camera_serial == "SN-A" and read_profile(profile).colour is not None


def test_a_profile_names_its_device_and_another_device_neither_screens_with_it_nor_adds_to_it(tmp_path, targets):
    """A profile copied from the unit next to it measured that unit's camera, optics and light: applied
    here it changed every photo, and results named its id as if it were this device's."""
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    assert json.loads(profile.read_text())["device"] == Config().device.id == read_profile(profile).device_id
    before = profile.read_text()
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nid = "cam-07"\n[calibration]\nprofile = "{profile}"\n{records_table(tmp_path)}')
    screened = edgescreen("screen", "--modality", "fundus", "--json", targets["fundus"][0], config=config)
    made_on = Config().device.id
    assert screened.returncode == 2 and f"made on device '{made_on}', and this is 'cam-07'" in screened.stderr
    added = edgescreen("calibrate", "colour", *targets["chart"], config=config)
    assert added.returncode == 2 and "made on device" in added.stderr and "move it aside" in added.stderr
    assert profile.read_text() == before


def test_a_step_repeated_on_a_profile_that_names_no_device_ties_it_to_this_one(tmp_path, targets):
    """Profiles made before they named their device: the technician repeats a step here and the
    profile is this device's from then on (``doctor`` warns until then)."""
    profile = tmp_path / "device.json"
    write_profile(new_profile("imx708", "SN-1", "tech", ""), profile)
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    assert read_profile(profile).device_id == Config().device.id


def test_results_carry_the_profile_id_or_uncalibrated(tmp_path, targets):
    profile_path = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile_path), *targets["flat"]) == 0
    profile = load_calibration(Config(calibration=CalibrationConfig(profile=profile_path)))
    assert load_calibration(Config()) is None
    for calibration in (profile.id, UNCALIBRATED):
        quality = QualityReport("fundus", Verdict.REJECT, ("blurred",))
        result = ScreeningResult("eye.jpg", "fundus", ungradable(), quality, calibration)
        assert result_json(result, "en")["calibration"] == calibration
        said = message("records.uncalibrated", "fr") if calibration == UNCALIBRATED else f"étalonnage {calibration}"
        assert f"  {said}  " in result_line(result, "fr")


def test_screen_applies_the_configured_profile(tmp_path, targets):
    """The whole command: a profile named in the config is applied, and every result names it."""
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    config = tmp_path / "config.toml"
    config.write_text(f'[calibration]\nprofile = "{profile}"\n{records_table(tmp_path)}')
    run = edgescreen("screen", "--modality", "fundus", "--json", targets["fundus"][0], config=config)
    assert run.returncode == 0, run.stderr
    (result,) = json_lines(run.stdout)
    assert result["calibration"] == read_profile(profile).id
    assert "calibration.loaded" in run.stderr
    config.write_text(f'[calibration]\nprofile = "{tmp_path / "absent.json"}"\n{records_table(tmp_path)}')
    refused = edgescreen("screen", "--json", targets["fundus"][0], config=config)
    assert refused.returncode == 2 and "calibration.refused" in refused.stderr
    assert "absent.json: calibration profile not found" in refused.stderr
    uncalibrated = edgescreen("screen", "--json", targets["fundus"][0])
    assert np.all([r["calibration"] == UNCALIBRATED for r in json_lines(uncalibrated.stdout)])


def test_a_photo_exported_from_the_records_is_not_calibrated_a_second_time(tmp_path, targets):
    """``records export`` writes the recorded photo, calibrated already; ``screen`` given it applied the
    profile again and recorded a second screening triaged on colours corrected twice."""
    profile = tmp_path / "device.json"
    config = write_config(tmp_path, 1, f'[calibration]\nprofile = "{profile}"\n')
    assert main(["--config", str(config), "calibrate", "flat", *targets["flat"]]) == 0  # this device's
    run = edgescreen("screen", "--modality", "fundus", "--json", targets["fundus"][0], config=config)
    (first,) = json_lines(run.stdout)
    out = tmp_path / "out"
    assert edgescreen("records", "export", first["result_id"], "--out", str(out), config=config).returncode == 0
    exported = out / f"{first['result_id']}-0.jpg"
    again = edgescreen("screen", "--modality", "fundus", "--json", str(exported), config=config)
    assert again.returncode == 1, again.stderr  # on main: 0, a second result on twice-calibrated colours
    (refused,) = json_lines(again.stdout)
    assert refused["code"] == "calibrated_export"
    assert f"exported from the records (result {first['result_id']})" in refused["error"]
    assert f"(profile {first['calibration']})" in refused["error"]
    assert f"edgescreen records show {first['result_id']}" in refused["error"]
    assert "screen.image_refused" in again.stderr and str(exported) not in again.stderr  # the log names no file
    # The mark leaves the photo's pixels as they were: it decodes to the recorded picture.
    store = open_store(tmp_path)
    kept = store.view(first["result_id"], with_photo=True)["photo"]
    assert store.records.connection.execute("SELECT count(*) FROM screening").fetchone()[0] == 1
    store.records.close()
    assert np.array_equal(read_frame(exported).pixels, decode_frame(kept, exported).pixels)
    assert len(exported.read_bytes()) - len(kept) < 200
    # Nor is it measured for a step: calibrate says why in the same words, not as a file it cannot read.
    step = edgescreen("calibrate", "colour", str(exported), *targets["chart"], config=config)
    assert f"{exported}  REFUSED  exported from the records (result {first['result_id']})" in step.stderr
    # And in the device's language: the word as well as the reason.
    french = edgescreen("screen", "--modality", "fundus", str(exported), config=in_language(config, "fr"))
    assert f"{exported}  REFUSÉE  exportée des dossiers (résultat {first['result_id']})" in french.stdout


def test_a_photo_exported_from_an_uncalibrated_device_is_screened(tmp_path, targets):
    """Its pixels were never calibrated: this device's profile corrects them once, as any photo."""
    config = write_config(tmp_path, 1)
    (first,) = json_lines(
        edgescreen("screen", "--modality", "fundus", "--json", targets["fundus"][0], config=config).stdout
    )
    assert first["calibration"] == UNCALIBRATED
    out = tmp_path / "out"
    assert edgescreen("records", "export", first["result_id"], "--out", str(out), config=config).returncode == 0
    again = edgescreen(
        "screen", "--modality", "fundus", "--json", str(out / f"{first['result_id']}-0.jpg"), config=config
    )
    assert again.returncode == 0, again.stdout


@pytest.mark.parametrize("size", ["0", "-10", "inf", "nan", "ten"])
def test_a_printed_size_that_is_no_size_is_refused_and_the_profile_untouched(tmp_path, targets, size):
    """``--target-mm 0`` wrote a profile every screening refused, which calibrate itself could then not
    read to put right: the whole profile had to be made again."""
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    before = profile.read_text()
    with pytest.raises(SystemExit) as refused:
        calibrate("scale", "--profile", str(profile), "--target-mm", size, *targets["square"])
    assert refused.value.code == 2 and profile.read_text() == before
    with pytest.raises(SystemExit):
        calibrate("geometry", "--profile", str(profile), "--square-mm", size, *targets["board"])


@pytest.mark.parametrize(
    ("edit", "refusal"),
    [
        (lambda d: d["scale"].update(mm_per_pixel=float("inf")), "'scale.mm_per_pixel' must be a positive, finite"),
        (lambda d: d["scale"].update(image_size=[0, 0]), "'scale.image_size' must be a width and a height"),
        (lambda d: d.update(updated="last Tuesday"), "'updated' must be an ISO 8601 time"),
    ],
    ids=["infinite-scale", "empty-frame", "not-a-time"],
)
def test_a_profile_number_no_camera_gives_is_refused_not_used(tmp_path, targets, edit, refusal):
    profile = tmp_path / "device.json"
    assert calibrate("scale", "--profile", str(profile), *targets["square"]) == 0
    document = json.loads(profile.read_text())
    edit(document)
    profile.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match=refusal):
        read_profile(profile)


def test_a_profile_nested_too_deep_to_read_is_refused(tmp_path):
    profile = tmp_path / "device.json"
    profile.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ProfileError, match="not a readable JSON calibration profile"):
        read_profile(profile)


def lens_config(tmp_path: Path, targets, extra: str = "") -> Path:
    """A French device whose profile's lens step was made on the 4:3 board photos (640x480)."""
    profile = tmp_path / "lens.json"
    assert calibrate("geometry", "--profile", str(profile), "--square-mm", str(SQUARE_MM), *targets["board"]) == 0
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nlanguage = "fr"\n[calibration]\nprofile = "{profile}"\n{records_table(tmp_path)}{extra}'
    )
    return config


def test_a_calibration_photo_of_other_proportions_than_the_lens_step_is_refused_saying_its_size(tmp_path, targets):
    """calibrate said "its proportions do not fit the profile's lens step (the log says why)": now the
    sizes, as ``screen`` says them of a photo file, in the device's language."""
    config = lens_config(tmp_path, targets)
    square = targets["fundus"][0]
    run = edgescreen("calibrate", "scale", "--target-mm", "10", square, config=config)
    why = sentence("screen.photo_misfit", "fr", size="1411x1411", calibrated="640x480")
    assert run.returncode == 1 and f"{square}  REFUSÉE  {why}\n" in run.stderr, run.stderr


def test_a_photo_of_other_proportions_than_the_lens_calibration_is_refused_and_the_others_screened(tmp_path, targets):
    """A 4:3 naevus, a square fundus photo, another of the naevus, against a lens step made on 4:3 board
    photos: the run stopped at the square photo, said the camera was not working (exit 2), no error
    object for that photo and the third never screened. A photo file is not the camera: it is that
    photo's refusal, in the device's language, and the run goes on (exit 1), the sizes in the log."""
    config = lens_config(tmp_path, targets)
    naevus, square = str(SAMPLES_DIR / "dermoscopy-synthetic-naevus.jpg"), targets["fundus"][0]
    another = str(other_copies(Path(naevus), tmp_path, 1)[0])  # the same photo given again is screened once
    run = edgescreen("screen", "--modality", "dermoscopy", "--json", naevus, square, another, config=config)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    first, refused, third = json_lines(run.stdout)
    assert first["triage"] in ("refer", "no_refer") and third["triage"] in ("refer", "no_refer")
    why = sentence("screen.photo_misfit", "fr", size="1411x1411", calibrated="640x480")
    assert refused == {"image": square, "modality": "dermoscopy", "error": why, "code": "profile_misfit"}
    assert why.startswith("les proportions de cette photo ne sont pas celles de cette caméra\u00a0: ")
    assert not said_lines(run.stderr)
    (logged,) = [line for line in run.stderr.splitlines() if " screen.image_refused " in line]
    assert "a 1411x1411 frame does not have the proportions of the lens calibration (640x480)" in logged
    assert square not in logged  # the log names no file
    text = edgescreen("screen", "--modality", "dermoscopy", square, naevus, config=config)
    assert text.returncode == 1 and f"{square}  REFUSÉE  {why}" in text.stdout.splitlines()


def test_camera_frames_of_other_proportions_than_the_lens_calibration_are_the_camera_set_up_wrong(tmp_path, targets):
    """The same square photos from the camera (a files camera's folder): every frame it gives misfits,
    so the camera is in another mode than when it was calibrated, or the profile is another camera's.
    Said in the device's language as doctor says it (it was English, "calibration profile refused:
    ...", which sent the technician after a file that reads), the frame's size in the log."""
    camera = f'[camera]\nbackend = "files"\nfiles = ["{targets["fundus"][0]}"]\n'
    config = lens_config(tmp_path, targets, camera)
    run = edgescreen("capture", "--modality", "fundus", "--eye", "L", "--auto", config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    (said,) = said_lines(run.stderr)
    what = message("camera.profile_misfit", "fr")
    assert said == f"edgescreen: {message('health.camera.misconfigured', 'fr').format(what=what)}"
    (logged,) = [line for line in run.stderr.splitlines() if " calibration.refused " in line]
    assert "does not have the proportions of the lens calibration" in logged


def test_a_still_is_taken_from_the_configured_camera_whole_and_uncalibrated(tmp_path, targets):
    """`calibrate still` with the files backend: the target's photo at its own full resolution (a
    still size in the config does not shrink it), pixels as the camera gave them though a profile is
    configured, never over an earlier file; the flat step then takes what it wrote."""
    profile = tmp_path / "device.json"
    assert calibrate("flat", "--profile", str(profile), *targets["flat"]) == 0
    card = Path(targets["flat"][0])
    config = tmp_path / "config.toml"
    config.write_text(
        f'[camera]\nbackend = "files"\nfiles = ["{card}"]\nstill_width = 320\nstill_height = 240\n'
        f'[calibration]\nprofile = "{profile}"\n'
    )
    out = tmp_path / "card-1.png"
    taken = edgescreen("calibrate", "still", "--out", str(out), config=config)
    assert taken.returncode == 0, taken.stderr
    assert "640x480 still from the files camera, uncalibrated" in taken.stdout
    assert np.array_equal(read_frame(out).pixels, read_frame(card).pixels)
    again = edgescreen("calibrate", "still", "--out", str(out), config=config)
    assert again.returncode == 2 and "exists already" in again.stderr
    lossy = edgescreen("calibrate", "still", "--out", str(tmp_path / "card.jpg"), config=config)
    assert lossy.returncode == 2 and "lossless" in lossy.stderr
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    config.write_text(f'[camera]\nbackend = "files"\nfiles = ["{broken}"]\n')
    failed = edgescreen("calibrate", "still", "--out", str(tmp_path / "none.png"), config=config)
    assert failed.returncode == 6 and "none of the 1 images" in failed.stderr  # the camera's words, logged
    assert "the camera is not working: the one photo it reads cannot be used" in failed.stderr
    assert not (tmp_path / "none.png").exists()


STILL_WORDS = {
    "en": {
        "taken": "{out}: 640x480 still from the files camera, uncalibrated\n",
        "exists": "edgescreen: calibrate still: {out} exists already: a still is never written over an earlier "
        "photo; give a new file name\n",
        "lossless": "edgescreen: calibrate still: --out must end in .png, .tif, .tiff, a lossless format",
        "camera": "edgescreen: calibrate still: the camera is not working: the one photo it reads cannot be used. "
        "No photo was taken",
    },
    "fr": {
        "taken": "{out}\u00a0: photo de 640x480 prise par la caméra files, non étalonnée\n",
        "exists": "edgescreen: calibrate still\u00a0: {out} existe déjà\u00a0: une photo n'est jamais écrite "
        "par-dessus une autre\u00a0; donnez un nouveau nom de fichier\n",
        "lossless": "edgescreen: calibrate still\u00a0: --out doit se terminer par .png, .tif, .tiff, un format "
        "sans perte",
        "camera": "edgescreen: calibrate still\u00a0: la caméra ne fonctionne pas\u00a0: la seule photo qu'elle "
        "lit est inutilisable. Aucune photo n'a été prise",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_calibrate_still_speaks_the_devices_language(tmp_path, targets, language):
    """`calibrate still` spoke English whatever [device] language said, and put the camera's and the
    file system's English in its sentences. Every line it says is now the catalogue's, in the
    language `screen` and `capture` speak; paths and driver words stay in the log (a drive's refusal
    gives the file system's reason, as every command's output drive does)."""
    card = Path(targets["flat"][0])
    config = tmp_path / "config.toml"

    def still(out: Path, photo: Path = card) -> tuple[int, str, str]:
        config.write_text(f'[device]\nlanguage = "{language}"\n[camera]\nbackend = "files"\nfiles = ["{photo}"]\n')
        run = edgescreen("calibrate", "still", "--out", str(out), config=config)
        return run.returncode, run.stdout, run.stderr

    words = STILL_WORDS[language]
    out = tmp_path / "card.png"
    assert still(out)[:2] == (0, words["taken"].format(out=out))
    status, _, said = still(out)
    assert status == 2 and said.endswith(words["exists"].format(out=out)), said
    status, _, said = still(tmp_path / "card.jpg")
    assert status == 2 and said.startswith(words["lossless"]), said
    nowhere = tmp_path / "no-folder" / "card.png"
    status, _, said = still(nowhere)
    (told,) = [line for line in said.splitlines() if line.startswith("edgescreen:")]
    unwritable = sentence(
        "refused.output_unwritable", language, path=str(nowhere), reason=message("system.ENOENT", language)
    )
    assert status == 2 and told == f"edgescreen: {unwritable}", said  # as every command's output drive
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    status, _, said = still(tmp_path / "none.png", broken)
    (told,) = [line for line in said.splitlines() if line.startswith("edgescreen:")]
    assert status == 6 and told.startswith(words["camera"]), said
    assert str(broken) not in told and str(broken) in said  # the camera's words: the log line's


def test_a_still_onto_a_full_drive_leaves_no_part_of_a_photo(tmp_path, targets, tiny_filesystem):
    """The photo was left as far as it fitted, exit 2 saying only "the log says why": the next
    `calibrate still` to that name refused it as an earlier photo, and a step given it read a cut-off
    PNG. The full drive is now named, as `backup` and `quality fit` name theirs, and no file is left."""
    card = Path(targets["flat"][0])
    config = tmp_path / "config.toml"
    config.write_text(f'[camera]\nbackend = "files"\nfiles = ["{card}"]\n')
    filled(tiny_filesystem, leaving=65536)  # room for part of the 400 kB photo
    out = tiny_filesystem / "card.png"
    run = edgescreen("calibrate", "still", "--out", str(out), config=config)
    said = sentence("refused.output_disk_full", "en", path=str(out), folder=str(tiny_filesystem))
    left = {path.name: path.stat().st_size for path in tiny_filesystem.iterdir() if path.name != "filler"}
    assert left == {}
    assert run.returncode == 2 and run.stderr.endswith(f"edgescreen: {said}\n"), run.stderr

    (tiny_filesystem / "filler").unlink()
    assert edgescreen("calibrate", "still", "--out", str(out), config=config).returncode == 0
    assert np.array_equal(read_frame(out).pixels, read_frame(card).pixels)


def test_a_still_from_the_raspberry_pi_camera_has_the_configured_manual_controls(tmp_path, monkeypatch, retina_rgb):
    """`calibrate still` sets the controls and takes its one still at once: picamera2 would send
    controls set just before a mode switch too late, so they come with the still's configuration."""
    picamera2 = fake_picamera2.install(monkeypatch, retina_rgb)
    config = tmp_path / "config.toml"
    config.write_text('[camera]\nbackend = "picamera2"\nexposure_us = 8000\nanalogue_gain = 2.0\nlens_position = 4.0\n')
    out = tmp_path / "card.png"
    assert main(["--config", str(config), "calibrate", "still", "--out", str(out)]) == 0
    assert read_frame(out).pixels.shape == (2592, 4608, 3)
    manual = {"ExposureTime": 8000, "AnalogueGain": 2.0, "LensPosition": 4.0}
    modes = {"ExposureTimeMode": 1, "AnalogueGainMode": 1, "AfMode": 0}
    assert picamera2.fake_last_opened.fake_frames == [("still", manual | modes)]


STEP_WORDS = {
    "en": {
        "needs": "edgescreen: calibrate needs --profile FILE (or [calibration] profile in the config)\n",
        "size": "{photo}  REFUSED  960x720 differs from the first photo's 640x480\n",
        "chart": "{photo}  REFUSED  this is the colour chart, not a flat card: the flat field is measured on a plain",
        "boards": "left unchanged: the checkerboard was found in 2 photos; at least 3 are needed, tilted differently",
        "refused": "edgescreen: flat calibration refused, {profile} left unchanged: every frame of the uniform target "
        "must be usable\n",
        "not_photo": "{photo}  REFUSED  not an image file (unrecognised format)\n",
        "measured": "{profile}: profile {id}: colour measured: {{",
        "stale": "note: the colour and scale steps were measured before this change: make them again, in this order\n",
        "other": "edgescreen: colour calibration refused, {profile} left unchanged: it is the profile of camera "
        "'unknown', serial 'SN 1'; --serial 'SN 2' names another: give that camera's own profile file\n",
        "unusable": "edgescreen: colour calibration refused: the profile {broken} cannot be read (the log says why). "
        "A step cannot be added to this file: move it aside (mv {broken} {broken}.broken) and make each step of "
        "the profile again\n",
    },
    "fr": {
        "needs": "edgescreen: calibrate a besoin de --profile FICHIER (ou de [calibration] profile dans la "
        "configuration)\n",
        "size": "{photo}  REFUSÉE  960x720 au lieu de 640x480, la taille de la première photo\n",
        "chart": "{photo}  REFUSÉE  c'est la charte de couleurs, pas un carton uni\u00a0: le champ plat se mesure sur "
        "un carton uni",
        "boards": "inchangé\u00a0: le damier a été trouvé sur 2 photos\u00a0; il en faut au moins 3, inclinées "
        "différemment",
        "refused": "edgescreen: étalonnage flat refusé, {profile} inchangé\u00a0: chaque image de la mire uniforme "
        "doit être utilisable\n",
        "not_photo": "{photo}  REFUSÉE  pas un fichier image (format non reconnu)\n",
        "measured": "{profile}\u00a0: profil {id}\u00a0: étape colour mesurée\u00a0: {{",
        "stale": "note\u00a0: les étapes colour et scale ont été mesurées avant ce changement\u00a0: refaites-les, "
        "dans cet ordre\n",
        "other": "edgescreen: étalonnage colour refusé, {profile} inchangé\u00a0: c'est le profil de la caméra "
        "'unknown', numéro de série 'SN 1'\u00a0; --serial 'SN 2' en désigne une autre\u00a0: donnez le fichier de "
        "profil propre à cette caméra\n",
        "unusable": "edgescreen: étalonnage colour refusé\u00a0: le profil {broken} est illisible (le journal dit "
        "pourquoi). Aucune étape ne peut être ajoutée à ce fichier\u00a0: mettez-le de côté (mv {broken} "
        "{broken}.broken) et refaites chaque étape du profil\n",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_calibrate_steps_speak_the_devices_language(tmp_path, targets, language):
    """`calibrate flat|colour|geometry|scale` spoke English whatever [device] language said: its own
    lines, each photo left out, and what the target lacks (calibration's TargetNotFound). Every line is
    now the catalogue's, in the language `calibrate still` speaks; a profile's own words (the field that
    is wrong) are the log's, which names no photo file. Why a file is no photo is said as ``screen`` says
    it (``ImageError.sentence``): calibrate said only "not a photo this device can read (the log says why)"."""
    config = tmp_path / "config.toml"
    config.write_text(f'[device]\nlanguage = "{language}"\n')
    profile = tmp_path / "device.json"
    words = {key: text.replace("{profile}", str(profile)) for key, text in STEP_WORDS[language].items()}

    def step(*args: str) -> tuple[int, str, str]:
        run = edgescreen("calibrate", *args, config=config)
        return run.returncode, run.stdout, run.stderr

    status, _, said = step("flat", *targets["flat"])
    assert status == 2 and said == words["needs"], said
    chart = targets["chart"][0]
    status, _, said = step("flat", "--profile", str(profile), *targets["flat"], chart)
    assert status == 1 and words["size"].format(photo=chart) in said and said.endswith(words["refused"]), said
    status, _, said = step("flat", "--profile", str(tmp_path / "chart.json"), chart)
    assert status == 1 and words["chart"].format(photo=chart) in said, said
    status, _, said = step("geometry", "--profile", str(tmp_path / "lens.json"), *targets["board"][:2])
    assert status == 1 and words["boards"] in said, said
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"not a photo")
    status, out, said = step("colour", "--profile", str(profile), "--serial", "SN 1", str(notes), chart)
    assert status == 0 and words["not_photo"].format(photo=notes) in said, said
    assert "calibrate.image_refused" in said and "not an image file" in said  # the log's words, English
    assert out.startswith(words["measured"].format(id=read_profile(profile).id)), out
    assert step("scale", "--profile", str(profile), "--target-mm", "10", *targets["square"])[0] == 0
    status, out, _ = step("flat", "--profile", str(profile), *targets["flat"])
    assert status == 0 and out.endswith(words["stale"]), out
    status, _, said = step("colour", "--profile", str(profile), "--serial", "SN 2", chart)
    assert status == 2 and said == words["other"], said
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    status, _, said = step("colour", "--profile", str(broken), chart)
    (told,) = [line for line in said.splitlines(keepends=True) if line.startswith("edgescreen:")]
    assert status == 2 and told == words["unusable"].replace("{broken}", str(broken)), said
    assert "calibrate.profile_refused" in said and "not a readable JSON calibration profile" in said
