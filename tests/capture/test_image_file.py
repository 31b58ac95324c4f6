"""Bad image files give a clear ``ImageError``; odd but valid ones become 8-bit RGB frames."""

import re
import struct
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from firmware_app.capture.image_file import ImageError, read_frame
from firmware_app.capture.png_data import excess_picture_data
from firmware_app.config import SAMPLES_DIR
from tests.capture.jpeg_damage import random_bytes, zeroed_block
from tests.capture.large_images import png_chunk, write_blank_rgba16_png
from tests.conftest import write_oriented, write_rgb


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


def test_a_jpeg_damaged_in_the_middle_is_not_called_truncated(tmp_path, retina_jpeg):
    """Bytes changed mid-file, its end intact: a marker with a length that lands inside the scan."""
    data = bytearray(retina_jpeg.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = b"\xff\xe1\x00\x10"
    path = tmp_path / "damaged.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=r"the JPEG is damaged \(its structure breaks at byte [\d,]+ of") as raised:
        read_frame(path)
    assert "truncated" not in str(raised.value)


# A bundled sample -> the seed of a zeroed block, and of marker-free garbage, that libjpeg notices. Not
# every damage is noticed (JPEG has no checksum: bench/jpeg_damage.py counts how much is); these are.
_NOTICED_DAMAGE = {"fundus-retina.jpg": (0, 0), "dermoscopy-synthetic-naevus.jpg": (0, 2)}


@pytest.mark.parametrize("sample", sorted(_NOTICED_DAMAGE))
@pytest.mark.parametrize("damage", ["zeroed", "garbage"])
def test_a_jpeg_whose_picture_data_is_damaged_is_refused(tmp_path, sample, damage):
    """Its structure whole, so only the decoder can tell: libjpeg's "Corrupt JPEG data" warning,
    which OpenCV swallowed (decoding grey or garbage blocks that were triaged), refuses it."""
    zeroed_seed, garbage_seed = _NOTICED_DAMAGE[sample]
    data = (SAMPLES_DIR / sample).read_bytes()
    if damage == "zeroed":
        damaged = zeroed_block(data, np.random.default_rng(zeroed_seed))
    else:
        damaged = random_bytes(data, np.random.default_rng(garbage_seed), highest=254)
    assert cv2.imdecode(np.frombuffer(damaged, np.uint8), cv2.IMREAD_COLOR) is not None  # OpenCV decodes it
    path = tmp_path / sample
    path.write_bytes(damaged)
    with pytest.raises(ImageError) as raised:
        read_frame(path)
    message = r"the JPEG's picture data is damaged \(libjpeg: Corrupt JPEG data: [^)]*\): copy it again"
    assert re.fullmatch(message, raised.value.reason), raised.value.reason
    assert str(raised.value) == f"{path}: {raised.value.reason}"


def test_a_jpeg_libjpeg_cannot_decode_at_all_is_not_called_merely_damaged(tmp_path):
    """A Huffman table whose code counts are zeroed: libjpeg stops with an error, not a warning."""
    data = bytearray((SAMPLES_DIR / "fundus-retina.jpg").read_bytes())
    table = data.index(b"\xff\xc4")
    data[table + 5 : table + 21] = bytes(16)
    path = tmp_path / "bogus-table.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="corrupt or truncated, or a kind of JPEG the device does not read"):
        read_frame(path)


def test_the_damage_reason_keeps_the_file_name_out(tmp_path):
    path = tmp_path / "Marianne_Dupont_1957-03-14.jpg"
    path.write_bytes(zeroed_block((SAMPLES_DIR / "fundus-retina.jpg").read_bytes(), np.random.default_rng(0)))
    with pytest.raises(ImageError, match="picture data is damaged") as raised:
        read_frame(path)
    assert "Dupont" not in raised.value.reason and "Dupont" in str(raised.value)


# Reduction -> OpenCV's flag for it: what the device decoded JPEGs with before it decoded them strictly.
_OPENCV_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


@pytest.mark.parametrize("sample", sorted(_NOTICED_DAMAGE))
@pytest.mark.parametrize("reduction", sorted(_OPENCV_REDUCED))
def test_a_whole_jpeg_reads_as_opencv_read_it_at_every_reduction(sample, reduction):
    """The same slow integer DCT and fancy upsampling as OpenCV's libjpeg, the same DCT scaling:
    no decision on a whole photo can change with the decoder."""
    path = SAMPLES_DIR / sample
    before = cv2.cvtColor(cv2.imread(str(path), _OPENCV_REDUCED[reduction]), cv2.COLOR_BGR2RGB)
    height, width = before.shape[:2]
    frame = read_frame(path, max_decoded_bytes=width * height * 3)  # the size 1/reduction fits in
    np.testing.assert_array_equal(frame.pixels, before)


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_a_grey_or_cmyk_jpeg_reads_as_opencv_read_it(tmp_path, retina_rgb, mode):
    """libjpeg widens grey and converts CMYK (Adobe's inverted, as Pillow writes it) as OpenCV did."""
    path = tmp_path / f"{mode}.jpg"
    Image.fromarray(retina_rgb[:400, :600]).convert(mode).save(path, quality=90)
    frame = read_frame(path)
    np.testing.assert_array_equal(frame.pixels, cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
    assert frame.source_channels == len(mode)


def test_an_mpo_is_read_as_its_first_picture(tmp_path, retina_rgb):
    """A camera's multi-picture file (the shot, then previews or depth maps): the shot is judged."""
    shot, preview = Image.fromarray(retina_rgb[:400, :600]), Image.fromarray(retina_rgb[400:600, :300])
    path = tmp_path / "camera.mpo"
    shot.save(path, format="MPO", save_all=True, append_images=[preview], quality=90)
    assert Image.open(path).format == "MPO"
    first = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(read_frame(path).pixels, first)


def test_corrupt_png_body(tmp_path, retina_rgb):
    path = write_rgb(tmp_path / "retina.png", retina_rgb[:200, :200])
    data = bytearray(path.read_bytes())
    data[100:400] = bytes(300)
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="corrupt or truncated"):
        read_frame(path)


@pytest.mark.parametrize("image_format", ["TGA", "ICO"])
def test_a_format_the_device_does_not_read_is_named_not_called_corrupt(tmp_path, retina_rgb, image_format):
    """An icon or a Targa export is not damaged: the technician is told to export a JPEG or PNG."""
    path = tmp_path / f"retina.{image_format.lower()}"
    Image.fromarray(retina_rgb[:200, :200]).save(path, format=image_format)
    with pytest.raises(ImageError, match=f"{image_format} images are not read by the device: export"):
        read_frame(path)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but that carries almost no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_huge_dimensions_are_refused_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(30000, 30000))
    with pytest.raises(ImageError, match="30000x30000 pixels is larger than"):
        read_frame(path)


def test_a_side_longer_than_a_jpeg_holds_is_refused_from_the_header(tmp_path):
    """70000x40 is within the pixel limit, but the record keeps a JPEG, whose sides stop at 65,500:
    ``screen`` then stopped the run at the archive's encoding (a traceback; for a while "out of
    memory"), where this photo alone is refused and the run goes on."""
    path = tmp_path / "strip.png"
    path.write_bytes(_png_header_only(70000, 40))
    with pytest.raises(ImageError, match="70000x40 pixels has a side longer than the 65,500 pixels"):
        read_frame(path)


def test_file_size_limit(tmp_path, retina_jpeg):
    with pytest.raises(ImageError, match="larger than the 1,000-byte limit"):
        read_frame(retina_jpeg, max_bytes=1000)


def test_a_refusals_figures_are_written_as_the_language_writes_them(retina_jpeg):
    """The nurse reads why in the device's language, figures grouped as it groups them; the log's English
    (``reason``) is unchanged."""
    with pytest.raises(ImageError) as raised:
        read_frame(retina_jpeg, max_bytes=1000)
    size = f"{retina_jpeg.stat().st_size:,}"
    assert raised.value.reason == f"file of {size} bytes is larger than the 1,000-byte limit"
    french = raised.value.sentence("fr")
    assert (
        french == f"fichier de {size.replace(',', chr(0x202F))} octets, plus grand que la limite de 1\u202f000 octets"
    )


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


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_exif_orientation_is_applied_at_decoding(tmp_path, retina_rgb, orientation):
    upright = retina_rgb[100:300, 200:500]  # not square, so a missed quarter turn shows in the shape
    path = write_oriented(tmp_path / "turned.png", upright, orientation)
    np.testing.assert_array_equal(
        np.asarray(ImageOps.exif_transpose(Image.open(path))), upright
    )  # as a viewer shows it
    np.testing.assert_array_equal(read_frame(path).pixels, upright)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_camera_jpeg_is_read_upright(tmp_path, retina_rgb, orientation):
    path = write_oriented(tmp_path / "turned.jpg", retina_rgb[:, 100:1300], orientation, quality=95)
    pixels = read_frame(path).pixels
    assert pixels.shape == (1411, 1200, 3)
    assert np.abs(pixels.astype(int) - retina_rgb[:, 100:1300]).mean() < 2


def test_bytes_after_the_end_of_image_are_accepted(tmp_path, retina_jpeg):
    """Motion photos carry their video after the picture, some tools pad: the picture is whole."""
    path = tmp_path / "motion.jpg"
    path.write_bytes(retina_jpeg.read_bytes() + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    np.testing.assert_array_equal(read_frame(path).pixels, read_frame(retina_jpeg).pixels)


def test_a_jpeg_cut_inside_its_scan_is_refused_even_when_padded(tmp_path, retina_jpeg):
    data = retina_jpeg.read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) * 3 // 4] + bytes(4096))
    with pytest.raises(ImageError, match="truncated"):
        read_frame(path)


def _frames(retina_rgb) -> list[Image.Image]:
    return [Image.fromarray(retina_rgb[i * 100 : i * 100 + 300, :300]) for i in range(3)]


@pytest.mark.parametrize("name", ["a.gif", "a.webp", "a.tif", "a.png"])
def test_animations_and_multi_page_files_are_refused(tmp_path, retina_rgb, name):
    """Only one picture would be judged, silently: the nurse must export the photo meant."""
    first, *rest = _frames(retina_rgb)
    first.save(tmp_path / name, save_all=True, append_images=rest)
    with pytest.raises(ImageError, match="holds several pictures"):
        read_frame(tmp_path / name)


@pytest.mark.parametrize("name", ["one.gif", "one.webp", "one.tif"])
def test_a_single_picture_in_those_formats_is_read(tmp_path, retina_rgb, name):
    first = _frames(retina_rgb)[0]
    first.save(tmp_path / name, save_all=True)
    assert read_frame(tmp_path / name).pixels.shape == (300, 300, 3)


def test_a_png_that_would_decode_to_hundreds_of_mb_is_refused_from_its_header(tmp_path):
    """The issue's example: 6300x6300, 16-bit RGBA, a few hundred KB on disk."""
    path = write_blank_rgba16_png(tmp_path / "bomb.png", 6300)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ImageError, match="would take 119,070,000 bytes decoded, more than the 72,000,000-byte limit"):
        read_frame(path)


