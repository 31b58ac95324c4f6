"""The web app for tests: an engine with results, users and a signed-in ``TestClient``."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from edgescreen_wire.result import RESULT_V2
from review_station import accounts, devices
from review_station.config import ReviewConfig, ReviewPolicyConfig, WebConfig
from review_station.ingest.batch import Incoming, store_batch
from review_station.storage.tables import images
from review_station.web.app import create_app
from tests.review_station.kit import result_bytes, result_topic

PASSWORD = "a long enough secret"
# What the sign-in page tells a reader whose session ended without their knowing (its end long past, or
# their account disabled): of the browser, not of them, and never why.
SESSION_ENDED = {
    "en": "The session open in this browser has ended. Sign in to go on.",
    "fr": "La session ouverte dans ce navigateur a pris fin. Connectez-vous pour continuer.",
}


def station(second_read_sites: tuple[str, ...] = ()) -> ReviewConfig:
    return ReviewConfig(
        web=WebConfig(secure_cookies=False, page_size=10),
        review=ReviewPolicyConfig(second_read_sites=second_read_sites),
    )


def add_results(engine: Engine, device: str, site: str, scores: list[float], **changes: object) -> list[str]:
    """Results as a device sends them, written by the ingester's own batch writer."""
    if device not in _enrolled(engine):
        devices.enrol(engine, device, site, by="test")
    made = [result_bytes(device, site, score=score, **changes) for score in scores]
    with engine.begin() as connection:
        registry = devices.active_sites(connection)
        now = datetime.now(UTC)
        store_batch(connection, [Incoming(result_topic(site, device), payload, now) for _, payload in made], registry)
    return [result_id for result_id, _ in made]


def announcing(engine: Engine, sealed: bytes | None, device: str = "cam-01") -> str:
    """A ``/2`` result whose payload announces ``sealed`` (or no photo); returns its id."""
    image = {"sha256": hashlib.sha256(sealed).hexdigest(), "size": len(sealed)} if sealed else None
    [result_id] = add_results(engine, device, "clinic-7", [0.9], schema=RESULT_V2, payload={"image": image})
    return result_id


def hold_photo(engine: Engine, result_id: str, sealed: bytes, device: str = "cam-01") -> None:
    """The station holds ``sealed`` as the photo of ``result_id``, as the upload endpoint stores it."""
    with engine.begin() as connection:
        row = {"result_id": result_id, "device_id": device, "sha256": "0" * 64, "size": len(sealed)}
        connection.execute(insert(images).values(**row, sealed=sealed, received_at=datetime.now(UTC)))


def _enrolled(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return devices.active_sites(connection)


def signed_in_client(
    engine: Engine, config: ReviewConfig, username: str, role: str, sites: frozenset[str] = frozenset()
) -> TestClient:
    accounts.add_user(engine, username, PASSWORD, role, by="test", sites=sites)
    client = TestClient(create_app(config, engine), follow_redirects=False)
    sign_in(client, username, PASSWORD)
    return client


def sign_in(client: TestClient, username: str, password: str) -> str:
    """Sign in through the form; returns where the app sent the browser."""
    form = client.get("/sign-in").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return client.post("/sign-in", data={"username": username, "password": password, "csrf": csrf}).headers["location"]


def csrf_of(client: TestClient, path: str = "/") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]
