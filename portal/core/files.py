"""Stored files that follow their rows: written after the commit, checked against the rows.

A service that keeps an uploaded file calls `stage(folder, name, data)` before it adds the row
that names the file. The bytes go to a temporary `<name>.part` at once; when the request's
transaction commits they are moved into place, and when it rolls back (or the session closes
without a commit) the temporary file is removed. So a refused or failed request leaves no file
behind, and a committed row never names a file that was not completely written.

Each module that keeps files registers a store (`register_store`), and
`flask --app portal files check` lists, store by store, the files with no row and the rows
with no file (exit status 1 when it finds any).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import click
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING_KEY = "portal.files.pending"
PART_SUFFIX = ".part"
# A temporary file this young may belong to a request still running: not an orphan yet.
PART_GRACE = dt.timedelta(hours=1)


def stage(session: Session, folder: str, name: str, data: bytes) -> str:
    """Write data as `<folder>/<name>.part`; it becomes `<folder>/<name>` when session commits.

    Returns the final path. The name must be new (a generated one): an existing file or a
    pending one of the same name is an error.
    """
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, name)
    temp = final + PART_SUFFIX
    if os.path.exists(final):
        raise FileExistsError(final)
    with open(temp, "xb") as handle:
        handle.write(data)
    session.info.setdefault(PENDING_KEY, []).append((temp, final))
    return final


def stage_written(session: Session, temp: str, final: str) -> str:
    """Hand over a file the caller has written itself to `temp` (a stream too large to hold as
    bytes): it becomes `final` when the session commits and is removed if it rolls back."""
    if not temp.endswith(PART_SUFFIX) or os.path.exists(final):
        raise FileExistsError(final)
    session.info.setdefault(PENDING_KEY, []).append((temp, final))
    return final


def pending(session: Session) -> list[tuple[str, str]]:
    """The (temporary, final) paths waiting for this session's commit."""
    return list(session.info.get(PENDING_KEY, []))


@event.listens_for(Session, "after_commit")
def _move_into_place(session: Session) -> None:
    # A savepoint's commit (begin_nested) also fires this event: files wait for the outermost
    # commit, since the transaction that names them may still roll back.
    if session.get_nested_transaction() is not None:
        return
    for temp, final in session.info.pop(PENDING_KEY, []):
        if os.path.exists(temp):
            os.replace(temp, final)


@event.listens_for(Session, "after_transaction_end")
def _discard(session: Session, transaction) -> None:
    # The outermost transaction ended without the commit above taking the files: a rollback,
    # or a session closed without committing.
    if transaction.parent is not None or transaction.nested:
        return
    for temp, _final in session.info.pop(PENDING_KEY, []):
        if os.path.exists(temp):
            os.remove(temp)


# --- checking the files against their rows -------------------------------------------------


@dataclass
class FileStore:
    """Where a module keeps files, and the names its rows point to."""

    name: str
    folder: Callable[[], str]
    stored_names: Callable[[], Iterable[str]]


@dataclass
class StoreReport:
    name: str
    folder: str
    files_without_row: list[str] = field(default_factory=list)
    rows_without_file: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.files_without_row and not self.rows_without_file


STORES: dict[str, FileStore] = {}


def register_store(name: str, folder: Callable[[], str], stored_names) -> None:
    """Register a module's file store for `files check` (idempotent by name)."""
    STORES[name] = FileStore(name, folder, stored_names)


def check_store(store: FileStore, now: float | None = None) -> StoreReport:
    """Compare a store's folder with its rows."""
    now = time.time() if now is None else now
    folder = store.folder()
    report = StoreReport(store.name, folder)
    named = set(store.stored_names())
    present = set()
    if os.path.isdir(folder):
        for entry in os.scandir(folder):
            if not entry.is_file():
                continue
            if entry.name.endswith(PART_SUFFIX):
                if now - entry.stat().st_mtime < PART_GRACE.total_seconds():
                    continue
            elif entry.name in named:
                present.add(entry.name)
                continue
            report.files_without_row.append(entry.name)
    report.rows_without_file = sorted(named - present)
    report.files_without_row.sort()
    return report


def check_all() -> list[StoreReport]:
    """One report per registered store, by name."""
    return [check_store(STORES[name]) for name in sorted(STORES)]


files_cli = AppGroup("files", help="Stored files (attachments, photos).")


@files_cli.command("check")
def check_command():
    """List files with no row and rows with no file; exit status 1 if there are any."""
    problems = 0
    for report in check_all():
        click.echo(f"{report.name}: {report.folder}")
        for name in report.files_without_row:
            click.echo(f"  file with no row: {name}")
        for name in report.rows_without_file:
            click.echo(f"  row with no file: {name}")
        if report.clean:
            click.echo("  ok")
        problems += len(report.files_without_row) + len(report.rows_without_file)
    if problems:
        raise click.exceptions.Exit(1)
