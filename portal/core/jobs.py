"""Background jobs: work that takes minutes (a month's run, a network export) with progress.

A job is a row of `jobs` (kind, params, state, done/total, message, result, error, who, when).
`enqueue(kind, params, actor)` adds it; once the transaction commits it is started by the
configured runner (`JOBS_RUNNER`):

- `thread` (the default without REDIS_URL): a worker thread of the portal process runs it;
- `rq` (the default with REDIS_URL): it is queued on RQ and `flask --app portal jobs worker`
  runs it, on any machine that reaches the same database and Redis (several workers share the
  queue);
- `manual`: nothing starts it by itself; `run_queued()` runs what waits (tests, scripts).

A running job writes a heartbeat every JOB_HEARTBEAT_SECONDS from a thread of its own, and its
progress with it, on a connection of its own (the job's work commits in its own transactions).
A job whose heartbeat is older than JOB_STALE_SECONDS died with its process: it is shown as
failed and can be restarted. A job kind writes whole units in its own transactions (one batch of
stations, one file moved into place at the end), so a failed job leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core import audit
from portal.core.actors import SYSTEM, actor_name, require_actor
from portal.core.db import UTCDateTime, enum_type, now_utc
from portal.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from portal.core.permissions import Permission, can, sees_all_stations
from portal.core.workflow import LabelledEnum
from portal.extensions import db

log = logging.getLogger(__name__)


class JobState(LabelledEnum):
    QUEUED = "queued", _l("Waiting to start")
    RUNNING = "running", _l("Running")
    DONE = "done", _l("Finished")
    FAILED = "failed", _l("Failed")


FINISHED = frozenset({JobState.DONE, JobState.FAILED})
STOPPED_ANSWERING = "stopped_answering"


class Job(db.Model):
    """One background job and how far it got."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_heartbeat_at", "state", "heartbeat_at"),
        Index("ix_jobs_created_by_id_id", "created_by_id", "id"),
        Index("ix_jobs_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, 20), default=JobState.QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(300), default="")
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="SET NULL"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=now_utc)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"

    @property
    def kind_label(self):
        found = KINDS.get(self.kind)
        return found.label if found else self.kind

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        """Running, but its heartbeat stopped: its process died. With the thread runner, a job
        still waiting that long was lost with the process that queued it."""
        if self.state == JobState.RUNNING:
            beat = self.heartbeat_at or self.started_at or self.created_at
        elif self.state == JobState.QUEUED and runner_name() == "thread":
            beat = self.heartbeat_at or self.created_at  # (re)queued at
        else:
            return False
        return (now or now_utc()) - beat > stale_after()

    def shown_state(self, now: dt.datetime | None = None) -> JobState:
        """The state a person is shown: a running job that stopped answering is failed."""
        return JobState.FAILED if self.is_stale(now) else self.state

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return 0
        return max(0, min(100, int(self.done * 100 / self.total)))

    def error_text(self, now: dt.datetime | None = None) -> str:
        """Why it failed, for a person."""
        if self.is_stale(now) or self.error == STOPPED_ANSWERING:
            return str(_l("The job stopped answering (its process ended). Restart it."))
        return self.error


# --- kinds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """What a kind of job does: `run(ctx)` returns the job's result (JSON-safe dict)."""

    name: str
    label: Any
    run: Callable[[JobContext], dict | None]
    permission: Permission
    # The page a finished job links to (its result), from the job.
    result_url: Callable[[Job], str | None] | None = None


KINDS: dict[str, JobKind] = {}


def register(name: str, label, permission: Permission, *, result_url=None):
    """Decorator: make a function the runner of a job kind."""

    def decorator(func):
        KINDS[name] = JobKind(name, label, func, permission, result_url)
        return func

    return decorator


def kind_of(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise DomainError(_l("Unknown kind of job.")) from None


# --- settings ----------------------------------------------------------------------------------


def _setting(name: str, default):
    if has_app_context():
        return current_app.config.get(name, default)
    return default


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(_setting("JOB_STALE_SECONDS", 120)))


def heartbeat_every() -> float:
    return float(_setting("JOB_HEARTBEAT_SECONDS", 5))


def runner_name() -> str:
    return _setting("JOBS_RUNNER", "thread")


# --- progress ----------------------------------------------------------------------------------


