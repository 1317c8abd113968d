"""Background jobs: queueing, running, progress, failure, heartbeat, restart, pages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core import jobs
from portal.core.actors import SYSTEM
from portal.core.audit import AuditEntry
from portal.core.db import now_utc
from portal.core.errors import InvalidTransition, PermissionDenied
from portal.stations.models import Station
from tests.jobs import kinds  # noqa: F401 - registers the test kinds


def _entries(action):
    return list(
        jobs.db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()
    )


def test_enqueue_waits_until_run_and_records_progress_and_result(db, make):
    user = make.user(role="hq")
    job = jobs.enqueue("test.count", {"n": 4}, user)
    db.session.commit()
    assert job.state == jobs.JobState.QUEUED
    assert [e.object_id for e in _entries("job.queued")] == [str(job.id)]

    assert jobs.run_queued() == 1
    job = db.session.get(jobs.Job, job.id)
    assert job.state == jobs.JobState.DONE
    assert (job.done, job.total, job.message) == (4, 4, "step 4")
    assert job.result == {"counted": 4, "actor": user.username}
    assert job.attempts == 1
    assert job.started_at <= job.finished_at
    assert jobs.run_queued() == 0  # nothing runs twice


def test_unknown_kind_and_missing_permission_are_refused(db, make):
    with pytest.raises(jobs.DomainError):
        jobs.enqueue("no.such.kind", {}, SYSTEM)
    with pytest.raises(PermissionDenied):
        jobs.enqueue("test.fail", {"station_id": 1}, make.user(role="finance"))
    assert db.session.execute(select(jobs.Job)).first() is None


@pytest.mark.parametrize("domain", [False, True])
def test_failed_job_keeps_nothing_it_wrote_and_says_why(db, make, domain):
    station = make.station(name="Before")
    job = jobs.enqueue("test.fail", {"station_id": station.id, "domain": domain}, SYSTEM)
    db.session.commit()
    jobs.run_queued()
    job = db.session.get(jobs.Job, job.id)
    assert job.state == jobs.JobState.FAILED
    if domain:
        assert job.error == "The month has no settlements yet."
    else:
        assert "internal error (ZeroDivisionError)" in job.error
    assert (job.done, job.total) == (1, 2)
    assert db.session.get(Station, station.id).name == "Before"


def test_job_of_a_deactivated_user_fails(db, make):
    user = make.user(role="hq")
    job = jobs.enqueue("test.count", {}, user)
    user.active = False
    jobs.audit.record("user.deactivated", user, actor=SYSTEM)
    db.session.commit()
    jobs.run_queued()
    assert db.session.get(jobs.Job, job.id).state == jobs.JobState.FAILED


def test_stopped_heartbeat_shows_failed_and_restart_runs_it_again(db, make, app):
    user = make.user(role="hq")
    job = jobs.enqueue("test.count", {"n": 2}, user)
    db.session.commit()
    # As if a worker claimed it and then its process died.
    job.state = jobs.JobState.RUNNING
    job.attempts = 1
    long_ago = now_utc() - dt.timedelta(seconds=app.config.get("JOB_STALE_SECONDS", 120) + 5)
    job.heartbeat_at = long_ago
    db.session.commit()
    assert job.is_stale()
    assert job.shown_state() == jobs.JobState.FAILED
    assert "stopped answering" in job.error_text()
    recent = db.session.get(jobs.Job, job.id)
    recent.heartbeat_at = now_utc()
    assert recent.shown_state() == jobs.JobState.RUNNING
    recent.heartbeat_at = long_ago
    db.session.commit()

    with pytest.raises(PermissionDenied):
        jobs.restart(job, make.user(role="station", station=make.station()))
    jobs.restart(job, user)
    db.session.commit()
    assert job.state == jobs.JobState.QUEUED
    assert job.done == 0
    assert _entries("job.restarted")
    with pytest.raises(InvalidTransition):
        jobs.restart(job, user)  # queued, not failed
    jobs.run_queued()
    job = db.session.get(jobs.Job, job.id)
    assert job.state == jobs.JobState.DONE
    assert job.attempts == 2


def test_fail_stale_marks_dead_jobs_failed(db, app):
    job = jobs.enqueue("test.count", {}, SYSTEM)
    db.session.flush()
    job.state = jobs.JobState.RUNNING
    job.heartbeat_at = now_utc() - dt.timedelta(hours=1)
    fresh = jobs.enqueue("test.count", {}, SYSTEM)
    db.session.flush()
    fresh.state = jobs.JobState.RUNNING
    fresh.heartbeat_at = now_utc()
    db.session.commit()
    assert jobs.fail_stale() == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(jobs.Job, job.id).state == jobs.JobState.FAILED
    assert db.session.get(jobs.Job, fresh.id).state == jobs.JobState.RUNNING


def test_finished_result_of_a_late_process_does_not_overwrite_a_restart(db):
    job = jobs.enqueue("test.count", {}, SYSTEM)
    db.session.commit()
    attempt = jobs._claim(job.id)
    # Meanwhile it was declared dead and restarted: attempt 1 may no longer finish it.
    db.session.execute(
        jobs.update(jobs.Job).where(jobs.Job.id == job.id).values(state=jobs.JobState.QUEUED)
    )
    jobs._finish(job.id, attempt, state=jobs.JobState.DONE)
    db.session.expire_all()
    assert db.session.get(jobs.Job, job.id).state == jobs.JobState.QUEUED


# --- pages -------------------------------------------------------------------------------------


def test_progress_json_and_page(client, db, make, login_as):
    user = login_as("finance")
    job = jobs.enqueue("test.count", {"n": 3}, user)
    db.session.commit()
    data = client.get(f"/jobs/{job.id}/progress").get_json()
    assert data["state"] == "queued"
    assert data["percent"] == 0
    assert not data["finished"]
    assert data["state_label"] == "Waiting to start"
    jobs.run_queued()
    response = client.get(f"/jobs/{job.id}/progress")
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["state"] == "done"
    assert data["percent"] == 100
    assert data["finished"]
    assert (data["done"], data["total"]) == (3, 3)
    assert data["restart_url"] is None
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "data-job-progress" in page
    assert "js/jobs.js" in page
    assert 'value="100"' in page
    assert "Count" in client.get("/jobs/").get_data(as_text=True)
    script = client.get("/static/js/jobs.js")
    assert script.status_code == 200
    assert b"data-job-bar" in script.data
    script.close()


def test_failed_job_page_offers_restart(client, db, make, login_as):
    user = login_as("hq")
    station = make.station()
    job = jobs.enqueue("test.fail", {"station_id": station.id}, user)
    db.session.commit()
    jobs.run_queued()
    data = client.get(f"/jobs/{job.id}/progress").get_json()
    assert data["state"] == "failed"
    assert data["restart_url"].endswith(f"/jobs/{job.id}/restart")
    assert "ZeroDivisionError" in data["error"]
    response = client.post(f"/jobs/{job.id}/restart")
    assert response.status_code == 302
    assert db.session.get(jobs.Job, job.id).state == jobs.JobState.QUEUED
    again = client.post(f"/jobs/{job.id}/restart", follow_redirects=True)
    assert b"Only a failed job can be restarted." in again.data


def test_jobs_are_seen_only_by_their_people(client, db, make, login_as):
    station = make.station()
    other = make.station()
    mine = jobs.enqueue("test.count", {}, make.user(role="station", station=station))
    theirs = jobs.enqueue("test.count", {}, make.user(role="station", station=other))
    hq_job = jobs.enqueue("test.fail", {"station_id": other.id}, make.user(role="hq"))
    db.session.commit()
    # A station user sees the jobs of its station (another user of it started this one).
    mine.station_id = station.id
    db.session.commit()
    login_as("station", station=station)
    assert client.get(f"/jobs/{mine.id}/progress").status_code == 200
    assert client.get(f"/jobs/{theirs.id}/progress").status_code == 404
    assert client.get(f"/jobs/{hq_job.id}").status_code == 404
    listing = client.get("/jobs/").get_data(as_text=True)
    assert f"/jobs/{mine.id}" in listing
    assert f"/jobs/{theirs.id}" not in listing
    assert client.post(f"/jobs/{hq_job.id}/restart").status_code == 404


def test_finance_does_not_see_a_kind_it_may_not_run(client, db, make, login_as):
    job = jobs.enqueue("test.fail", {"station_id": make.station().id}, make.user(role="hq"))
    db.session.commit()
    login_as("finance")
    assert client.get(f"/jobs/{job.id}/progress").status_code == 404


def test_a_job_left_waiting_by_the_thread_runner_can_be_restarted(db, app, make):
    user = make.user(role="hq")
    job = jobs.enqueue("test.count", {}, user)
    job.created_at = now_utc() - dt.timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 5)
    db.session.commit()
    assert job.shown_state() == jobs.JobState.QUEUED  # the manual runner: it waits for a call
    app.config["JOBS_RUNNER"] = "thread"
    try:
        assert job.shown_state() == jobs.JobState.FAILED  # its process is gone
        jobs.restart(job, user, here=True)
        assert job.shown_state() == jobs.JobState.QUEUED  # queued again just now
    finally:
        app.config["JOBS_RUNNER"] = "manual"
    db.session.commit()
    assert job.state == jobs.JobState.QUEUED
    jobs.run_queued()
    assert db.session.get(jobs.Job, job.id).state == jobs.JobState.DONE
