"""HQ imports station master data from a workbook (page; the CLI does the same)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired

from portal.core.forms import OneTimeTokenField
from portal.core.forms import submit as submit_form
from portal.core.imports import ImportRefused
from portal.core.permissions import Permission, require
from portal.extensions import db
from portal.stations import bp, importing

MAX_IMPORT_BYTES = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StationImportForm(FlaskForm):
    file = FileField(
        _l("Workbook (.xlsx) filled from the template"),
        validators=[FileRequired(), FileAllowed(["xlsx"], _l("An .xlsx workbook, please."))],
    )
    form_token = OneTimeTokenField()


@bp.route("/import/template.xlsx")
@require(Permission.MANAGE_STATIONS)
def import_template():
    return Response(
        importing.template_bytes(),
        mimetype=XLSX,
        headers={"Content-Disposition": "attachment; filename=stations-template.xlsx"},
    )


@bp.route("/import", methods=["GET", "POST"])
@require(Permission.MANAGE_STATIONS)
def import_page():
    form = StationImportForm()
    problems, status = [], 200
    if request.method == "POST":
        status = 422
        if form.validate():
            upload = form.file.data
            data = upload.read(MAX_IMPORT_BYTES + 1)
            if len(data) > MAX_IMPORT_BYTES:
                form.file.errors.append(_("The file is larger than 10 MB."))
            else:
                actor = current_user._get_current_object()
                try:
                    ok, result = submit_form(
                        form, lambda: importing.import_stations(actor, upload.filename, data)
                    )
                except ImportRefused as refused:
                    db.session.rollback()
                    flash(str(refused.message), "danger")
                    problems, ok = refused.problems, False
                if ok:
                    flash(
                        _(
                            "%(rows)d rows: %(created)d stations created, %(updated)d updated, "
                            "%(unchanged)d unchanged.",
                            **{k: result[k] for k in ("rows", "created", "updated", "unchanged")},
                        ),
                        "success",
                    )
                    return redirect(url_for("stations.index"))
    return render_template("stations/import.html", form=form, problems=problems), status
