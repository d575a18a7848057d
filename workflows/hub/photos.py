"""Photos sent with a hub item, made safe to keep and to show: decoded as an image (anything
else is refused), turned the way the camera meant (EXIF orientation), scaled to at most
2,048 px on the long side, and encoded again from the pixels alone, so that nothing a phone
writes into a file (GPS position, camera serial, the owner's name, a thumbnail of the
uncropped picture) survives. いきものログ strips photo locations on upload for the same reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import Said

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 4
LONG_SIDE = 2048
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "MPO": "image/jpeg"}
"""What a phone's camera or a screenshot gives; kept as JPEG or PNG."""
Image.MAX_IMAGE_PIXELS = 60_000_000  # a decompression bomb is refused, not decoded


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str
    width: int
    height: int


def problem(files: list[bytes]) -> str | None:
    """What is wrong with the photos sent, or None: a field check, so it is said beside the
    field with the others."""
    if len(files) > MAX_PHOTOS:
        return Said(f"{MAX_PHOTOS} photos at most", ja=f"写真は{MAX_PHOTOS}枚までです")
    for number, data in enumerate(files, start=1):
        if len(data) > MAX_BYTES:
            return Said(f"photo {number} is larger than 10 MB", ja=f"{number}枚目の写真が10MBを超えています")
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise UnidentifiedImageError(image.format)
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return Said(f"photo {number} is not a JPEG, PNG or WebP picture",
                        ja=f"{number}枚目は JPEG・PNG・WebP の写真として読めません")
    return None


def cleaned(data: bytes) -> Photo:
    """The picture again, from its pixels only: upright, at most LONG_SIDE px, no metadata."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((LONG_SIDE, LONG_SIDE))
        keeps_alpha = upright.mode in ("RGBA", "LA", "P") and image.format == "PNG"
        pixels = upright.convert("RGBA" if keeps_alpha else "RGB")
        plain = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())  # pixels only: no EXIF, ICC, XMP
        out = io.BytesIO()
        if keeps_alpha:
            plain.save(out, format="PNG", optimize=True)
            kind = "image/png"
        else:
            plain.save(out, format="JPEG", quality=85, optimize=True)
            kind = "image/jpeg"
        return Photo(out.getvalue(), kind, plain.width, plain.height)
