"""A shared photo sealed and uploaded by the device's uploader, against a bare ``curl --cert`` PUT.

On loopback, with the station's real HTTPS upload server (client certificates required, the test
certificates of ``broker/make-test-certs``) and a SQLite station database, for each of N results:
 - device: the 2048-px JPEG sealed to the station (HPKE) and uploaded by ``StationClient`` as the
   uploader does it, resumably (``HEAD`` for the offset, then ``PATCH`` of the rest, on one new TLS
   connection per photo), timed from the sealing to the station's answer;
 - bare: ``curl --cert ... -X PUT --data-binary @sealed`` of the same sealed bytes to another result
   announcing them, timed around the curl process.
Both get the same server work (digest, size and device checks, one insert; the device's upload
also writes its bytes as a part first, and asks for the offset). The ratio bare/device is
the aim: 0.5 or more (the device at least half as fast as curl).

    .venv/bin/python bench/image_upload.py [--photos 20]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from edgescreen_wire.result import RESULT_V2  # noqa: E402
from edgescreen_wire.sealed_image import seal_image, write_key_pair  # noqa: E402
from firmware_app.capture.image_file import read_frame  # noqa: E402
from firmware_app.config import SyncConfig  # noqa: E402
from firmware_app.health.heartbeat import Heartbeat  # noqa: E402
from firmware_app.sharing.image import shared_jpeg  # noqa: E402
from firmware_app.sharing.uploader import UPLOAD_PATH, StationClient  # noqa: E402
from review_station.config import ImagesConfig, ReviewConfig, UploadsConfig  # noqa: E402
from review_station.storage.database import open_database  # noqa: E402
from review_station.uploads import create_upload_app, upload_server  # noqa: E402
from tests.mqtt_broker import free_port  # noqa: E402
from tests.review_station.web_kit import add_results  # noqa: E402
from tests.web_server import running  # noqa: E402

SAMPLE = PROJECT_ROOT / "firmware_app" / "samples" / "fundus-retina.jpg"
SIDE = 2048


def photo_2048() -> bytes:
    """The bundled fundus photo brought to a 2048-pixel long side, as the device shares it."""
    pixels = read_frame(SAMPLE).pixels
    scale = SIDE / max(pixels.shape[:2])
    size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
    return shared_jpeg(cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC), SIDE, None)


def announce(engine, sealed: bytes) -> str:
    image = {"sha256": hashlib.sha256(sealed).hexdigest(), "size": len(sealed)}
    [result_id] = add_results(engine, "cam-01", "bench-site", [0.9], schema=RESULT_V2, payload={"image": image})
    return result_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        certs = work / "certs"
        subprocess.run([str(PROJECT_ROOT / "broker" / "make-test-certs"), str(certs), "cam-01"], check=True)
        public_key = write_key_pair(work / "station.key", work / "station.pub")
        engine = open_database(f"sqlite:///{work / 'review.sqlite3'}")
        port = free_port()
        config = ReviewConfig(
            uploads=UploadsConfig(
                host="127.0.0.1",
                port=port,
                tls_cert_file=certs / "station.crt",
                tls_key_file=certs / "station.key",
                tls_ca_file=certs / "ca.crt",
            ),
            images=ImagesConfig(private_key_file=work / "station.key"),
        )
        client = StationClient(
            SyncConfig(
                station_url=f"https://127.0.0.1:{port}",
                tls_ca_file=certs / "ca.crt",
                tls_cert_file=certs / "cam-01.crt",
                tls_key_file=certs / "cam-01.key",
            )
        )
        image = photo_2048()
        heartbeat = Heartbeat("photo uploader")
        with running(upload_server(config, create_upload_app(config, engine)), 20, 10):
            device_s, bare_s, sealed = 0.0, 0.0, b""
            for _ in range(args.photos):
                # The result (announcing its photo) reaches the station first, as over the broker;
                # sealing is timed separately and added, since the announcement needs its digest.
                start = time.perf_counter()
                sealed = seal_image(image, public_key, "0" * 32)
                seal_time = time.perf_counter() - start
                result_id = announce(engine, sealed)
                start = time.perf_counter()
                assert client.upload(result_id, sealed, heartbeat).status == 201
                device_s += seal_time + time.perf_counter() - start
                bare_id = announce(engine, sealed)
                body = work / "sealed.bin"
                body.write_bytes(sealed)
                command = [
                    "curl", "--silent", "--show-error", "--cert", str(certs / "cam-01.crt"),
                    "--key", str(certs / "cam-01.key"), "--cacert", str(certs / "ca.crt"), "-X", "PUT",
                    "-H", "Content-Type: application/octet-stream", "--data-binary", f"@{body}",
                    "--output", "/dev/null", "--write-out", "%{http_code}",
                    f"https://127.0.0.1:{port}{UPLOAD_PATH.format(result_id=bare_id)}",
                ]  # fmt: skip
                start = time.perf_counter()
                status = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                bare_s += time.perf_counter() - start
                assert status == "201", status
        engine.dispose()
    n = args.photos
    print(f"photo: {SIDE} px JPEG, {len(image) / 1e6:.2f} MB, sealed {len(sealed) / 1e6:.2f} MB; {n} uploads each")
    print(f"device (seal + HEAD + PATCH, StationClient): {device_s / n * 1000:.1f} ms per photo")
    print(f"bare curl --cert PUT of the same bytes:      {bare_s / n * 1000:.1f} ms per photo")
    print(f"ratio bare/device: {bare_s / device_s:.2f} (aim >= 0.5)")


if __name__ == "__main__":
    main()
