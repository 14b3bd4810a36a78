"""`tools.images.load_image`: every awkward upload becomes upright RGB or a clear refusal."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.fixtures.images import write_png_header
from tools.context import ToolContext
from tools.errors import ToolInputError
from tools.images import load_image

RED, BLUE = (255, 0, 0), (0, 0, 255)


def close_to(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def halves(size: tuple[int, int] = (200, 100)) -> Image.Image:
    """Red on the left, blue on the right: shows which way an image was turned."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_exif_orientation_is_applied(tmp_path: Path, tool_ctx: ToolContext, suffix: str) -> None:
    path = tmp_path / f"rotated{suffix}"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the stored left edge is the top
    halves().save(path, exif=exif)

    img = load_image(path, tool_ctx)

    assert img.mode == "RGB"
    assert img.size == (100, 200)
    assert close_to(img.getpixel((50, 20)), RED)
    assert close_to(img.getpixel((50, 180)), BLUE)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_becomes_rgb(tmp_path: Path, tool_ctx: ToolContext, suffix: str) -> None:
    path = tmp_path / f"cmyk{suffix}"
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(path)  # no cyan, full magenta+yellow

    img = load_image(path, tool_ctx)

    assert img.mode == "RGB"
    assert close_to(img.getpixel((32, 32)), RED, tolerance=40)


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path: Path, tool_ctx: ToolContext) -> None:
    path = tmp_path / "depth16.png"
    depth16 = np.zeros((64, 64), dtype=np.uint16)
    depth16[:, 32:] = 32768  # mid gray on the right, black on the left
    Image.fromarray(depth16).save(path)
    assert Image.open(path).mode == "I;16"  # which Pillow alone would turn white

    img = load_image(path, tool_ctx)

    assert img.mode == "RGB"
    assert close_to(img.getpixel((10, 10)), (0, 0, 0), tolerance=2)
    assert close_to(img.getpixel((50, 10)), (128, 128, 128), tolerance=2)


def test_palette_with_transparency_is_flattened_onto_white(
    tmp_path: Path, tool_ctx: ToolContext
) -> None:
    path = tmp_path / "palette.png"
    img = Image.new("P", (64, 64), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)  # index 0 black, index 1 red
    img.paste(1, (0, 0, 32, 64))
    img.save(path, transparency=0)  # the black half is transparent

    loaded = load_image(path, tool_ctx)

    assert loaded.mode == "RGB"
    assert close_to(loaded.getpixel((10, 10)), RED, tolerance=2)
    assert close_to(loaded.getpixel((50, 10)), (255, 255, 255), tolerance=2)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_flattened_onto_white(tmp_path: Path, tool_ctx: ToolContext, mode: str) -> None:
    path = tmp_path / "alpha.png"
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # transparent black: shown as white
    img.paste((0, 0, 0, 255), (0, 0, 32, 64))  # opaque black "ink" on the left
    img.convert(mode).save(path)

    loaded = load_image(path, tool_ctx)

    assert loaded.mode == "RGB"
    assert close_to(loaded.getpixel((10, 10)), (0, 0, 0), tolerance=2)
    assert close_to(loaded.getpixel((50, 10)), (255, 255, 255), tolerance=2)


def test_animated_gif_gives_its_first_frame(tmp_path: Path, tool_ctx: ToolContext) -> None:
    path = tmp_path / "animated.gif"
    frames = [Image.new("RGB", (64, 48), color) for color in (RED, (0, 255, 0), BLUE)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 3

    img = load_image(path, tool_ctx)

    assert img.mode == "RGB"
    assert img.size == (64, 48)
    assert close_to(img.getpixel((32, 24)), RED, tolerance=8)


def test_plain_rgb_and_grayscale_load_unchanged(tmp_path: Path, tool_ctx: ToolContext) -> None:
    halves().save(tmp_path / "rgb.png")
    halves().convert("L").save(tmp_path / "gray.png")

    rgb = load_image(tmp_path / "rgb.png", tool_ctx)
    gray = load_image(tmp_path / "gray.png", tool_ctx)

    assert (rgb.mode, rgb.size, rgb.getpixel((10, 10))) == ("RGB", (200, 100), RED)
    assert gray.mode == "RGB" and gray.size == (200, 100)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20_000, 20_000),  # over twice Pillow's own limit: Pillow raises
        (10_000, 10_000),  # between Pillow's limit and twice it: Pillow only warns
        (8_000, 8_000),  # under Pillow's limit, over ours (50 M pixels)
    ],
)
def test_decompression_bomb_is_refused_before_decoding(
    tmp_path: Path, tool_ctx: ToolContext, width: int, height: int
) -> None:
    path = write_png_header(tmp_path / "bomb.png", width, height)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ToolInputError, match=r"too large|over the limit"):
            load_image(path, tool_ctx)

    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_pixel_limit_comes_from_the_context(tmp_path: Path, tool_ctx: ToolContext) -> None:
    path = tmp_path / "photo.png"
    halves((400, 300)).save(path)
    small_limit = dataclasses.replace(tool_ctx, max_image_pixels=100_000)

    with pytest.raises(ToolInputError, match=r"400×300 = 120,000 pixels, over the limit of 100,"):
        load_image(path, small_limit)
    assert load_image(path, tool_ctx).size == (400, 300)


@pytest.mark.parametrize("size", [(1, 1), (8, 300), (300, 8)])
def test_tiny_images_are_refused(
    tmp_path: Path, tool_ctx: ToolContext, size: tuple[int, int]
) -> None:
    path = tmp_path / "tiny.png"
    Image.new("RGB", size, RED).save(path)

    with pytest.raises(ToolInputError, match=rf"only {size[0]}×{size[1]} pixels"):
        load_image(path, tool_ctx)


@pytest.mark.parametrize(("suffix", "keep"), [(".png", 0.5), (".jpg", 0.5), (".png", 0.002)])
def test_truncated_files_are_refused_with_a_reason(
    tmp_path: Path, tool_ctx: ToolContext, suffix: str, keep: float
) -> None:
    whole = tmp_path / f"whole{suffix}"
    halves((300, 200)).save(whole)
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: max(12, int(len(data) * keep))])

    with pytest.raises(ToolInputError, match="the image file is truncated or corrupt"):
        load_image(cut, tool_ctx)


def test_empty_and_non_image_files_are_refused(tmp_path: Path, tool_ctx: ToolContext) -> None:
    empty = tmp_path / "empty.png"
    empty.touch()
    text = tmp_path / "notes.jpg"
    text.write_text("SERIAL NO. AX-4471-B\n")

    with pytest.raises(ToolInputError, match="empty"):
        load_image(empty, tool_ctx)
    with pytest.raises(ToolInputError, match="not an image"):
        load_image(text, tool_ctx)
    with pytest.raises(ToolInputError, match="does not exist"):
        load_image(tmp_path / "missing.png", tool_ctx)
