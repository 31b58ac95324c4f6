"""The camera owner thread outlives any failure: the waiting burst gets a camera error at once, and
``retry()`` streams again (the Raspberry Pi camera through the picamera2 fake, no browser)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from firmware_app.calibration.apply import correct_pixels
from firmware_app.capture.camera import CameraError, CameraMisconfigured, CameraSettings, Controls, Size
from firmware_app.capture.frame import Frame
from firmware_app.capture.picamera2_camera import STILL_FORMAT, Picamera2Camera
from firmware_app.config import CameraConfig
from firmware_app.health import heartbeat
from firmware_app.health.checks import Level, check_heartbeat
from firmware_app.quality.verdict import QualityReport, Verdict
from firmware_app.web.answer_time import camera_step_s
from firmware_app.web.camera_owner import CameraOwner
from tests.calibration.test_geometry import write_lens_profile
from tests.capture import fake_picamera2


def until(condition: Callable[[], object], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.02)


@pytest.fixture()
def picamera2(monkeypatch, retina_rgb):
    return fake_picamera2.install(monkeypatch, retina_rgb)


@contextmanager
def owner_with(check: Callable[[Frame], QualityReport]) -> Iterator[CameraOwner]:
    settings = CameraSettings(Size(320, 240), Size(0, 0), frame_timeout_s=1.0)
    owner = CameraOwner(
        lambda _modality: (Picamera2Camera(0, settings), Controls()),
        lambda _modality: check,
        lambda _frame: None,
        lease_timeout_s=60,
    )
    owner.start()
    try:
        yield owner
    finally:
        owner.stop()


@pytest.fixture()
def owner(picamera2) -> Iterator[CameraOwner]:
    with owner_with(lambda _frame: QualityReport("fundus", Verdict.GOOD, ())) as owner:
        yield owner


def streaming(owner: CameraOwner) -> str:
    """A lease whose stream has published a frame."""
    token = owner.claim("fundus")
    assert token is not None
    seen = owner.latest.seq if owner.latest else 0
    until(lambda: owner.latest is not None and owner.latest.seq > seen)
    return token


def test_a_still_the_memory_cannot_hold_fails_the_burst_at_once_and_retry_recovers(picamera2, owner):
    token = streaming(owner)
    picamera2.fake_unallocatable = frozenset({"still"})
    # The failure itself, not the burst's wait run out (a bare TimeoutError, once its 8 s had passed).
    with pytest.raises(CameraError, match="switch to still mode: RuntimeError: failed to allocate"):
        owner.take_burst(token, 3, timeout_s=8)
    owner.release(token)
    until(lambda: owner.error is not None)
    assert owner._thread.is_alive()
    picamera2.fake_unallocatable = frozenset()
    owner.retry()
    token = streaming(owner)
    assert len(owner.take_burst(token, 2, timeout_s=8)) == 2


def test_any_exception_in_the_owner_thread_is_a_camera_error_and_retry_recovers(picamera2):
    """Not only CameraError: a fault anywhere in the stream (here the preview check) must not end the
    thread, or every later screen would wait for a camera nobody reads."""
    failing = threading.Event()
    failing.set()

    def check(_frame: Frame) -> QualityReport:
        if failing.is_set():
            raise ValueError("a bug in the preview check")
        return QualityReport("fundus", Verdict.GOOD, ())

    with owner_with(check) as owner:
        token = owner.claim("fundus")
        assert token is not None
        until(lambda: owner.error is not None)
        assert isinstance(owner.error, CameraError) and "ValueError: a bug in the preview check" in str(owner.error)
        with pytest.raises(CameraError, match="a bug in the preview check"):
            owner.take_burst(token, 1, timeout_s=8)
        assert owner._thread.is_alive()
        failing.clear()
        owner.retry()
        until(lambda: owner.latest is not None)
        assert owner.error is None and len(owner.take_burst(token, 1, timeout_s=8)) == 1


def test_a_session_takes_over_its_own_lease_at_once_and_another_session_is_refused(picamera2):
    """A reload or a language switch claims again before the old page's hand-back arrives: the same
    session gets the camera at once (opened afresh for it); another session is still refused,
    and a burst asked with the old token never gets the new screen's frames."""
    opened: list[str] = []

    def open_camera(modality: str) -> tuple[Picamera2Camera, Controls]:
        opened.append(modality)
        return Picamera2Camera(0, CameraSettings(Size(320, 240), Size(0, 0), frame_timeout_s=1.0)), Controls()

    owner = CameraOwner(
        open_camera,
        lambda _modality: lambda _frame: QualityReport("fundus", Verdict.GOOD, ()),
        lambda _frame: None,
        lease_timeout_s=60,
    )
    owner.start()
    try:
        old = owner.claim("fundus", owner="session-a")
        assert old is not None
        until(lambda: owner.latest is not None)
        assert owner.claim("fundus", owner="session-b") is None
        assert owner.claim("fundus") is None  # nobody's claim never takes a lease over
        new = owner.claim("fundus", owner="session-a")
        assert new is not None and new != old
        assert owner.holds(new) and not owner.holds(old)
        owner.release(old)  # the old page's hand-back, arriving late, frees nothing
        assert owner.holds(new)
        with pytest.raises(CameraError, match="lost the camera"):
            owner.take_burst(old, 1, timeout_s=8)
        until(lambda: owner.latest is not None)
        assert len(owner.take_burst(new, 1, timeout_s=8)) == 1
        assert opened == ["fundus", "fundus"]
        assert owner.claim("fundus", owner="session-b") is None
        owner.release_owned("session-b")  # another session's lock or sign-out frees nothing of a's
        assert owner.holds(new)
        owner.release_owned("session-a")  # a's lock or sign-out: its page's own hand-back would be refused
        assert owner.claim("fundus", owner="session-b") is not None
    finally:
        owner.stop()