def test_a_large_jpeg_is_decoded_reduced_to_fit_the_decoded_bytes_bound(retina_jpeg):
    """libjpeg scales while decoding, so the full size never is in memory; R,G,B order is kept."""
    frame = read_frame(retina_jpeg, max_decoded_bytes=1411 * 1411 * 3 // 3)
    assert frame.pixels.shape == (706, 706, 3)
    assert frame.pixels[..., 0].mean() > frame.pixels[..., 2].mean() + 30


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1280, 848), 1),
        ((4056, 3040), 1),
        ((6000, 4000), 1),
        ((7000, 4000), 2),
        ((6300, 6300), 2),
        ((9152, 6944), 2),
        ((20000, 16500), 8),
    ],
)
def test_jpegs_are_reduced_where_the_full_size_is_not_needed(size, expected):
    from firmware_app.capture.image_file import DEFAULT_MAX_DECODED_BYTES, decode_reduction

    assert decode_reduction("JPEG", *size, DEFAULT_MAX_DECODED_BYTES) == expected
    assert decode_reduction("PNG", *size, DEFAULT_MAX_DECODED_BYTES) == 1  # only libjpeg reduces while decoding


def test_the_error_keeps_the_file_name_apart_for_the_logs(tmp_path):
    path = tmp_path / "Marianne_Dupont_1957-03-14.jpg"
    path.write_text("not a photo")
    with pytest.raises(ImageError) as error:
        read_frame(path)
    assert str(error.value).startswith(str(path)) and "Dupont" not in error.value.reason


