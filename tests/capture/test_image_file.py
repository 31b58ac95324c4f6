"""Bad image files give a clear ``ImageError``; odd but valid ones become 8-bit RGB frames."""

import struct
import zlib

import cv2
import numpy as np
import pytest

from firmware_app.capture.image_file import ImageError, read_frame
from tests.conftest import write_rgb


def test_a_real_jpeg_becomes_an_rgb_frame(retina_jpeg, retina_rgb):
    frame = read_frame(retina_jpeg)
    assert frame.pixels.shape == retina_rgb.shape and frame.pixels.dtype == np.uint8
    # Red dominates a fundus: proves the channels arrive in R,G,B order, not OpenCV's B,G,R.
    assert frame.pixels[..., 0].mean() > frame.pixels[..., 2].mean() + 30
    assert (frame.source_channels, frame.source_bit_depth) == (3, 8)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("patient notes, not a photo")
    with pytest.raises(ImageError, match="not an image file"):
        read_frame(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.touch()
    with pytest.raises(ImageError, match="empty file"):
        read_frame(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_frame(tmp_path / "absent.jpg")
    with pytest.raises(ImageError, match="is a directory"):
        read_frame(tmp_path)


def test_truncated_jpeg(tmp_path, retina_jpeg):
    data = retina_jpeg.read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated"):
        read_frame(path)


def test_corrupt_png_body(tmp_path, retina_rgb):
    path = write_rgb(tmp_path / "retina.png", retina_rgb[:200, :200])
    data = bytearray(path.read_bytes())
    data[100:400] = bytes(300)
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="corrupt or truncated"):
        read_frame(path)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but that carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_huge_dimensions_are_refused_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(30000, 30000))
    with pytest.raises(ImageError, match="30000x30000 pixels is larger than"):
        read_frame(path)


def test_file_size_limit(tmp_path, retina_jpeg):
    with pytest.raises(ImageError, match="larger than the 1,000-byte limit"):
        read_frame(retina_jpeg, max_bytes=1000)


def test_sixteen_bit_is_scaled_to_eight(tmp_path, retina_rgb):
    path = tmp_path / "retina16.png"
    cv2.imwrite(str(path), cv2.cvtColor(retina_rgb, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)
    frame = read_frame(path)
    assert frame.pixels.dtype == np.uint8 and frame.source_bit_depth == 16
    assert np.abs(frame.pixels.astype(int) - retina_rgb).max() <= 1


def test_greyscale_is_widened_and_marked(tmp_path, retina_rgb):
    path = tmp_path / "grey.png"
    cv2.imwrite(str(path), cv2.cvtColor(retina_rgb, cv2.COLOR_RGB2GRAY))
    frame = read_frame(path)
    assert frame.pixels.shape == retina_rgb.shape and frame.source_channels == 1


def test_four_channels_drop_alpha(tmp_path, retina_rgb):
    path = tmp_path / "rgba.png"
    bgra = cv2.cvtColor(retina_rgb, cv2.COLOR_RGB2BGRA)
    cv2.imwrite(str(path), bgra)
    frame = read_frame(path)
    assert frame.source_channels == 4
    np.testing.assert_array_equal(frame.pixels, retina_rgb)
