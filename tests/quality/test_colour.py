"""Issue 8, point 2: colourless photos are refused from their pixels, not from their channel count.

A greyscale photo saved as RGB, a grey+alpha PNG and a red-free (green-only) fundus photo: each must be
rejected with its own reason, never triaged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import read_frame
from firmware_app.messages import message
from firmware_app.quality.colour import colour_measures
from firmware_app.quality.verdict import Verdict
from tests.lesion_renderer import render_lesion
from tests.quality.conftest import judge
from tests.test_cli import edgescreen, json_lines


def _grey_rgb(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def _red_free(rgb: np.ndarray) -> np.ndarray:
    """What a red-free (green-filtered) camera saves: the green channel only."""
    green_only = np.zeros_like(rgb)
    green_only[:, :, 1] = rgb[:, :, 1]
    return green_only


def _grey_alpha_png(path: Path, rgb: np.ndarray) -> Path:
    """A grey+alpha PNG (PNG colour type 4): grey in every colour channel once decoded."""
    from PIL import Image

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    Image.fromarray(np.dstack([grey, np.full_like(grey, 255)]), mode="LA").save(path)
    return path


@pytest.mark.parametrize("modality", ["fundus", "dermoscopy"])
def test_a_greyscale_photo_saved_as_rgb_is_rejected_as_greyscale(gate, retina_rgb, modality):
    colour = retina_rgb if modality == "fundus" else render_lesion(seed=11).rgb
    report = judge(gate, _grey_rgb(colour), modality)
    assert report.verdict is Verdict.REJECT and report.reasons == ("greyscale",)
    assert report.measures["colourfulness"] < 0.01


def test_a_red_free_fundus_photo_is_rejected_as_red_free(gate, retina_rgb):
    report = judge(gate, _red_free(retina_rgb), "fundus")
    assert report.verdict is Verdict.REJECT and report.reasons == ("red_free",)
    assert report.measures["red_share"] < 0.05


def test_a_grey_alpha_png_is_rejected_by_its_channels_and_by_its_pixels(tmp_path, gate, retina_rgb):
    frame = read_frame(_grey_alpha_png(tmp_path / "grey-alpha.png", retina_rgb))
    assert frame.source_channels == 2
    assert gate.check(frame, "fundus").reasons == ("greyscale",)
    # Were the header misread as colour (as OpenCV's four decoded channels once were), the pixels
    # alone still refuse it.
    assert gate.check(dataclasses.replace(frame, source_channels=4), "fundus").reasons == ("greyscale",)


def test_colour_photos_keep_their_colour_measures(retina_rgb):
    for rgb in (retina_rgb, render_lesion(seed=11).rgb):
        measured = colour_measures(rgb)
        assert measured is not None
        assert measured["colourfulness"] > 0.1 and measured["red_share"] > 0.9


def test_a_blank_frame_is_left_to_the_exposure_checks():
    """No picture, no colour to judge: the nurse is told about the light, not the colour mode."""
    assert colour_measures(np.full((300, 300, 3), 255, np.uint8)) is None
    assert colour_measures(np.zeros((300, 300, 3), np.uint8)) is None


def test_colourless_photos_are_never_triaged(tmp_path, retina_rgb):
    """Through the real ``screen`` command, in French: each is ungradable with its reason and advice."""
    grey = tmp_path / "grey-as-rgb.jpg"
    red_free = tmp_path / "red-free.png"
    assert cv2.imwrite(str(grey), cv2.cvtColor(_grey_rgb(retina_rgb), cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(str(red_free), cv2.cvtColor(_red_free(retina_rgb), cv2.COLOR_RGB2BGR))
    grey_alpha = _grey_alpha_png(tmp_path / "grey-alpha.png", retina_rgb)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[device]\nlanguage = "fr"\n[records]\ndatabase = "{tmp_path / "r.db"}"\nkey_file = "{tmp_path / "r.key"}"\n',
        encoding="utf-8",
    )
    run = edgescreen(
        "screen", "--modality", "fundus", "--json", str(grey), str(grey_alpha), str(red_free), config=config
    )
    assert run.returncode == 0, run.stderr
    results = json_lines(run.stdout)
    assert [r["quality"]["reasons"] for r in results] == [["greyscale"], ["greyscale"], ["red_free"]]
    for result, reason in zip(results, ("greyscale", "greyscale", "red_free"), strict=True):
        assert result["triage"] == "ungradable" and result["score"] is None
        assert result["guidance"] == [message(f"quality.{reason}", "fr")]
