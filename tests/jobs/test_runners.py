"""The thread and RQ runners, on a database of their own where commits are real (the usual
test database rolls each test back, which another thread or process could not see)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade

from portal.core import jobs
from portal.core.actors import SYSTEM
from portal.extensions import db
from tests.jobs import kinds

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def committed_db(tmp_path_factory):
    """A migrated SQLite file of its own (its URL)."""
    from portal import create_app

    path = tmp_path_factory.mktemp("jobs-db") / "jobs.db"
    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _app(url, **config):
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", "TESTING": True, **config})
    return app


def _until(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        db.session.rollback()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_thread_runner_runs_after_commit_with_heartbeat_and_progress(committed_db):
    app = _app(committed_db, JOBS_RUNNER="thread", JOB_HEARTBEAT_SECONDS=0.2)
    kinds.RELEASE.clear()
    with app.app_context():
        try:
            job = jobs.enqueue("test.wait", {}, SYSTEM)
            job_id = job.id
            time.sleep(0.3)
            db.session.expire_all()
            assert db.session.get(jobs.Job, job_id).state == jobs.JobState.QUEUED  # not before
            db.session.commit()
            running = _until(
                lambda: (j := db.session.get(jobs.Job, job_id)).message == "half way" and j
            )
            assert running.state == jobs.JobState.RUNNING
            assert (running.done, running.total) == (1, 2)
            first_beat = running.heartbeat_at
            _until(lambda: db.session.get(jobs.Job, job_id).heartbeat_at > first_beat)
            kinds.RELEASE.set()
            done = _until(
                lambda: (j := db.session.get(jobs.Job, job_id)).state == jobs.JobState.DONE and j
            )
            assert (done.done, done.total, done.message) == (2, 2, "done")
        finally:
            kinds.RELEASE.set()
            db.session.remove()
            db.engine.dispose()


def test_rolled_back_enqueue_never_starts(committed_db):
    app = _app(committed_db, JOBS_RUNNER="thread")
    with app.app_context():
        try:
            jobs.enqueue("test.count", {}, SYSTEM)
            db.session.rollback()
            assert not db.session().info.get("jobs.to_start")
        finally:
            db.session.remove()
            db.engine.dispose()


def _redis_or_skip():
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisDown:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return connection


def test_rq_runner_queues_on_redis_and_the_worker_runs_it(committed_db, tmp_path):
    _redis_or_skip()
    queue_name = f"portal-test-{uuid.uuid4().hex[:12]}"
    app = _app(committed_db, JOBS_RUNNER="rq", REDIS_URL=REDIS_URL, JOBS_QUEUE=queue_name)
    with app.app_context():
        queue = jobs.rq_queue(app)
        try:
            job = jobs.enqueue("test.count", {"n": 5}, SYSTEM)
            job_id = job.id
            assert queue.count == 0  # not before the commit
            db.session.commit()
            assert queue.count == 1
            env = {
                **os.environ,
                "DATABASE_URL": committed_db,
                "REDIS_URL": REDIS_URL,
                "JOBS_QUEUE": queue_name,
                "PORTAL_INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "t",
            }
            result = subprocess.run(
                [sys.executable, "-m", "tests.jobs.rq_worker"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            db.session.expire_all()
            done = db.session.get(jobs.Job, job_id)
            assert done.state == jobs.JobState.DONE, (done.error, result.stderr[-2000:])
            assert done.result == {"counted": 5, "actor": "system"}
            assert queue.count == 0
        finally:
            queue.delete(delete_jobs=True)
            db.session.remove()
            db.engine.dispose()


def test_worker_command_needs_redis(app):
    runner = app.test_cli_runner()
    saved = app.config.get("REDIS_URL")
    app.config["REDIS_URL"] = None
    try:
        result = runner.invoke(args=["jobs", "worker", "--burst"])
    finally:
        app.config["REDIS_URL"] = saved
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


def test_jobs_list_command_shows_state(runner, db):
    job = jobs.enqueue("test.count", {"n": 2}, SYSTEM)
    db.session.commit()
    jobs.run_queued()
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0
    assert f"{job.id}\ttest.count\tdone\t2/2\tsystem" in result.output


def test_jobs_restart_command_runs_a_failed_job_here(runner, db, make):
    station = make.station(name="Kept")
    job = jobs.enqueue("test.fail", {"station_id": station.id}, SYSTEM)
    db.session.commit()
    jobs.run_queued()
    result = runner.invoke(args=["jobs", "restart", str(job.id)])
    assert result.exit_code == 0, result.output
    assert "1/2" in result.output
    assert f"job {job.id}: failed" in result.output
    assert db.session.get(jobs.Job, job.id).attempts == 2


def test_rq_worker_runs_the_portals_own_kinds(committed_db, tmp_path):
    """The worker knows every kind the portal queues (here a month's export) by itself."""
    _redis_or_skip()
    from portal.settlement import export

    queue_name = f"portal-test-{uuid.uuid4().hex[:12]}"
    app = _app(committed_db, JOBS_RUNNER="rq", REDIS_URL=REDIS_URL, JOBS_QUEUE=queue_name)
    with app.app_context():
        queue = jobs.rq_queue(app)
        try:
            job_id = export.start_export(dt.date(2026, 10, 1), SYSTEM, locale="en").id
            db.session.commit()
            env = {
                **os.environ,
                "DATABASE_URL": committed_db,
                "REDIS_URL": REDIS_URL,
                "JOBS_QUEUE": queue_name,
                "PORTAL_INSTANCE_PATH": str(tmp_path),
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                "SECRET_KEY": "t",
            }
            result = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "portal", "jobs", "worker", "--burst"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            db.session.expire_all()
            done = db.session.get(jobs.Job, job_id)
            assert done.state == jobs.JobState.DONE, (done.error, result.stderr[-2000:])
            record = db.session.get(export.SettlementExport, done.result["export_id"])
            assert (tmp_path / "uploads" / "exports" / record.stored_name).is_file()
        finally:
            queue.delete(delete_jobs=True)
            db.session.remove()
            db.engine.dispose()