def _png_with_picture_data(width: int, height: int, rows: bytes, interlaced: bool = False, level: int = 9) -> bytes:
    """An 8-bit RGB PNG whose picture data is ``rows`` (filter bytes included), compressed at ``level``
    in one IDAT chunk."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, int(interlaced))
    body = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows, level)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_a_png_whose_picture_data_inflates_past_its_pixels_is_refused_before_decoding(tmp_path):
    """100x100 pixels followed by 200 MB of zeros in a 200 KB file: libpng inflated them all (2 s here,
    13 s for a 1 MB file's gigabyte, and a file may weigh 64 MB), the preview frozen meanwhile."""
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_with_picture_data(100, 100, bytes(200_000_000)))
    assert path.stat().st_size < 250_000
    with pytest.raises(ImageError, match="inflates to more than the 30,100 bytes its 100x100 pixels take"):
        read_frame(path)


def _adam7(pixels: np.ndarray) -> bytes:
    """``pixels`` (8-bit RGB) as an interlaced PNG's rows: Adam7's seven passes, each row unfiltered."""
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    reduced = (pixels[y0::dy, x0::dx] for x0, y0, dx, dy in passes)
    return b"".join(b"\0" + row.tobytes() for image in reduced if image.shape[1] for row in image)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    mode=st.sampled_from(["1", "L", "LA", "P1", "P2", "P4", "P", "RGB", "RGBA", "I;16", "adam7"]),
)
def test_every_kind_of_png_is_read_whole(tmp_path, width, height, mode):
    """The bound on a PNG's picture data is what its rows take, whatever its depth, colour type or
    interlacing: a real PNG is never refused by it."""
    pixels = np.random.default_rng(width * height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    path = tmp_path / "any.png"
    if mode == "adam7":
        path.write_bytes(_png_with_picture_data(width, height, _adam7(pixels), interlaced=True))
        np.testing.assert_array_equal(read_frame(path).pixels, pixels)
        return
    image = Image.fromarray(pixels)
    if mode.startswith("P"):
        image.convert("P", palette=Image.Palette.ADAPTIVE).save(path, bits=int(mode[1:] or 8))
    else:
        image.convert(mode).save(path)
    assert read_frame(path).pixels.shape == (height, width, 3)


def test_a_png_in_one_large_idat_chunk_is_checked_a_megabyte_at_a_time():
    """zlib copies the input it has not inflated yet at each step: fed a whole 16 MB IDAT chunk, the check
    held a copy of the rest of it a megabyte at a time (3.5 s for a 60 MB one, libpng decoding it in 0.8 s)."""
    width = height = 2000
    rows = np.random.default_rng(7).integers(0, 256, (height, 3 * width + 1), dtype=np.uint8)
    rows[:, 0] = 0  # each row's filter: none
    png = _png_with_picture_data(width, height, rows.tobytes(), level=0)
    assert len(png) > 12_000_000
    tracemalloc.start()
    try:
        assert excess_picture_data(png) is None  # a real PNG
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 2**20
