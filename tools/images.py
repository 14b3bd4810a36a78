"""Open an uploaded image safely, the same way for every tool that reads pixels.

Uploads are photos from phones and scanners: rotated by EXIF, CMYK, 16-bit, palette or
transparent, animated, truncated by a broken upload, or hostile (decompression bombs).
`load_image` turns each of these into an upright RGB image or a `ToolInputError` whose
reason a person can act on, so no tool has to think about it.
"""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from tools.context import ToolContext
from tools.errors import ToolInputError

# What Pillow raises when a file is cut short or its data does not decode.
_DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, struct.error
)

_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}


def load_image(path: Path, ctx: ToolContext) -> Image.Image:
    """The image at `path` as an upright RGB image, or `ToolInputError` saying why not.

    The size is checked from the header, before any pixel is decoded, against
    `ctx.max_image_pixels` and `ctx.min_image_side`. EXIF orientation is applied,
    an animated image gives its first frame, and transparency is flattened onto white
    (transparent pixels are often black underneath, which would hide dark text).
    """
    path = Path(path)
    _refuse_bomb_warnings()
    if not path.is_file():
        raise ToolInputError(f"the image {path.name!r} does not exist")
    if path.stat().st_size == 0:
        raise ToolInputError(f"the image {path.name!r} is empty (0 bytes); send the file again")
    try:
        im = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ToolInputError(
            f"the image {path.name!r} is too large to open safely ({_pixels_in(exc)}); "
            f"send an image of at most {ctx.max_image_pixels:,} pixels"
        ) from None
    except UnidentifiedImageError as exc:
        if filetype.is_image(str(path)):  # an image by its first bytes, but cut short
            raise _corrupt(path, exc) from None
        raise ToolInputError(
            f"the file {path.name!r} is not an image that can be read; "
            "send a JPEG, PNG, WebP, TIFF, BMP or GIF"
        ) from None
    except _DECODE_ERRORS as exc:
        raise _corrupt(path, exc) from None

    with im:
        width, height = im.size
        if width * height > ctx.max_image_pixels:
            raise ToolInputError(
                f"the image {path.name!r} is {width}×{height} = {width * height:,} pixels, over "
                f"the limit of {ctx.max_image_pixels:,}; send a smaller image"
            )
        if min(width, height) < ctx.min_image_side:
            raise ToolInputError(
                f"the image {path.name!r} is only {width}×{height} pixels; nothing can be read "
                f"or found in it: send an image at least {ctx.min_image_side} pixels on each side"
            )
        try:
            im.seek(0)  # the first frame of an animated GIF/WebP/PNG or multi-page TIFF
            im.load()
            upright = ImageOps.exif_transpose(im)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ToolInputError(
                f"the image {path.name!r} is too large to decode safely ({_pixels_in(exc)})"
            ) from None
        except _DECODE_ERRORS as exc:
            raise _corrupt(path, exc) from None
        return to_rgb(upright)


def to_rgb(im: Image.Image) -> Image.Image:
    """`im` as 8-bit RGB: 16-bit and float scaled down, transparency flattened onto white."""
    if im.mode == "RGB":
        return im
    if im.mode in _SIXTEEN_BIT_MODES or im.mode in ("I", "F"):
        return _high_depth_to_rgb(im)
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _high_depth_to_rgb(im: Image.Image) -> Image.Image:
    # Pillow's own conversion clips values above 255, which turns a 16-bit image white.
    wide = im.convert("F")
    low, high = wide.getextrema()
    assert isinstance(low, float) and isinstance(high, float)  # one band ("F"): a (min, max) of floats
    if im.mode in _SIXTEEN_BIT_MODES or high > 255:
        full = 65535.0 if im.mode in _SIXTEEN_BIT_MODES or high <= 65535 else float(high)
        wide = wide.point(lambda v: v * (255.0 / full))
    elif im.mode == "F" and high <= 1.0 and low >= 0.0:
        wide = wide.point(lambda v: v * 255.0)  # float images stored as 0..1
    return wide.convert("L").convert("RGB")


def _refuse_bomb_warnings() -> None:
    # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; its docs advise turning
    # the warning into an error. Re-asserted on every call because a filter set at import
    # is lost when the import happens inside someone's `warnings.catch_warnings()` block.
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def _pixels_in(exc: BaseException) -> str:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return f"{int(found.group(1)):,} pixels" if found else "a decompression bomb"


def _corrupt(path: Path, exc: BaseException) -> ToolInputError:
    detail = str(exc) or type(exc).__name__
    return ToolInputError(
        f"the image file is truncated or corrupt: {path.name!r} ({detail}); "
        "send the original file again"
    )
