"""The station's side of shared photos, on SQLite and PostgreSQL: an upload is stored only when it is
the photo its result announced, from that result's device, once; it opens only for a signed-in
reviewer, every view audited; it is deleted after the retention that follows the verdict, or on request."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy import Engine, select, update

from firmware_app.records.images import jpeg_bytes
from firmware_app.sharing.seal import read_public_key, seal_image
from review_station import audit, images
from review_station.config import ImagesConfig, ReviewConfig, WebConfig
from review_station.storage.tables import audit as audit_table
from review_station.storage.tables import reads
from review_station.verdicts import ReadForm, record_read
from review_station import accounts
from tests.records.kit import small_photo
from tests.review_station.web_kit import add_results, signed_in_client
from tests.sharing.kit import station_keys


@pytest.fixture()
def keys(tmp_path):
    return station_keys(tmp_path / "keys")


def shared_result(engine: Engine, keys, retina_rgb, device: str = "cam-01") -> tuple[str, bytes, bytes]:
    """A result as a sharing device sends it: (result id, the JPEG, its sealed bytes as announced)."""
    photo = jpeg_bytes(small_photo(retina_rgb, 256))
    placeholder = {"sha256": "0" * 64, "size": 1}
    [result_id] = add_results(engine, device, "clinic-7", [0.9], payload_image=placeholder)
    sealed = seal_image(photo, read_public_key(keys[1]), result_id)
    return result_id, photo, sealed
