"""For image-sharing tests: a station key pair, photos that carry identifying metadata, and a look
inside a JPEG's segments."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from edgescreen_wire.sealed_image import write_key_pair

# Segments a bare JPEG may hold: SOI, APP0 (JFIF), DQT, SOF0/2, DHT, DRI, SOS, EOI. Anything else
# (APP1 EXIF/XMP, APP2 ICC, APP13, COM, ...) is a place metadata could hide.
BARE_MARKERS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDD, 0xDA, 0xD9}


def station_keys(directory: Path) -> tuple[Path, Path]:
    private, public = directory / "station-image.key", directory / "station-image.pub"
    write_key_pair(private, public)
    return private, public


def jpeg_markers(data: bytes) -> list[int]:
    """The marker of every segment up to the scan, then EOI (the scan's bytes are not segments)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, at = [0xD8], 2
    while at < len(data):
        assert data[at] == 0xFF, f"no marker at byte {at}"
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    if data.rstrip(b"\0").endswith(b"\xff\xd9"):
        markers.append(0xD9)
    return markers


def xmp_packet(secret: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="{secret}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def photo_with_metadata(path: Path, rgb: np.ndarray, secret: str) -> Path:
    """A JPEG as a clinic's camera or a phone writes one, with ``secret`` (a patient's name and
    number) in EXIF (artist, description, user comment, maker notes, GPS area),
    XMP, the ICC profile's bytes and the JPEG comment."""
    image = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = secret
    exif[ExifTags.Base.ImageDescription] = secret
    exif[ExifTags.Base.Make] = "Acme Fundus"
    private = exif.get_ifd(ExifTags.IFD.Exif)
    private[ExifTags.Base.UserComment] = b"ASCII\0\0\0" + secret.encode()
    private[ExifTags.Base.MakerNote] = b"ACME\0" + secret.encode()
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSAreaInformation] = b"ASCII\0\0\0" + secret.encode()
    icc = b"\0" * 128 + b"desc" + secret.encode()  # a profile's description text carries the secret
    image.save(
        path,
        exif=exif,
        xmp=xmp_packet(secret),
        comment=secret,
        icc_profile=icc,
        quality=92,
    )
    return path
