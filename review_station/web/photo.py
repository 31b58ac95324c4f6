"""The shared photo on the result page: zoom and pan, and for fundus the views graders use.

``red_free`` is the green channel alone with its contrast equalised (CLAHE): vessels, microaneurysms
and haemorrhages stand out as on a red-free photograph. ``contrast`` equalises the lightness of the
colour photo. Every view, ``colour`` too, is drawn on the server from the pixels of the opened photo,
read by the device's own image reader: the station receives sealed bytes it cannot inspect, so a
device that sent EXIF (GPS, a patient's name), a picture too large to decode safely, or something
that is no picture at all gets no further than this; the browser only ever receives bare JPEGs.
Every fetch of any view is audited (``images.open_for_viewing``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from sqlalchemy import Engine, select

from edgescreen_wire.sealed_image import SealError
from firmware_app.capture.image_file import ImageError, decode_frame
from review_station import images
from review_station.config import ReviewConfig
from review_station.storage.tables import results
from review_station.web.inputs import ResultId

VIEWS = ("colour", "red_free", "contrast")
VIEWER_SCRIPT = Path(__file__).resolve().parent / "static" / "photo-viewer.js"
JPEG_QUALITY = 92


def _equalise(channel: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.5, tileGridSize=(8, 8)).apply(channel)


def render_view(photo: bytes, view: str, result_id: str) -> bytes:
    """The photo as ``view`` shows it, as a bare JPEG; ``ImageError`` if it is not a photo to show."""
    bgr = cv2.cvtColor(decode_frame(photo, Path(f"the photo of result {result_id}")).pixels, cv2.COLOR_RGB2BGR)
    if view == "red_free":
        shown = _equalise(bgr[:, :, 1])
    elif view == "contrast":
        lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)
        lab[:, :, 0] = _equalise(lab[:, :, 0])
        shown = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    else:
        shown = bgr
    ok, encoded = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("the view could not be encoded")
    return encoded.tobytes()


def add_photo_routes(
    app: FastAPI,
    config: ReviewConfig,
    engine: Engine,
    result_reader: Callable[[Request, str], Any],
    render: Callable[..., Response],
) -> None:
    """The photo panel (loaded into the result page), the photo in each view, and the viewer script.
    ``result_reader`` signs the reader in and refuses a result of a site they do not read."""

    @app.get("/static/photo-viewer.js", include_in_schema=False)
    def viewer_script() -> FileResponse:
        return FileResponse(VIEWER_SCRIPT, media_type="text/javascript")

    @app.get("/results/{result_id}/photo-panel")
    def photo_panel(request: Request, result_id: ResultId) -> Response:
        result_reader(request, result_id)
        with engine.connect() as connection:
            modality = connection.execute(
                select(results.c.modality).where(results.c.result_id == result_id)
            ).scalar_one_or_none()
            held = images.held(connection, result_id)
        # The result page itself says when there is no photo, and why (``images.photo_state``).
        return render(request, "_photo.html", result_id=result_id, modality=modality, held=held, views=VIEWS)

    @app.get("/results/{result_id}/photo.jpg")
    def photo(request: Request, result_id: ResultId, view: str = "colour") -> Response:
        user = result_reader(request, result_id)
        if view not in VIEWS:
            return Response(status_code=404)
        try:
            opened = images.open_for_viewing(engine, config.images, result_id, user.username, view)
        except SealError as error:  # sealed to another key, altered in the database, or the key unreadable
            return _cannot_show(str(error))
        if opened is None:
            return Response(status_code=404)
        try:
            return Response(render_view(opened, view, result_id), media_type="image/jpeg")
        except ImageError as error:
            return _cannot_show(error.reason)


def _cannot_show(reason: str) -> Response:
    """What the viewer gets instead of a photo, and why (never the photo's content)."""
    return PlainTextResponse(f"the photo cannot be shown: {reason}", status_code=422)
