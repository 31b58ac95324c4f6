"""The picamera2 backend against the picamera2 fake: colour order, modes, controls, failures as
``CameraError``, and always closing."""

from __future__ import annotations

import inspect
import sys
import time

import numpy as np
import pytest

from firmware_app.capture.camera import (
    CameraBusy,
    CameraError,
    CameraMisconfigured,
    CameraSettings,
    CameraStalled,
    CameraUnavailable,
    Controls,
    Size,
)
from firmware_app.capture.picamera2_camera import Picamera2Camera, to_rgb
from tests.capture import fake_picamera2
from tests.capture.fake_picamera2 import CAMERA_MODULE_3_LIBCAMERA_0_4, HQ_CAMERA, Picamera2

PREVIEW, STILL = Size(640, 480), Size(2028, 1520)


@pytest.fixture()
def picamera2(monkeypatch, retina_rgb):
    """The fake installed as the ``picamera2`` package, showing the real fundus photo."""
    return fake_picamera2.install(monkeypatch, retina_rgb)


def camera(camera_num: int = 0, **overrides) -> Picamera2Camera:
    settings = {"preview": PREVIEW, "still": STILL, "frame_timeout_s": 0.3} | overrides
    return Picamera2Camera(camera_num, CameraSettings(**settings))


def test_preview_frames_are_rgb_from_four_channel_xrgb(picamera2, retina_rgb):
    with camera() as cam:
        frame = next(cam.preview_frames())
        main = cam._picam.camera_config["main"]
        assert (main["format"], main["size"]) == ("XRGB8888", (640, 480))
    assert frame.pixels.shape == (480, 640, 3) and frame.pixels.dtype == np.uint8
    red, green, blue = (frame.pixels[..., c].mean() for c in range(3))
    assert red > green > blue  # a fundus is red: the B,G,R,X bytes were reordered
    expected = (retina_rgb[..., 0].mean(), retina_rgb[..., 2].mean())
    assert red == pytest.approx(expected[0], abs=2) and blue == pytest.approx(expected[1], abs=2)
    assert frame.source == "picamera2:0:imx708"


def test_still_burst_is_full_resolution_rgb_and_preview_resumes(picamera2):
    with camera(still=Size(0, 0)) as cam:
        burst = cam.capture_burst(3)
        assert cam._picam.camera_config["use_case"] == "preview"
        after = next(cam.preview_frames())
    assert [f.pixels.shape for f in burst] == [(2592, 4608, 3)] * 3
    assert burst[0].pixels[..., 0].mean() > burst[0].pixels[..., 2].mean() + 30
    assert after.pixels.shape == (480, 640, 3)


@pytest.mark.parametrize(
    ("pixel_format", "pixel", "rgb"),
    [
        ("XRGB8888", [30, 20, 10, 255], [10, 20, 30]),
        ("XBGR8888", [10, 20, 30, 255], [10, 20, 30]),
        ("RGB888", [30, 20, 10], [10, 20, 30]),
        ("BGR888", [10, 20, 30], [10, 20, 30]),
    ],
)
def test_each_pixel_format_byte_order(pixel_format, pixel, rgb):
    array = np.array(pixel, np.uint8).reshape(1, 1, -1)
    assert to_rgb(array, pixel_format).tolist() == [[rgb]]


def test_a_wrong_array_shape_is_refused():
    with pytest.raises(CameraError, match="should be HxWx4"):
        to_rgb(np.zeros((4, 4, 3), np.uint8), "XRGB8888")


def test_a_camera_that_stops_delivering_raises_instead_of_hanging(picamera2, monkeypatch):
    """The stalled frame is waited for the frame timeout and no longer: the wait each job is given is
    counted (around the fake's real wait, a minute's hang guard in place of none), not its time."""
    picamera2.fake_stall_after = 5
    waits: list[float | None] = []
    real = fake_picamera2.Job.get_result

    def counted(job: fake_picamera2.Job, timeout: float | None = None) -> object:
        waits.append(timeout)
        return real(job, 60 if timeout is None else timeout)

    monkeypatch.setattr(fake_picamera2.Job, "get_result", counted)
    with camera(frame_timeout_s=0.2) as cam:
        frames = cam.preview_frames()
        assert len([next(frames) for _ in range(5)]) == 5
        with pytest.raises(CameraStalled, match=r"no frame from camera 0 within 0.2 s"):
            next(frames)
    assert waits and set(waits) == {0.2}
    assert picamera2._acquired == set()


def test_closed_after_an_exception_so_the_next_start_is_not_in_use(picamera2):
    with pytest.raises(ZeroDivisionError), camera() as cam:
        next(cam.preview_frames())
        _ = 1 / 0
    assert picamera2._acquired == set() and not cam.is_open
    with camera() as again:  # would raise CameraBusy if the first one had not been closed
        assert next(again.preview_frames()).pixels.shape == (480, 640, 3)


