"""Job pages: thin; the progress bar polls `progress` (portal/static/js/jobs.js)."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from portal.core import jobs
from portal.core.errors import DomainError, NotFound
from portal.core.inputs import int_arg
from portal.core.pagination import keyset_page
from portal.core.permissions import Permission, require, sees_all_stations
from portal.extensions import db
from portal.jobs import bp


def _actor():
    return current_user._get_current_object()


def _job_or_404(job_id: int) -> jobs.Job:
    try:
        return jobs.get_visible(job_id, current_user)
    except NotFound:
        abort(404)


@bp.route("/")
@require(Permission.VIEW_DASHBOARD)
def index():
    state = request.args.get("state") or ""
    stmt = select(jobs.Job)
    if not sees_all_stations(current_user):
        conditions = [jobs.Job.created_by_id == current_user.id]
        if current_user.station_id:
            conditions.append(jobs.Job.station_id == current_user.station_id)
        stmt = stmt.where(or_(*conditions))
    if state in {s.value for s in jobs.JobState}:
        stmt = stmt.where(jobs.Job.state == jobs.JobState(state))
    page = keyset_page(
        stmt,
        jobs.Job.id,
        after=int_arg(request.args, "after", minimum=0),
        before=int_arg(request.args, "before", minimum=0),
        size=current_app.config["PAGE_SIZE"],
        descending=True,
    )
    page.items = [job for job in page.items if jobs.visible_to(current_user, job)]
    return render_template("jobs/index.html", page=page, state=state, JobState=jobs.JobState)


@bp.route("/<int:job_id>")
@require(Permission.VIEW_DASHBOARD)
def detail(job_id: int):
    job = _job_or_404(job_id)
    return render_template(
        "jobs/detail.html", job=job, progress=jobs.progress_of(job, current_user)
    )


@bp.route("/<int:job_id>/progress")
@require(Permission.VIEW_DASHBOARD)
def progress(job_id: int):
    job = _job_or_404(job_id)
    response = jsonify(jobs.progress_of(job, current_user))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/restart", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
def restart(job_id: int):
    job = _job_or_404(job_id)
    try:
        jobs.restart(job, _actor())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        flash(_("The job was started again."), "success")
    return redirect(url_for("jobs.detail", job_id=job_id))
