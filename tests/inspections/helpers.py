"""Helpers for the inspection tests: images and a fully answered inspection."""

from __future__ import annotations

import io
import uuid

from PIL import Image

from portal.inspections import rules, services


def jpeg(size=(80, 60), colour=(40, 120, 200), exif=None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, colour)
    if exif is not None:
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def answer_all(auditor, inspection, results=None, photos=True, stock=(5, 5), upto=None):
    """Answer every item (pass unless told by number), with photos and one counted part."""
    results = results or {}
    for number, answer in enumerate(inspection.answers, start=1):
        if upto is not None and number > upto:
            break
        item = answer.item
        result = results.get(number, "pass")
        services.save_answer(
            auditor,
            inspection,
            item.id,
            answer.rev,
            {"result": result, "score": rules.default_score(result, item.max_score), "note": ""},
        )
        if photos and item.photo_required:
            services.add_photo(auditor, inspection, item.id, None, "p.jpg", io.BytesIO(jpeg()))
        if stock and item.stock_count and inspection.station_id:
            services.save_stock_line(
                auditor,
                inspection,
                str(uuid.uuid4()),
                0,
                {"part_number": "LCD-P30", "expected_qty": stock[0], "counted_qty": stock[1]},
            )