def test_a_busy_camera_is_retried_with_backoff_then_reported(picamera2):
    holder = Picamera2(0)  # another process holds the camera
    started = time.monotonic()
    with pytest.raises(CameraBusy, match="could not be opened"):
        camera(open_attempts=3, open_backoff_s=0.05).open()
    assert time.monotonic() - started >= 0.05 + 0.1
    holder.close()
    with camera(open_attempts=3, open_backoff_s=0.05) as cam:
        assert cam.is_open


def test_missing_camera_and_missing_package(picamera2, monkeypatch):
    with pytest.raises(CameraUnavailable, match="no camera number 1 \\(1 found"):
        camera(camera_num=1).open()
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import picamera2 -> ImportError
    with pytest.raises(CameraUnavailable, match="python3-picamera2"):
        camera().open()


@pytest.mark.parametrize(
    "failure",
    [
        'ValueError("numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, '
        'got 88 from PyObject")',
        'AttributeError("_ARRAY_API not found")',
        'ImportError("numpy.core.multiarray failed to import")',
        'RuntimeError("libcamera: the IPA module could not be loaded")',
    ],
    ids=lambda failure: failure.split("(")[0],
)
def test_a_picamera2_that_fails_as_it_loads_is_a_camera_not_set_up_with_its_cause_for_the_log(
    tmp_path, monkeypatch, failure
):
    """apt's picamera2 in the device's venv (numpy 2 beside apt's modules built for numpy 1) failed its import
    with a ValueError, which reached the nurse as "the camera reported a fault" (check its cable), or, an
    ImportError, as "picamera2 is not installed". It is a camera not set up right on this device: the
    technician's remedy and the import's own error in the message, which the log shows."""
    fake_picamera2.install_unloadable(monkeypatch, tmp_path, failure)
    with pytest.raises(CameraMisconfigured) as raised:
        camera().open()
    error = raised.value
    kind, words = failure.split("(", 1)
    assert f"picamera2 is installed but does not load ({kind}: {words[1:-2]})" in str(error)
    assert "sudo apt install --reinstall python3-picamera2" in str(error) and "README, 'Cameras'" in str(error)
    assert type(error.__cause__).__name__ == kind
    assert error.sentence("en") == "it is not set up right on this device"
    assert error.sentence("fr") == "elle n'est pas configurée correctement sur cet appareil"


def test_controls_within_range_are_set_and_manual_focus_switches_af_off(picamera2):
    with camera() as cam:
        applied = cam.set_controls(Controls(exposure_us=10_000, analogue_gain=2.0, lens_position=4.5))
        assert applied == Controls(10_000, 2.0, 4.5)
        next(cam.preview_frames())  # the request recycled after this frame carries them
        assert cam._picam.fake_sensor_controls == {
            "ExposureTime": 10_000,
            "ExposureTimeMode": 1,
            "AnalogueGain": 2.0,
            "AnalogueGainMode": 1,
            "LensPosition": 4.5,
            "AfMode": 0,
        }
        with pytest.raises(CameraError, match=r"AnalogueGain 99.0 is outside this camera's range \[1.0, 16.0\]"):
            cam.set_controls(Controls(analogue_gain=99.0))


def test_a_fixed_focus_camera_skips_the_lens(picamera2, monkeypatch):
    monkeypatch.setattr(Picamera2, "fake_controls", HQ_CAMERA)
    with camera() as cam:
        assert cam.set_controls(Controls(exposure_us=5000, lens_position=2.0)) == Controls(exposure_us=5000)
        next(cam.preview_frames())
        assert cam._picam.fake_sensor_controls == {"ExposureTime": 5000, "ExposureTimeMode": 1}


def test_the_first_still_after_setting_controls_is_taken_with_them(picamera2):
    """picamera2 sends set_controls' values with the next request and a mode switch replaces what is
    queued: the manual controls must come from the still configuration itself (`calibrate still`
    sets them and takes one still at once)."""
    manual = {"ExposureTime": 8000, "ExposureTimeMode": 1, "AnalogueGain": 2.0, "AnalogueGainMode": 1}
    with camera() as cam:
        cam.set_controls(Controls(exposure_us=8000, analogue_gain=2.0))
        cam.capture_burst(2)
        after = next(cam.preview_frames())
        assert cam._picam.fake_frames == [("still", manual), ("still", manual), ("preview", manual)]
    assert after.pixels.shape == (480, 640, 3)


