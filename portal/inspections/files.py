"""Inspection photos and evidence files: checked by content, stored outside static.

Phones take large photos. The original is kept as uploaded; an image also gets a copy with no
metadata (no GPS position, no camera serial) turned upright, and a small JPEG preview. Files
are written under temporary names and moved into place only after the database commit
(portal.core.files), so a rolled-back upload leaves no file behind and a committed row never
points at nothing.
"""

from __future__ import annotations

import io
import os
import uuid
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import files as core_files
from portal.core.errors import DomainError

IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
PDF_MAGIC = b"%PDF-"
PREVIEW_EDGE = 480
MAX_PIXELS = 60_000_000  # a 60-megapixel photo is already larger than any phone takes


@dataclass
class Checked:
    """An accepted upload: what to store, and its facts."""

    content_type: str
    ext: str
    original: bytes
    clean: bytes | None = None
    preview: bytes | None = None
    width: int | None = None
    height: int | None = None


def folder() -> str:
    """Where inspection files live: UPLOAD_FOLDER/inspections (outside the static folder)."""
    base = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    path = os.path.join(base, "inspections")
    os.makedirs(path, exist_ok=True)
    return path


def max_bytes() -> int:
    return int(current_app.config.get("INSPECTION_PHOTO_MAX_MB", 15)) * 1024 * 1024


def read_limited(stream) -> bytes:
    """The upload's bytes, refused when larger than INSPECTION_PHOTO_MAX_MB."""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise DomainError(
            _l(
                "The file is larger than %(mb)d MB.",
                mb=int(current_app.config.get("INSPECTION_PHOTO_MAX_MB", 15)),
            ),
            field="file",
        )
    if not data:
        raise DomainError(_l("The file is empty."), field="file")
    return data


def check_name(filename: str) -> str:
    name = (filename or "").strip() or "photo.jpg"
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if "\x00" in name or len(name) > 200 or name in (".", ".."):
        raise DomainError(_l("The file name is not acceptable."), field="file")
    return name


def check_image(data: bytes) -> Checked:
    """A real JPEG or PNG (decoded, not trusted by name), with its clean copy and preview."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                if kind not in IMAGE_FORMATS:
                    raise DomainError(_l("Only JPG or PNG photos are accepted."), field="file")
                if width * height > MAX_PIXELS:
                    raise DomainError(_l("The photo has too many pixels."), field="file")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError(
            _l("This file is not a photo the portal can read (JPG or PNG)."), field="file"
        ) from None
    except Image.DecompressionBombWarning:
        raise DomainError(_l("The photo has too many pixels."), field="file") from None
    content_type, ext = IMAGE_FORMATS[kind]
    return Checked(
        content_type=content_type,
        ext=ext,
        original=data,
        clean=_without_metadata(upright, kind),
        preview=_preview(upright),
        width=upright.width,
        height=upright.height,
    )


def _without_metadata(image: Image.Image, kind: str) -> bytes:
    """The picture alone: re-encoded from pixels, so no EXIF, GPS, XMP or comments remain."""
    out = io.BytesIO()
    if kind == "JPEG":
        rgb = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        rgb.save(out, "JPEG", quality=92, optimize=True)
    else:
        pixels = image.copy()
        pixels.info = {}
        pixels.save(out, "PNG", optimize=True)
    return out.getvalue()


def _preview(image: Image.Image) -> bytes:
    small = image.convert("RGB") if image.mode != "RGB" else image.copy()
    small.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=78, optimize=True)
    return out.getvalue()


def check_evidence(data: bytes) -> Checked:
    """Evidence: a photo (as above) or a PDF document, recognised by content."""
    if data.startswith(PDF_MAGIC):
        return Checked(content_type="application/pdf", ext=".pdf", original=data)
    try:
        return check_image(data)
    except DomainError:
        raise DomainError(
            _l("Evidence must be a JPG or PNG photo or a PDF document."), field="file"
        ) from None


# --- writing after commit --------------------------------------------------------------------


def stage(session: Session, data: bytes, ext: str) -> str:
    """Write data under a temporary name; it becomes `name` when the transaction commits."""
    name = uuid.uuid4().hex + ext
    core_files.stage(session, folder(), name, data)
    return name


def path_of(name: str) -> str:
    return os.path.join(folder(), name)


def _stored_names():
    from portal.extensions import db
    from portal.inspections.models import InspectionFile

    rows = db.session.execute(
        select(InspectionFile.stored_name, InspectionFile.clean_name, InspectionFile.preview_name)
    )
    for row in rows:
        yield from (name for name in row if name)


core_files.register_store("inspection photos and evidence", folder, _stored_names)