class ModalityCamera:
    """A camera whose every frame says which screen's modality it was opened for."""

    def __init__(self, modality: str, still: np.ndarray) -> None:
        self.modality, self.still = modality, still

    def __enter__(self) -> ModalityCamera:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass

    def set_controls(self, controls: Controls) -> Controls:
        return controls

    def preview_frames(self) -> Iterator[Frame]:
        while True:
            time.sleep(0.01)
            yield Frame(self.still, source=self.modality)

    def capture_burst(self, count: int) -> list[Frame]:
        return [Frame(self.still, source=self.modality) for _ in range(count)]


def test_a_lease_taken_over_mid_frame_never_takes_the_new_screens_burst_nor_shows_its_frame(retina_rgb):
    """The takeover lands just after the stream saw its lease still held (made to, not waited for):
    the new screen's burst, already asked, is taken on the camera opened for it (its modality, its
    controls), not the old one; and the old stream publishes no frame after the claim cleared it."""
    still = retina_rgb[:240, :320].copy()
    owner = CameraOwner(
        lambda modality: (ModalityCamera(modality, still), Controls()),
        lambda modality: lambda _frame: QualityReport(modality, Verdict.GOOD, ()),
        lambda _frame: None,
        lease_timeout_s=60,
    )
    published: list[str] = []
    publish = owner._publish

    def recording() -> None:
        frame = owner.latest
        published.append(frame.report.modality if frame and frame.report else "none")
        publish()

    owner._publish = recording
    old = owner.claim("fundus", owner="session-a")
    assert old is not None
    held = owner.holds
    burst: dict[str, object] = {}
    taken_over = threading.Event()

    def ask(token: str) -> None:
        try:
            burst["frames"] = owner.take_burst(token, 1, timeout_s=8)
        except CameraError as error:
            burst["error"] = error

    def racing(token: str) -> bool:
        answer = held(token)
        if token == old and answer and published and not taken_over.is_set():  # the stream's check, passed
            new = owner.claim("dermoscopy", owner="session-a")
            assert new is not None
            published.append("claimed")
            threading.Thread(target=ask, args=(new,), daemon=True).start()
            until(lambda: not owner._bursts.empty())
            taken_over.set()
        return answer

    owner.holds = racing
    owner.start()
    try:
        until(lambda: "frames" in burst or "error" in burst)
        assert "error" not in burst, burst
        assert [frame.source for frame in burst["frames"]] == ["dermoscopy"]
        after = published[published.index("claimed") + 1 :]
        assert "fundus" not in after, published
    finally:
        owner.stop()


def test_a_lease_taken_over_while_its_frame_is_judged_never_shows_that_frame_to_the_new_screen(retina_rgb):
    """The takeover lands while the old stream judges a frame (made to, from the preview check): the
    claim has cleared the latest frame, and the old stream's frame is not published after it."""
    still = retina_rgb[:240, :320].copy()
    published: list[str] = []
    claimed: list[str] = []

    def preview_check(modality: str) -> Callable[[Frame], QualityReport]:
        def check(_frame: Frame) -> QualityReport:
            if modality == "fundus" and published and not claimed:
                new = owner.claim("dermoscopy", owner="session-a")
                assert new is not None
                claimed.append(new)
                published.append("claimed")
            return QualityReport(modality, Verdict.GOOD, ())

        return check

    owner = CameraOwner(
        lambda modality: (ModalityCamera(modality, still), Controls()), preview_check, lambda _frame: None, 60
    )
    publish = owner._publish

    def recording() -> None:
        frame = owner.latest
        published.append(frame.report.modality if frame and frame.report else "none")
        publish()

    owner._publish = recording
    assert owner.claim("fundus", owner="session-a") is not None
    owner.start()
    try:
        until(lambda: "dermoscopy" in published)
        assert published[published.index("claimed") + 1 :][0] == "dermoscopy", published
        assert len(owner.take_burst(claimed[0], 1, timeout_s=8)) == 1
    finally:
        owner.stop()


