"""What waits for the signed-in person, for the home page: one list of items per role.

Each item is a count (or a state) and a link to the filtered list behind it; a count is a
single aggregate query, never a list of objects loaded to be counted, so the home page stays
fast at network size (3,000 stations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.core.dates import local_today
from portal.core.db import now_utc
from portal.core.permissions import Permission, can
from portal.extensions import db


@dataclass
class Item:
    """One line of the home page: a label, a count or a state, where to go."""

    key: str
    label: str
    url: str
    count: int | None = None
    state: str = ""
    hint: str = ""
    urgent: bool = False


def items_for(user) -> list[Item]:
    """What waits for this person, most pressing first."""
    items: list[Item] = []
    if can(user, Permission.VIEW_ALL_STATIONS):
        if can(user, Permission.REVIEW_APPLICATIONS):
            items += _hq_items()
        if can(user, Permission.VIEW_DEPOSITS) and not can(user, Permission.REVIEW_APPLICATIONS):
            items += _finance_items()
    elif user.station_id:
        items += _station_items(user)
    else:
        items += _candidate_items(user)
    return items


# --- station ----------------------------------------------------------------------------------


def _station_items(user) -> list[Item]:
    from portal.reports import services as reports
    from portal.reports.models import DailyReport
    from portal.reports.states import DayStatus, ReportStatus
    from portal.stations.models import Station

    station = db.session.get(Station, user.station_id)
    today = local_today()
    items = []
    for key, day, label in (
        ("today", today, _("Today's report")),
        ("yesterday", today - dt.timedelta(days=1), _("Yesterday's report")),
    ):
        report = db.session.execute(
            select(DailyReport).where(
                DailyReport.station_id == station.id, DailyReport.report_on == day
            )
        ).scalar_one_or_none()
        due = reports.due_for(day)
        if report is None:
            state = _("not started")
            url = url_for("reports.index")
        else:
            state = str(report.status.label)
            url = url_for("reports.detail", report_id=report.id)
        done = report is not None and report.status == ReportStatus.SUBMITTED
        items.append(
            Item(
                key=key,
                label=f"{label} ({day.isoformat()})",
                url=url,
                state=state,
                hint="" if done else _("due %(when)s", when=_when(due)),
                urgent=not done and due <= now_utc() + dt.timedelta(hours=12),
            )
        )
    month = today.replace(day=1)
    days = reports.month_calendar(station.id, month, station=station)
    missing = sum(1 for d in days if d.status == DayStatus.MISSING)
    items.append(
        Item(
            key="missing",
            label=_("Days missing this month"),
            url=url_for("reports.month_calendar", month=month.strftime("%Y-%m")),
            count=missing,
            urgent=missing > 0,
        )
    )
    warned = reports.recent_warning_records(station.id)
    items.append(
        Item(
            key="warnings",
            label=_("Records with warnings (last 31 days)"),
            url=url_for("reports.warnings"),
            count=len(warned),
            urgent=bool(warned),
        )
    )
    return items


def _when(moment: dt.datetime) -> str:
    from portal.core.i18n import local_datetime

    return local_datetime(moment)


# --- HQ -----------------------------------------------------------------------------------


def _hq_items() -> list[Item]:
    from portal.certification.models import Application
    from portal.certification.services import non_compliant_count
    from portal.certification.states import ApplicationStatus as A
    from portal.reports import services as reports

    counts = dict(
        db.session.execute(
            select(Application.status, func.count())
            .where(Application.status.in_([A.SUBMITTED, A.SCREENING, A.EVALUATED]))
            .group_by(Application.status)
        ).all()
    )
    items = [
        Item(
            key=f"applications-{status.value}",
            label=_("Applications waiting for HQ: %(state)s", state=status.label),
            url=url_for("certification.queue", status=status.value),
            count=counts.get(status, 0),
            urgent=counts.get(status, 0) > 0,
        )
        for status in (A.SUBMITTED, A.SCREENING, A.EVALUATED)
    ]
    noncompliant = non_compliant_count()
    items.append(
        Item(
            key="noncompliant",
            label=_("Non-compliant stations"),
            url=url_for("certification.noncompliant"),
            count=noncompliant,
            urgent=noncompliant > 0,
        )
    )
    day = reports.last_due_day()
    missing = reports.missing_count(day)
    items.append(
        Item(
            key="not-reported",
            label=_("Stations without a report for %(day)s", day=day.isoformat()),
            url=url_for("reports.coverage", day=day.isoformat()),
            count=missing,
            urgent=missing > 0,
        )
    )
    items.append(_expiring_item())
    return items


def _expiring_item() -> Item:
    from portal.certification.models import Certificate
    from portal.certification.services import today

    on = today()
    count = db.session.execute(
        select(func.count())
        .select_from(Certificate)
        .where(
            Certificate.revoked_on.is_(None),
            Certificate.expires_on >= on,
            Certificate.expires_on <= on + dt.timedelta(days=30),
        )
    ).scalar_one()
    return Item(
        key="expiring",
        label=_("Certificates expiring within 30 days"),
        url=url_for("certification.expiring", days=30),
        count=count,
    )


# --- finance ------------------------------------------------------------------------------


def _finance_items() -> list[Item]:
    from portal.certification.models import Application
    from portal.certification.services import non_compliant_count
    from portal.certification.states import ApplicationStatus as A

    approved = db.session.execute(
        select(func.count()).select_from(Application).where(Application.status == A.APPROVED)
    ).scalar_one()
    short = non_compliant_count(gap="deposit")
    return [
        Item(
            key="approved",
            label=_("Approved applications waiting for the deposit and authorization"),
            url=url_for("certification.queue", status=A.APPROVED.value),
            count=approved,
            urgent=approved > 0,
        ),
        Item(
            key="deposit-short",
            label=_("Active stations whose deposit is short of their tier"),
            url=url_for("certification.noncompliant", gap="deposit"),
            count=short,
            urgent=short > 0,
        ),
    ]


# --- candidate ----------------------------------------------------------------------------


NEXT_STEPS = {
    "draft": _l("Fill in the six steps and submit the application to HQ."),
    "returned": _l(
        "HQ returned the application: read its comment, change what it asks and submit again."
    ),
    "submitted": _l("HQ will start screening your application; nothing to do for now."),
    "screening": _l("HQ is screening your application (documents and a site visit)."),
    "evaluated": _l("HQ is deciding on your application."),
    "approved": _l("Approved: pay the deposit; HQ then authorizes your station."),
    "rejected": _l("HQ rejected the application; its reason is on the application page."),
    "authorized": _l("Your station is authorized: sign in again to see its pages."),
}


def _candidate_items(user) -> list[Item]:
    from portal.certification import services as cert

    application = cert.application_of(user)
    if application is None:
        return []
    status = application.status.value
    item = Item(
        key="application",
        label=_(
            "My application %(number)s: %(company)s",
            number=application.number,
            company=application.company_name or "",
        ),
        url=url_for("certification.application", application_id=application.id),
        state=str(application.status.label),
        hint=str(NEXT_STEPS[status]),
        urgent=status in ("draft", "returned", "approved"),
    )
    items = [item]
    if status == "approved":
        due = cert.deposit_due(application)
        if due is not None:
            from portal.core.i18n import money

            items.append(
                Item(
                    key="deposit",
                    label=_("Deposit to pay"),
                    url=url_for("certification.application", application_id=application.id),
                    state=money(due),
                    hint=_("Finance records it when it arrives."),
                    urgent=True,
                )
            )
    return items