class JobContext:
    """What a running job sees: its params, who started it, and where progress goes."""

    def __init__(self, job: Job, actor, sink: _Sink):
        self.job_id = job.id
        self.params = dict(job.params or {})
        self.actor = actor
        self.station_id = job.station_id
        self._sink = sink
        self.listeners: list[Callable[[int, int, str], None]] = []

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Report how far the job got (done of total units, optionally a short message)."""
        self._sink.set(int(done), None if total is None else int(total), message)
        for listener in self.listeners:
            listener(*self._sink.values())


class _Sink:
    """Progress values; subclasses decide when and how they reach the database."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.lock = threading.Lock()
        self.done, self.total, self.message = 0, 0, ""

    def set(self, done, total, message):
        with self.lock:
            self.done = done
            if total is not None:
                self.total = total
            if message is not None:
                self.message = str(message)[:300]

    def values(self) -> tuple[int, int, str]:
        with self.lock:
            return self.done, self.total, self.message

    def start(self):
        pass

    def stop(self):
        pass


class _SessionSink(_Sink):
    """Writes each report through the job's own session (manual runner: one connection)."""

    def set(self, done, total, message):
        super().set(done, total, message)
        done, total, message = self.values()
        db.session.execute(
            update(Job)
            .where(Job.id == self.job_id)
            .values(done=done, total=total, message=message, heartbeat_at=now_utc())
        )


class _HeartbeatSink(_Sink):
    """A thread writes heartbeat and progress on a connection of its own, every few seconds.

    The job's own transactions never wait for it, and it never sees their uncommitted rows.
    """

    def __init__(self, job_id: int, app, attempt: int):
        super().__init__(job_id)
        self.app = app
        self.attempt = attempt
        self.stopping = threading.Event()
        self.changed = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"job-{job_id}-heartbeat")
        self.thread.daemon = True

    def set(self, done, total, message):
        super().set(done, total, message)
        self.changed.set()

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.changed.set()
        self.thread.join(timeout=60)

    def _loop(self):
        every = heartbeat_every_for(self.app)
        # Progress goes out at most once a second; the heartbeat at least every `every` s.
        while not self.stopping.is_set():
            self.changed.wait(timeout=every)
            if self.stopping.is_set():
                break
            self.changed.clear()
            self.write()
            self.stopping.wait(timeout=min(1.0, every))

    def write(self):
        done, total, message = self.values()
        try:
            with self.app.app_context(), db.engine.begin() as connection:
                connection.execute(
                    update(Job)
                    .where(
                        Job.id == self.job_id,
                        Job.state == JobState.RUNNING,
                        Job.attempts == self.attempt,
                    )
                    .values(done=done, total=total, message=message, heartbeat_at=now_utc())
                )
        except Exception:  # a missed beat is retried at the next one
            log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)


def heartbeat_every_for(app) -> float:
    return float(app.config.get("JOB_HEARTBEAT_SECONDS", 5))


# --- enqueue, restart --------------------------------------------------------------------------


def visible_to(user, job: Job) -> bool:
    """Whoever started a job sees it; HQ-side users with its kind's permission see all."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if job.created_by_id is not None and job.created_by_id == getattr(user, "id", None):
        return True
    found = KINDS.get(job.kind)
    if found is None:
        return sees_all_stations(user)
    if sees_all_stations(user):
        return can(user, found.permission)
    return job.station_id is not None and job.station_id == getattr(user, "station_id", None)


def get_visible(job_id: int, user) -> Job:
    """The job, or NotFound when absent or not the user's to see."""
    job = db.session.get(Job, job_id)
    if job is None or not visible_to(user, job):
        raise NotFound(_l("No such job."))
    return job


JOB_FIELDS = ("kind", "params", "state", "station_id", "attempts")


def enqueue(
    kind: str, params: dict, actor, *, station_id: int | None = None, here: bool = False
) -> Job:
    """Add a job; it starts once the caller's transaction commits.

    With here=True the caller runs it itself (`wait_for`, the command line) unless RQ runs jobs.
    """
    require_actor(actor)
    found = kind_of(kind)
    if not can(actor, found.permission):
        raise PermissionDenied(_l("You may not start this job."))
    job = Job(
        kind=kind,
        params=dict(params),
        state=JobState.QUEUED,
        station_id=station_id,
        created_by_id=getattr(actor, "id", None),
        created_by_name=actor_name(actor),
        created_at=now_utc(),
    )
    db.session.add(job)
    db.session.flush()
    audit.record(
        "job.queued",
        job,
        actor=actor,
        station_id=station_id,
        label=str(found.label),
        after=audit.snapshot(job, JOB_FIELDS),
    )
    if not (here and runner_name() != "rq"):
        start_after_commit(job.id)
    return job