@pytest.mark.parametrize(
    ("table", "controls", "sent"),
    [
        (None, Controls(exposure_us=8000), {"ExposureTime": 8000, "ExposureTimeMode": 1}),
        (None, Controls(analogue_gain=3.0), {"AnalogueGain": 3.0, "AnalogueGainMode": 1}),
        (CAMERA_MODULE_3_LIBCAMERA_0_4, Controls(exposure_us=8000), {"ExposureTime": 8000}),
        (CAMERA_MODULE_3_LIBCAMERA_0_4, Controls(analogue_gain=3.0), {"AnalogueGain": 3.0}),
        (
            CAMERA_MODULE_3_LIBCAMERA_0_4,
            Controls(exposure_us=8000, analogue_gain=3.0),
            {"ExposureTime": 8000, "AnalogueGain": 3.0, "AeEnable": False},
        ),
    ],
)
def test_one_manual_value_leaves_the_other_automatic(picamera2, monkeypatch, table, controls, sent):
    """libcamera 0.5 has a mode per control and ignores AeEnable; before it AeEnable=False froze both,
    so it is sent only when exposure and gain are both manual (README: "left out: automatic")."""
    if table is not None:
        monkeypatch.setattr(Picamera2, "fake_controls", table)
    with camera() as cam:
        cam.set_controls(controls)
        cam.capture_burst(1)
        assert cam._picam.fake_frames[-1] == ("still", sent)


def test_odd_sizes_are_rounded_down_to_even_as_picamera2_does(picamera2):
    """The config accepts any width; picamera2 aligns the streams it is asked for instead of failing."""
    with camera(preview=Size(641, 481), still=Size(2029, 1521)) as cam:
        assert next(cam.preview_frames()).pixels.shape == (480, 640, 3)
        assert cam.capture_burst(1)[0].pixels.shape == (1520, 2028, 3)


def test_a_still_the_memory_cannot_hold_is_a_camera_error_and_preview_goes_on(picamera2):
    """picamera2 keeps a failure inside a job (here its allocator's, out of CMA at full resolution)
    and raises it from get_result: it must reach the app as a camera error naming the step."""
    picamera2.fake_unallocatable = frozenset({"still"})
    with camera(still=Size(0, 0)) as cam:
        with pytest.raises(CameraError, match="switch to still mode: RuntimeError: failed to allocate capture buffers"):
            cam.capture_burst(3)
        assert next(cam.preview_frames()).pixels.shape == (480, 640, 3)
    assert picamera2._acquired == set()


def test_a_preview_that_cannot_start_is_a_camera_error_and_the_camera_is_let_go(picamera2):
    picamera2.fake_unallocatable = frozenset({"preview"})
    with pytest.raises(CameraError, match="could not start its preview: failed to allocate"):
        camera().open()
    assert picamera2._acquired == set()


def test_a_stall_during_a_burst_names_that_still_within_one_timeout(picamera2, caplog):
    """picamera2 runs its jobs in order: the switch back queued behind the still that never came would
    wait its own timeout and replace the useful error. The queue is flushed, the still is reported.
    One timeout, not two, is told by the switch back itself (it did not fail), not by a clock: on a
    loaded machine one timeout and its overhead took 0.59 s, over the 0.55 s this test allowed."""
    picamera2.fake_stall_after = 1
    caplog.set_level("INFO")
    with camera(frame_timeout_s=0.3) as cam:
        with pytest.raises(CameraStalled, match=r"still 2 of 3: no frame from camera 0 within 0.3 s"):
            cam.capture_burst(3)
        assert not [r for r in caplog.records if "camera.switch_back_failed" in r.getMessage()]
        assert cam._picam.camera_config["use_case"] == "preview" and cam._picam._job_list == []
    assert picamera2._acquired == set()


def test_the_fake_takes_what_picamera2_0_3_38_takes():
    """The calls the backend makes, with picamera2 0.3.38's parameters (read from its source)."""
    real = {
        "__init__": ["camera_num", "verbose_console", "tuning", "allocator"],
        "create_preview_configuration": [
            *("main", "lores", "raw", "transform", "colour_space", "buffer_count", "controls", "display"),
            *("encode", "queue", "sensor", "use_case"),
        ],
        "capture_array": ["name", "wait", "signal_function"],
        "switch_mode": ["camera_config", "wait", "signal_function"],
        "switch_mode_and_capture_array": ["camera_config", "name", "wait", "signal_function", "delay"],
        "set_controls": ["controls"],
        "cancel_all_and_flush": [],
        "close": [],
    }
    real["create_still_configuration"] = real["create_preview_configuration"]
    for method, parameters in real.items():
        assert list(inspect.signature(getattr(Picamera2, method)).parameters)[1:] == parameters, method