def test_frames_the_calibration_profile_does_not_fit_are_the_camera_set_up_wrong_not_a_lost_cable(picamera2, tmp_path):
    """A lens step made on square photos, a camera streaming 4:3 frames: every preview frame is
    refused by the profile, which the capture screen told the nurse as "the camera stopped
    answering: check its cable" while the readiness list said green. Now the probe (the list) and
    the stream both say the camera is set up wrong, with the profile's reason, for the technician."""
    profile = write_lens_profile(tmp_path / "lens.json", (480, 480))

    def check(frame: Frame) -> QualityReport:
        correct_pixels(profile, frame.pixels)  # as the pipeline calibrates each preview frame
        return QualityReport("fundus", Verdict.GOOD, ())

    with owner_with(check) as owner:
        with pytest.raises(CameraMisconfigured, match="does not have the proportions of the lens calibration"):
            owner.probe("fundus")
        assert owner.claim("fundus") is not None
        until(lambda: owner.error is not None)
        assert isinstance(owner.error, CameraMisconfigured), owner.error
        assert "frames do not fit the calibration profile" in str(owner.error)


STILL_S = 0.05  # each still of the slow camera
LEFT_S = 4.0  # the compressed test's promise: what is left of the configured step once the grace is taken off


class SlowStills(Picamera2Camera):
    """The Raspberry Pi camera (the picamera2 fake) taking each still in ``STILL_S``: a long exposure
    or a slow sensor, working, every still well within its frame timeout."""

    def _frame(self, pixel_format: str, what: str) -> Frame:
        if pixel_format == STILL_FORMAT:
            time.sleep(STILL_S)
        return super()._frame(pixel_format, what)


def test_a_slow_burst_the_configuration_allows_is_not_taken_for_a_hang_but_a_stuck_loop_still_is(
    picamera2, monkeypatch
):
    """60 s frame timeouts and bursts of 30: a working burst may take half an hour, and the camera loop
    promised its watchdog a next beat within a fixed minute, so the watchdog took the burst for a hang
    and systemd restarted the app in the middle of it. The promise is now the configured camera's.
    Half an hour is compressed into seconds: the watchdog's grace is made to leave ``LEFT_S`` of that
    promise, so a burst of 30 slow stills stays green throughout, and a loop stuck in its preview check
    turns red once ``LEFT_S`` have passed without a beat."""
    camera = CameraConfig(backend="picamera2", burst=30, frame_timeout=60.0)
    monkeypatch.setattr(heartbeat, "GRACE_S", LEFT_S - camera_step_s(camera))
    settings = CameraSettings(Size(320, 240), Size(320, 240), frame_timeout_s=camera.frame_timeout)
    stuck, freed = threading.Event(), threading.Event()

    def check(_frame: Frame) -> QualityReport:
        if stuck.is_set():
            freed.wait(30)  # a driver or a check that never returns: no timeout ends this step
        return QualityReport("fundus", Verdict.GOOD, ())

    owner = CameraOwner(
        lambda _modality: (SlowStills(0, settings), Controls()),
        lambda _modality: check,
        lambda _frame: None,
        lease_timeout_s=60,
        step_s=camera_step_s(camera),
    )
    owner.start()
    seen: list[Level] = []
    watching = threading.Event()

    def watch() -> None:  # the watchdog's look, every 20 ms while the burst is taken
        while not watching.wait(0.02):
            seen.append(check_heartbeat(owner.heartbeat).level)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        token = streaming(owner)
        watcher.start()
        started = time.monotonic()
        frames = owner.take_burst(token, camera.burst, timeout_s=camera_step_s(camera))
        taken = time.monotonic() - started
        watching.set()
        watcher.join()
        assert len(frames) == camera.burst and taken >= camera.burst * STILL_S
        assert seen and set(seen) == {Level.GREEN}, f"{seen.count(Level.RED)} of {len(seen)} looks red"

        stuck.set()  # its next preview frame's check never returns: the step's promise lapses
        until(lambda: check_heartbeat(owner.heartbeat).level is Level.RED, within_s=LEFT_S + 5)
    finally:
        watching.set()
        freed.set()
        owner.stop()
