"""Test-suite guard: a transaction that changes audited data must write an audit entry.

SPEC 10 and STYLE habit 7: every state change and money entry is audited inside the service
that makes it. This guard watches every committed transaction during the tests (views, the
command line, jobs): when it flushed changes to any table outside `UNAUDITED_TABLES` and added no
`AuditEntry`, the test that caused it fails. It works like GOV.UK Notify's history decorator,
from the other side: not writing the history row, but refusing its absence.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

# Tables whose rows are bookkeeping of the portal itself, not the domain's history.
UNAUDITED_TABLES = frozenset(
    {
        "audit_entries",
        "user_sessions",  # a sign-in's own row; sign-ins are security-logged
        "station_code_sequences",  # the counter behind a station code (the station is audited)
        "station_compliance",  # the latest check's result; a change of result is audited
        "used_form_tokens",  # a spent one-time form token (the action it guarded is audited)
        "idempotency_keys",  # an API call's stored answer (the call's changes are audited)
        "jobs",  # a job's progress and state (queueing and restarting one are audited)
        "alembic_version",
    }
)

# Columns that are bookkeeping on otherwise audited rows (when a token or user was last seen).
UNAUDITED_COLUMNS = {
    "api_tokens": {"last_used_at"},
    "users": {"last_login_at", "last_seen_at"},
}

_KEY = "audit_guard"
FACTORY = "audit_guard.factory"
violations: list[str] = []


def _state(session: Session) -> dict:
    return session.info.setdefault(_KEY, {"changed": set(), "audited": False})


def _table(obj) -> str:
    return getattr(obj, "__tablename__", type(obj).__name__)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context):
    if session.info.get(FACTORY):
        return  # test data made by tests/factories.py, not by the portal
    state = _state(session)
    for obj in session.new:
        if _table(obj) == "audit_entries":
            state["audited"] = True
    for obj in list(session.new) + list(session.deleted):
        if _table(obj) not in UNAUDITED_TABLES:
            state["changed"].add(_table(obj))
    for obj in session.dirty:
        table = _table(obj)
        if table in UNAUDITED_TABLES:
            continue
        changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
        if changed - UNAUDITED_COLUMNS.get(table, set()):
            state["changed"].add(table)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    # A savepoint's release (begin_nested) fires this event too; only the outermost commit
    # commits (a one-time token spent in a savepoint, then a refusal, rolls everything back).
    if session.get_nested_transaction() is not None:
        return
    _state(session)["committed"] = True


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    # Judge the whole transaction when its outermost level ends (savepoints are part of it).
    if transaction.parent is not None:
        return
    state = session.info.pop(_KEY, None)
    if state and state.get("committed") and state["changed"] and not state["audited"]:
        violations.append(", ".join(sorted(state["changed"])))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, _previous_transaction):
    session.info.pop(_KEY, None)
