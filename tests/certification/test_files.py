"""`flask files check`: files with no row and rows with no file."""

from __future__ import annotations

import io
import os
import time

import pytest

from portal.certification import services


@pytest.fixture(autouse=True)
def _request(app, db, tmp_path, monkeypatch):
    # A folder of its own: other tests leave committed files behind (their rows roll back).
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _upload(application, name="licence.pdf"):
    return services.upload_attachment(
        application.applicant,
        application,
        "business_licence",
        name,
        io.BytesIO(b"%PDF-1.4 " + os.urandom(8)),
    )


def test_files_check_is_clean_when_files_and_rows_match(runner, make, db):
    application = make.candidate()
    _upload(application)
    db.session.commit()
    result = runner.invoke(args=["files", "check"])
    assert result.exit_code == 0, result.output
    assert "certification attachments" in result.output
    assert "ok" in result.output


def test_files_check_lists_orphans_and_missing_files(runner, make, db, app):
    application = make.candidate()
    kept = _upload(application)
    gone = _upload(application, "gone.pdf")
    db.session.commit()
    os.remove(services.attachment_path(gone))
    orphan = os.path.join(app.config["UPLOAD_FOLDER"], "0123456789abcdef.pdf")
    with open(orphan, "wb") as handle:
        handle.write(b"%PDF-1.4 orphan")
    stale = os.path.join(app.config["UPLOAD_FOLDER"], "fedcba9876543210.png.part")
    with open(stale, "wb") as handle:
        handle.write(b"half")
    os.utime(stale, (1, 1))  # written long ago: an upload that never finished
    fresh = os.path.join(app.config["UPLOAD_FOLDER"], "aaaaaaaaaaaaaaaa.png.part")
    with open(fresh, "wb") as handle:
        handle.write(b"in flight")
    os.utime(fresh, (time.time(), time.time()))  # just written (by the test's clock)
    try:
        result = runner.invoke(args=["files", "check"])
        assert result.exit_code == 1, result.output
        assert f"row with no file: {gone.stored_name}" in result.output
        assert "file with no row: 0123456789abcdef.pdf" in result.output
        assert "file with no row: fedcba9876543210.png.part" in result.output
        assert "aaaaaaaaaaaaaaaa" not in result.output  # may belong to a running request
        assert kept.stored_name not in result.output
    finally:
        for path in (orphan, stale, fresh):
            os.remove(path)