def restart(job: Job, actor, *, here: bool = False) -> Job:
    """Queue a failed job (or one that stopped answering) again, from the beginning."""
    require_actor(actor)
    found = kind_of(job.kind)
    if not (can(actor, found.permission) and visible_to(actor, job)):
        raise PermissionDenied(_l("You may not restart this job."))
    if job.shown_state() != JobState.FAILED:
        raise InvalidTransition(_l("Only a failed job can be restarted."))
    before = audit.snapshot(job, JOB_FIELDS)
    # The condition makes a restart race-free: of two restarts, one changes the row.
    result = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.attempts == job.attempts, Job.state == job.state)
        .values(
            state=JobState.QUEUED,
            done=0,
            total=0,
            message="",
            error="",
            result=None,
            started_at=None,
            finished_at=None,
            heartbeat_at=now_utc(),  # while queued: when it was queued again
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(_l("The job changed meanwhile. Reload the page."))
    db.session.refresh(job)
    audit.record(
        "job.restarted",
        job,
        actor=actor,
        station_id=job.station_id,
        label=str(found.label),
        before=before,
        after=audit.snapshot(job, JOB_FIELDS),
    )
    if not (here and runner_name() != "rq"):
        start_after_commit(job.id)
    return job


# --- starting after commit ---------------------------------------------------------------------

_PENDING = "jobs.to_start"


def start_after_commit(job_id: int) -> None:
    """Hand the job to the runner when the current transaction commits (not before: the
    worker must see its row)."""
    if runner_name() == "manual":
        return
    app = current_app._get_current_object()
    db.session().info.setdefault(_PENDING, []).append((app, job_id))


@event.listens_for(Session, "after_commit")
def _start_pending(session):
    pending = session.info.pop(_PENDING, None)
    for app, job_id in pending or ():
        try:
            dispatch(app, job_id)
        except Exception:  # the job stays queued; restart or a worker picks it up
            log.exception("job %s could not be handed to its runner", job_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session, previous_transaction):
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor(app) -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(
                max_workers=int(app.config.get("JOBS_THREADS", 2)), thread_name_prefix="job"
            )
        return _EXECUTOR


def dispatch(app, job_id: int) -> None:
    """Give a committed, queued job to the configured runner."""
    name = app.config.get("JOBS_RUNNER", "thread")
    if name == "thread":
        _executor(app).submit(_run_in_app, app, job_id)
    elif name == "rq":
        rq_queue(app).enqueue(
            "portal.core.jobs.rq_run",
            job_id,
            job_timeout=int(app.config.get("JOB_TIMEOUT_SECONDS", 4 * 3600)),
            description=f"portal job {job_id}",
        )
    elif name != "manual":
        raise RuntimeError(f"unknown JOBS_RUNNER {name!r}")


def _run_in_app(app, job_id: int) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        finally:
            db.session.remove()


# --- RQ ----------------------------------------------------------------------------------------


def rq_queue(app):
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(app.config["REDIS_URL"])
    return Queue(app.config.get("JOBS_QUEUE", "portal"), connection=connection)


def rq_run(job_id: int) -> None:
    """What an RQ worker runs: the portal job, in the worker's app (or a new one)."""
    if has_app_context():
        # A forked work horse must not share its parent's database connections.
        db.engine.dispose(close=False)
        try:
            run_job(job_id)
        finally:
            db.session.remove()
        return
    from portal import create_app

    _run_in_app(create_app(), job_id)


def work(app, *, burst: bool = False) -> bool:
    """Run an RQ worker on the portal's queue (until stopped, or until empty with burst)."""
    from rq import Worker

    queue = rq_queue(app)
    fail_stale()
    db.session.commit()
    worker = Worker([queue], connection=queue.connection)
    return worker.work(burst=burst, with_scheduler=False)


# --- running -----------------------------------------------------------------------------------


def _actor_of(job: Job):
    if job.created_by_id is None:
        return SYSTEM
    from portal.auth.models import User

    user = db.session.get(User, job.created_by_id)
    if user is None or not user.is_active:
        raise PermissionDenied(_l("The person who started this job may no longer act."))
    return user


def _claim(job_id: int) -> int | None:
    """Mark a queued job running (one runner wins); its attempt number, or None."""
    job = db.session.get(Job, job_id)
    if job is None or job.state != JobState.QUEUED:
        db.session.rollback()
        return None
    attempt = job.attempts + 1
    now = now_utc()
    result = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED, Job.attempts == job.attempts)
        .values(state=JobState.RUNNING, attempts=attempt, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return attempt


def _mark(job_id: int, attempt: int, **values) -> None:
    """Set the end of this attempt of the job (unless it was declared dead and restarted)."""
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempts == attempt, Job.state == JobState.RUNNING)
        .values(finished_at=now_utc(), heartbeat_at=now_utc(), **values)
        .execution_options(synchronize_session=False)
    )


