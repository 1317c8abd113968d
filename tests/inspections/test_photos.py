"""Photos: real images only, a preview, no location in what others see, files after commit."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from portal.core.errors import DomainError
from portal.inspections import files, services
from tests.inspections.helpers import jpeg

GPS_IFD = 0x8825


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0112] = 6  # orientation: rotate 90
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (34.0, 45.0, 0.0), 3: "E", 4: (113.0, 39.0, 0.0)})
    return jpeg(size=(120, 60), exif=exif)


def test_a_photo_keeps_its_original_and_loses_location_in_the_copies():
    checked = files.check_image(_jpeg_with_gps())
    original = Image.open(io.BytesIO(checked.original))
    assert original.getexif().get_ifd(GPS_IFD)
    for data in (checked.clean, checked.preview):
        image = Image.open(io.BytesIO(data))
        assert not image.getexif().get_ifd(GPS_IFD)
        assert 0x010F not in image.getexif()
    clean = Image.open(io.BytesIO(checked.clean))
    assert clean.size == (60, 120)  # turned upright by its orientation, which is then gone
    assert (checked.width, checked.height) == (60, 120)
    preview = Image.open(io.BytesIO(checked.preview))
    assert max(preview.size) <= files.PREVIEW_EDGE


def test_a_large_photo_gets_a_small_preview():
    checked = files.check_image(jpeg(size=(2000, 1500)))
    assert Image.open(io.BytesIO(checked.preview)).size == (480, 360)


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x00" * 40,
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"%PDF-1.4 not a photo",
        b"\xff\xd8\xff\xe0 broken jpeg",
    ],
)
def test_only_real_jpeg_or_png_is_a_photo(data):
    with pytest.raises(DomainError):
        files.check_image(data)


def test_a_png_is_accepted():
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    assert files.check_image(out.getvalue()).content_type == "image/png"


def test_too_many_pixels_is_refused():
    out = io.BytesIO()
    Image.new("1", (9000, 8000)).save(out, "PNG")
    with pytest.raises(DomainError):
        files.check_image(out.getvalue())


def test_files_appear_only_after_commit_and_vanish_on_rollback(app, db, people, planned):
    item_id = planned.answers[0].item_id
    photo = services.add_photo(
        people["auditor"], planned, item_id, None, "a.jpg", io.BytesIO(jpeg())
    )
    final = files.path_of(photo.stored_name)
    assert not os.path.exists(final)
    assert os.path.exists(final + ".part")
    db.session.commit()
    assert os.path.exists(final)
    assert not os.path.exists(final + ".part")
    assert os.path.exists(files.path_of(photo.preview_name))

    second = services.add_photo(
        people["auditor"], planned, item_id, None, "b.jpg", io.BytesIO(jpeg())
    )
    name = files.path_of(second.stored_name)
    db.session.rollback()
    assert not os.path.exists(name)
    assert not os.path.exists(name + ".part")


def test_the_same_photo_sent_twice_is_stored_once(people, planned):
    item_id = planned.answers[0].item_id
    key = "0b9d3c1e-2f4a-4b5c-8d6e-7f8091a2b3c4"
    first = services.add_photo(
        people["auditor"], planned, item_id, key, "a.jpg", io.BytesIO(jpeg())
    )
    again = services.add_photo(
        people["auditor"], planned, item_id, key, "a.jpg", io.BytesIO(jpeg())
    )
    assert again.id == first.id
    assert len(services.photos_of(planned)) == 1