def _finish(job_id: int, attempt: int, **values) -> None:
    _mark(job_id, attempt, **values)
    db.session.commit()


def run_job(job_id: int, *, listener: Callable[[int, int, str], None] | None = None) -> Job | None:
    """Run one queued job to its end in this thread; the job afterwards (None if not claimed)."""
    attempt = _claim(job_id)
    if attempt is None:
        return None
    job = db.session.get(Job, job_id)
    manual = runner_name() == "manual"
    sink = (
        _SessionSink(job_id)
        if manual
        else _HeartbeatSink(job_id, current_app._get_current_object(), attempt)
    )
    sink.start()
    try:
        actor = _actor_of(job)
        ctx = JobContext(job, actor, sink)
        if listener is not None:
            ctx.listeners.append(listener)
        found = kind_of(job.kind)
        # End the reading transaction: on SQLite it would hold the write lock the heartbeat needs.
        db.session.commit()
        result = found.run(ctx)
        # The job's last writes and its "done" commit together: whoever sees the result (an
        # export's row) sees the job finished.
        sink.stop()
        done, total, message = sink.values()
        _mark(
            job_id,
            attempt,
            state=JobState.DONE,
            result=result or {},
            done=max(done, total),
            total=total,
            message=message,
        )
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        sink.stop()
        if isinstance(error, DomainError):
            text = str(error.message)
        else:
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            text = str(
                _l("The job failed with an internal error (%(name)s).", name=type(error).__name__)
            )
        done, total, message = sink.values()
        _finish(
            job_id,
            attempt,
            state=JobState.FAILED,
            error=text,
            done=done,
            total=total,
            message=message,
        )
    db.session.expire_all()
    return db.session.get(Job, job_id)


def run_queued(limit: int | None = None) -> int:
    """Run queued jobs here, oldest first (the manual runner); how many ran."""
    count = 0
    while limit is None or count < limit:
        job_id = db.session.execute(
            select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.id).limit(1)
        ).scalar()
        if job_id is None:
            break
        run_job(job_id)
        count += 1
    return count


def fail_stale(now: dt.datetime | None = None) -> int:
    """Mark running jobs whose heartbeat stopped as failed; how many (caller commits)."""
    cutoff = (now or now_utc()) - stale_after()
    result = db.session.execute(
        update(Job)
        .where(Job.state == JobState.RUNNING, Job.heartbeat_at < cutoff)
        .values(state=JobState.FAILED, error=STOPPED_ANSWERING, finished_at=now or now_utc())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def progress_of(job: Job, user) -> dict:
    """The JSON the progress bar polls."""
    from flask import url_for

    now = now_utc()
    state = job.shown_state(now)
    found = KINDS.get(job.kind)
    result_url = None
    if state == JobState.DONE and found is not None and found.result_url is not None:
        result_url = found.result_url(job)
    restartable = state == JobState.FAILED and found is not None and can(user, found.permission)
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": str(job.kind_label),
        "state": state.value,
        "state_label": str(state.label),
        "done": job.done,
        "total": job.total,
        "percent": 100 if state == JobState.DONE else job.percent,
        "message": job.message,
        "error": job.error_text(now) if state == JobState.FAILED else "",
        "finished": state in FINISHED,
        "result": job.result or {},
        "result_url": result_url,
        "restart_url": url_for("jobs.restart", job_id=job.id) if restartable else None,
    }


def wait_for(job_id: int, *, echo: Callable[[str], None], poll: float = 1.0) -> Job:
    """Follow a job until it ends, echoing its progress (the command line).

    With the thread or manual runner the job runs right here, in this process; with RQ a worker
    runs it and this polls the database.
    """
    import time

    last = None

    def show(done, total, message):
        nonlocal last
        line = f"{done}/{total} {message}".strip() if total else (message or f"{done}")
        if line != last:
            echo(line)
            last = line

    if runner_name() != "rq":
        job = run_job(job_id, listener=show)
        if job is None:
            job = db.session.get(Job, job_id)
        return job
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.rollback()
        show(job.done, job.total, job.message)
        if job.shown_state() in FINISHED:
            return job
        time.sleep(poll)
