"""Inspection verbs: checklists, planning, filling in, submitting, rectifications, reminders.

Every verb takes an explicit actor, checks permission, moves state through a transition
table, writes the audit entry and flushes. None commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.core import audit, versioning
from portal.core.dates import local_today
from portal.core.db import now_utc
from portal.core.errors import DomainError, NotFound, PermissionDenied
from portal.core.permissions import Permission, can
from portal.extensions import db
from portal.inspections import default_template, files, rules
from portal.inspections.models import (
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ChecklistVersion,
    Inspection,
    InspectionAnswer,
    InspectionFile,
    InspectionSetting,
    InspectionStockLine,
    Rectification,
    RectificationReminder,
    RectificationResponse,
    StationInspectionSummary,
)
from portal.inspections.states import (
    INSPECTION_FLOW,
    RECTIFICATION_FLOW,
    UNRESOLVED,
    AnswerResult,
    FilePurpose,
    Grade,
    InspectionKind,
    InspectionStatus,
    RectificationSource,
    RectificationStatus,
    VersionStatus,
)
from portal.settlement import adjustments
from portal.stations.models import Station

log = logging.getLogger(__name__)

SETTINGS_EPOCH = dt.date(2000, 1, 1)
MAX_NOTE = 4000


today = local_today  # the portal's one "today" (core.dates), under this module's old name


def system_actor():
    """The actor of command-line jobs."""
    from portal.core.actors import SYSTEM

    return SYSTEM


def _require(actor, permission: Permission, message, obj=None) -> None:
    if not can(actor, permission, obj):
        raise PermissionDenied(message)


class Problems(DomainError):
    """Several problems at once, each with its field (shown next to it)."""

    def __init__(self, message, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


# --- settings ------------------------------------------------------------------------------


def setting_for(day: dt.date) -> InspectionSetting:
    """The grade limits and deadlines in force on a day (the defaults before any change)."""
    found = versioning.in_force(InspectionSetting, day)
    return found or InspectionSetting(
        effective_on=SETTINGS_EPOCH,
        excellent=90,
        good=80,
        passing=60,
        due_days=15,
        due_days_critical=7,
        remind_days=3,
    )


def thresholds(day: dt.date) -> rules.Thresholds:
    s = setting_for(day)
    return rules.Thresholds(
        excellent=s.excellent,
        good=s.good,
        passing=s.passing,
        due_days=s.due_days,
        due_days_critical=s.due_days_critical,
        remind_days=s.remind_days,
    )


SETTING_FIELDS = ("excellent", "good", "passing", "due_days", "due_days_critical", "remind_days")


def settings_history() -> list[InspectionSetting]:
    return list(
        db.session.execute(
            select(InspectionSetting).order_by(InspectionSetting.effective_on.desc())
        ).scalars()
    )


def add_setting(actor, effective_on: dt.date, values: dict) -> InspectionSetting:
    """New grade limits and deadlines from a day that is today or later; history is kept."""
    _require(actor, Permission.MANAGE_CHECKLISTS, _l("You may not change inspection settings."))
    if effective_on is None or effective_on < today():
        raise DomainError(_l("The change takes effect today or later."), field="effective_on")
    clean = {}
    for name in SETTING_FIELDS:
        value = values.get(name)
        if value is None or not 0 <= int(value) <= 365:
            raise DomainError(_l("Enter a whole number from 0 to 365."), field=name)
        clean[name] = int(value)
    if not clean["excellent"] > clean["good"] > clean["passing"] or clean["excellent"] > 100:
        raise DomainError(
            _l("The limits must fall: excellent above good above passing, at most 100."),
            field="excellent",
        )
    row = db.session.execute(
        select(InspectionSetting).where(InspectionSetting.effective_on == effective_on)
    ).scalar_one_or_none()
    before = audit.snapshot(row, SETTING_FIELDS) if row else None
    if row is None:
        row = InspectionSetting(effective_on=effective_on)
        db.session.add(row)
    for name, value in clean.items():
        setattr(row, name, value)
    row.created_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(
        "inspection.settings_changed",
        row,
        actor=actor,
        label=f"inspection settings from {effective_on.isoformat()}",
        before=before,
        after=audit.snapshot(row, SETTING_FIELDS) | {"effective_on": effective_on},
    )
    return row


# --- checklist templates -------------------------------------------------------------------


def _require_checklists(actor) -> None:
    _require(actor, Permission.MANAGE_CHECKLISTS, _l("You may not edit checklists."))


def templates() -> list[ChecklistTemplate]:
    return list(
        db.session.execute(select(ChecklistTemplate).order_by(ChecklistTemplate.id)).scalars()
    )


def latest_published(template_id: int) -> ChecklistVersion | None:
    return db.session.execute(
        select(ChecklistVersion)
        .where(
            ChecklistVersion.template_id == template_id,
            ChecklistVersion.status == VersionStatus.PUBLISHED,
        )
        .order_by(ChecklistVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def published_versions() -> list[ChecklistVersion]:
    """The newest published version of every template (what a plan may choose)."""
    out = []
    for template in templates():
        version = latest_published(template.id)
        if version is not None:
            out.append(version)
    return out


def default_version() -> ChecklistVersion | None:
    template = db.session.execute(
        select(ChecklistTemplate).where(ChecklistTemplate.code == default_template.CODE)
    ).scalar_one_or_none()
    if template is not None:
        found = latest_published(template.id)
        if found is not None:
            return found
    versions = published_versions()
    return versions[0] if versions else None


def load_default_template(actor) -> ChecklistVersion:
    """The SPEC 4.1 checklist as a published version 1 (left alone when it exists)."""
    template = db.session.execute(
        select(ChecklistTemplate).where(ChecklistTemplate.code == default_template.CODE)
    ).scalar_one_or_none()
    if template is not None and template.versions:
        return latest_published(template.id) or template.versions[-1]
    if template is None:
        template = ChecklistTemplate(
            code=default_template.CODE,
            name_zh=default_template.NAME[0],
            name_en=default_template.NAME[1],
        )
        db.session.add(template)
        db.session.flush()
    version = ChecklistVersion(
        template_id=template.id, number=1, created_by_id=getattr(actor, "id", None)
    )
    db.session.add(version)
    db.session.flush()
    for s_pos, (title_zh, title_en, items) in enumerate(default_template.SECTIONS, start=1):
        section = ChecklistSection(
            version_id=version.id, position=s_pos, title_zh=title_zh, title_en=title_en
        )
        db.session.add(section)
        db.session.flush()
        for i_pos, (zh, en, max_score, critical, photo, stock) in enumerate(items, start=1):
            db.session.add(
                ChecklistItem(
                    version_id=version.id,
                    section_id=section.id,
                    position=i_pos,
                    text_zh=zh,
                    text_en=en,
                    max_score=max_score,
                    critical=critical,
                    photo_required=photo,
                    stock_count=stock,
                )
            )
    db.session.flush()
    _publish(actor, version)
    return version


def _publish(actor, version: ChecklistVersion) -> None:
    version.status = VersionStatus.PUBLISHED
    version.published_at = now_utc()
    version.published_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(
        "checklist.published",
        version,
        actor=actor,
        label=f"{version.template.code} v{version.number}",
        after={"items": len(version.items()), "number": version.number},
    )


def draft_of(template: ChecklistTemplate) -> ChecklistVersion | None:
    return db.session.execute(
        select(ChecklistVersion).where(
            ChecklistVersion.template_id == template.id,
            ChecklistVersion.status == VersionStatus.DRAFT,
        )
    ).scalar_one_or_none()


def new_draft(actor, template: ChecklistTemplate) -> ChecklistVersion:
    """A draft copy of the newest version to edit (the one open draft, if there is one)."""
    _require_checklists(actor)
    existing = draft_of(template)
    if existing is not None:
        return existing
    source = template.versions[-1] if template.versions else None
    number = (source.number if source else 0) + 1
    draft = ChecklistVersion(
        template_id=template.id, number=number, created_by_id=getattr(actor, "id", None)
    )
    db.session.add(draft)
    db.session.flush()
    for section in source.sections if source else []:
        copy = ChecklistSection(
            version_id=draft.id,
            position=section.position,
            title_zh=section.title_zh,
            title_en=section.title_en,
        )
        db.session.add(copy)
        db.session.flush()
        for item in section.items:
            db.session.add(
                ChecklistItem(
                    version_id=draft.id,
                    section_id=copy.id,
                    position=item.position,
                    text_zh=item.text_zh,
                    text_en=item.text_en,
                    max_score=item.max_score,
                    critical=item.critical,
                    photo_required=item.photo_required,
                    stock_count=item.stock_count,
                )
            )
    db.session.flush()
    db.session.refresh(draft)
    audit.record(
        "checklist.draft_created",
        draft,
        actor=actor,
        label=f"{template.code} v{number}",
        after={"number": number, "copied_from": source.number if source else None},
    )
    return draft


def _editable(version: ChecklistVersion) -> None:
    if version.status is not VersionStatus.DRAFT:
        raise DomainError(
            _l("A published checklist version never changes. Make a new draft to edit it.")
        )


def _text(value, field: str, required: bool = True, limit: int = 2000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_l("This field is required."), field=field)
    if len(text) > limit:
        raise DomainError(_l("This text is too long."), field=field)
    return text


SECTION_FIELDS = ("title_zh", "title_en", "position")
ITEM_FIELDS = (
    "section_id",
    "text_zh",
    "text_en",
    "max_score",
    "critical",
    "photo_required",
    "stock_count",
    "position",
)


def save_section(actor, version: ChecklistVersion, values: dict, section=None):
    """Add or change a section of a draft version."""
    _require_checklists(actor)
    _editable(version)
    if section is not None and section.version_id != version.id:
        raise NotFound(_l("No such section in this version."))
    before = audit.snapshot(section, SECTION_FIELDS) if section else None
    if section is None:
        section = ChecklistSection(version_id=version.id)
        db.session.add(section)
    section.title_zh = _text(values.get("title_zh"), "title_zh", limit=200)
    section.title_en = _text(values.get("title_en"), "title_en", required=False, limit=200)
    section.position = int(values.get("position") or 0)
    db.session.flush()
    audit.record(
        "checklist.section_saved",
        version,
        actor=actor,
        label=f"{version.template.code} v{version.number}",
        before=before,
        after=audit.snapshot(section, SECTION_FIELDS),
    )
    return section


def save_item(actor, version: ChecklistVersion, values: dict, item=None) -> ChecklistItem:
    """Add or change an item of a draft version."""
    _require_checklists(actor)
    _editable(version)
    if item is not None and item.version_id != version.id:
        raise NotFound(_l("No such item in this version."))
    section = db.session.get(ChecklistSection, values.get("section_id") or 0)
    if section is None or section.version_id != version.id:
        raise DomainError(_l("Choose a section of this version."), field="section_id")
    try:
        max_score = int(values.get("max_score"))
    except (TypeError, ValueError):
        raise DomainError(_l("Enter a whole number from 1 to 100."), field="max_score") from None
    if not 1 <= max_score <= 100:
        raise DomainError(_l("Enter a whole number from 1 to 100."), field="max_score")
    before = audit.snapshot(item, ITEM_FIELDS) if item else None
    if item is None:
        item = ChecklistItem(version_id=version.id)
        db.session.add(item)
    item.section_id = section.id
    item.text_zh = _text(values.get("text_zh"), "text_zh")
    item.text_en = _text(values.get("text_en"), "text_en", required=False)
    item.max_score = max_score
    item.critical = bool(values.get("critical"))
    item.photo_required = bool(values.get("photo_required"))
    item.stock_count = bool(values.get("stock_count"))
    item.position = int(values.get("position") or 0)
    db.session.flush()
    audit.record(
        "checklist.item_saved",
        version,
        actor=actor,
        label=f"{version.template.code} v{version.number}",
        before=before,
        after=audit.snapshot(item, ITEM_FIELDS),
    )
    return item


def delete_item(actor, version: ChecklistVersion, item: ChecklistItem) -> None:
    _require_checklists(actor)
    _editable(version)
    if item.version_id != version.id:
        raise NotFound(_l("No such item in this version."))
    before = audit.snapshot(item, ITEM_FIELDS)
    db.session.delete(item)
    db.session.flush()
    audit.record(
        "checklist.item_deleted",
        version,
        actor=actor,
        label=f"{version.template.code} v{version.number}",
        before=before,
    )


def delete_section(actor, version: ChecklistVersion, section: ChecklistSection) -> None:
    _require_checklists(actor)
    _editable(version)
    if section.version_id != version.id:
        raise NotFound(_l("No such section in this version."))
    if section.items:
        raise DomainError(_l("Move or delete the section's items first."))
    before = audit.snapshot(section, SECTION_FIELDS)
    db.session.delete(section)
    db.session.flush()
    audit.record(
        "checklist.section_deleted",
        version,
        actor=actor,
        label=f"{version.template.code} v{version.number}",
        before=before,
    )


def publish(actor, version: ChecklistVersion) -> ChecklistVersion:
    """Publish a draft: from now on it never changes and new inspections may use it."""
    _require_checklists(actor)
    _editable(version)
    if not version.items():
        raise DomainError(_l("A checklist needs at least one item."))
    _publish(actor, version)
    return version


# --- planning ------------------------------------------------------------------------------


def auditors() -> list:
    """Active users with the auditor role (whom an inspection can be given to)."""
    from portal.auth.models import User, UserRole
    from portal.core.permissions import Role

    return list(
        db.session.execute(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.AUDITOR, User.active.is_(True))
            .order_by(User.display_name, User.username)
        ).scalars()
    )


def plan_inspection(
    actor,
    *,
    planned_on: dt.date,
    auditor,
    version: ChecklistVersion,
    station: Station | None = None,
    application=None,
) -> Inspection:
    """Schedule an inspection of a station (or of a candidate's site) for an auditor."""
    _require(actor, Permission.PLAN_INSPECTIONS, _l("You may not plan inspections."))
    if (station is None) == (application is None):
        raise DomainError(_l("Choose the station to inspect."), field="station")
    if planned_on is None:
        raise DomainError(_l("Choose the day."), field="planned_on")
    if auditor is None or not can(auditor, Permission.CONDUCT_INSPECTIONS):
        raise DomainError(_l("Choose an auditor."), field="auditor_id")
    if version is None or version.status is not VersionStatus.PUBLISHED:
        raise DomainError(_l("Choose a published checklist."), field="version_id")
    if station is not None and station.status.value == "revoked":
        raise DomainError(_l("This station's authorization is revoked."), field="station")
    inspection = Inspection(
        kind=InspectionKind.STATION if station is not None else InspectionKind.SITE_VISIT,
        station_id=station.id if station is not None else None,
        application_id=application.id if application is not None else None,
        version_id=version.id,
        auditor_id=auditor.id,
        planned_by_id=getattr(actor, "id", None),
        planned_on=planned_on,
        status=InspectionStatus.PLANNED,
    )
    db.session.add(inspection)
    db.session.flush()
    for item in version.items():
        db.session.add(InspectionAnswer(inspection_id=inspection.id, item_id=item.id, rev=0))
    db.session.flush()
    audit.record(
        "inspection.planned",
        inspection,
        actor=actor,
        label=f"{inspection.number} {inspection.subject}",
        after={
            "kind": inspection.kind,
            "planned_on": planned_on,
            "auditor": auditor.username,
            "checklist": f"{version.template.code} v{version.number}",
        },
    )
    return inspection


def cancel_inspection(actor, inspection: Inspection, reason: str) -> Inspection:
    _require(actor, Permission.PLAN_INSPECTIONS, _l("You may not cancel inspections."))
    target = INSPECTION_FLOW.target(inspection.status, "cancel")
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason."), field="reason")
    before = {"status": inspection.status}
    inspection.status = target
    inspection.cancel_reason = reason.strip()
    db.session.flush()
    audit.record(
        "inspection.cancelled",
        inspection,
        actor=actor,
        label=f"{inspection.number} {inspection.subject}",
        before=before,
        after={"status": target},
        comment=inspection.cancel_reason,
    )
    return inspection


# --- filling in ----------------------------------------------------------------------------


def _require_filler(actor, inspection: Inspection) -> None:
    if not can(actor, Permission.CONDUCT_INSPECTIONS) or actor.id != inspection.auditor_id:
        raise PermissionDenied(_l("Only the inspection's auditor fills it in."))


class Locked(DomainError):
    """The inspection no longer takes answers (submitted or cancelled)."""


class Conflict(DomainError):
    """Another device saved this item since this one last saw it."""

    def __init__(self, message, current):
        super().__init__(message)
        self.current = current


def _check_fillable(inspection: Inspection) -> None:
    if not INSPECTION_FLOW.can(inspection.status, "fill"):
        raise Locked(
            _l(
                "The inspection is %(state)s; it takes no more answers.",
                state=inspection.status.label,
            )
        )


def _mark_started(actor, inspection: Inspection) -> None:
    """Planned -> being filled in, once, even when two devices save at the same moment."""
    if inspection.status is not InspectionStatus.PLANNED:
        return
    moved = db.session.execute(
        update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.status == InspectionStatus.PLANNED)
        .values(
            status=InspectionStatus.IN_PROGRESS,
            started_at=now_utc(),
            version=Inspection.version + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(inspection)
    if moved:
        audit.record(
            "inspection.started",
            inspection,
            actor=actor,
            label=f"{inspection.number} {inspection.subject}",
            before={"status": InspectionStatus.PLANNED},
            after={"status": InspectionStatus.IN_PROGRESS},
        )


def _parse_result(value) -> AnswerResult | None:
    if value in (None, ""):
        return None
    try:
        return AnswerResult(value)
    except ValueError:
        raise DomainError(_l("Choose pass, partial or fail."), field="result") from None


def _parse_score(value, max_score: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        score = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(_l("Enter a number."), field="score") from None
    if not score.is_finite() or score < 0 or score > max_score:
        raise DomainError(
            _l("Enter a score from 0 to %(max)s.", max=max_score),
            field="score",
        )
    return score.quantize(Decimal("0.01"))


def answer_state(answer: InspectionAnswer) -> dict:
    """What a device needs to know about one saved answer."""
    by = answer.updated_by
    return {
        "item_id": answer.item_id,
        "rev": answer.rev,
        "result": answer.result.value if answer.result else "",
        "score": "" if answer.score is None else format(answer.score.normalize(), "f"),
        "note": answer.note or "",
        "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
        "updated_by": (by.display_name or by.username) if by is not None else "",
    }


def save_answer(
    actor, inspection: Inspection, item_id: int, base_rev: int, values: dict
) -> InspectionAnswer:
    """Save one item's answer if nobody saved it since base_rev; else Conflict with theirs.

    Answers are saved item by item, so two devices filling different items merge; the same
    item changed on both is refused on the second, which is shown the first one's answer.
    """
    _require_filler(actor, inspection)
    _check_fillable(inspection)
    answer = db.session.execute(
        select(InspectionAnswer).where(
            InspectionAnswer.inspection_id == inspection.id, InspectionAnswer.item_id == item_id
        )
    ).scalar_one_or_none()
    if answer is None:
        raise NotFound(_l("No such item in this inspection."))
    result = _parse_result(values.get("result"))
    score = _parse_score(values.get("score"), answer.item.max_score)
    note = (values.get("note") or "").replace("\x00", "")[:MAX_NOTE]
    changed = db.session.execute(
        update(InspectionAnswer)
        .where(InspectionAnswer.id == answer.id, InspectionAnswer.rev == int(base_rev))
        .values(
            result=result,
            score=score,
            note=note,
            rev=InspectionAnswer.rev + 1,
            updated_at=now_utc(),
            updated_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(answer)
    if not changed:
        raise Conflict(
            _l("This item was changed on another device. Its answer is shown; yours is kept."),
            answer_state(answer),
        )
    _mark_started(actor, inspection)
    return answer


def stock_state(line: InspectionStockLine) -> dict:
    return {
        "key": line.key,
        "rev": line.rev,
        "part_number": line.part_number,
        "part_name": line.part_name,
        "expected_qty": "" if line.expected_qty is None else line.expected_qty,
        "expected_from_ledger": line.expected_from_ledger,
        "counted_qty": "" if line.counted_qty is None else line.counted_qty,
        "note": line.note,
        "removed": line.removed,
    }


def expected_quantity(station_id: int | None, part_number: str) -> int | None:
    """The good quantity the spares ledger holds for the part at the station, or None when
    there is no ledger to ask (then the auditor enters the expected quantity)."""
    if station_id is None or not part_number:
        return None
    from portal.spares.stock import on_hand
    from portal.spares.stock_models import Part

    part_id = db.session.execute(
        select(Part.id).where(Part.part_no == part_number)
    ).scalar_one_or_none()
    if part_id is None:  # not a catalogue part: the auditor enters the expected quantity
        return None
    good, _defective = on_hand(station_id)
    return int(good.get(part_id, 0))


def _quantity(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DomainError(_l("Enter a whole number."), field=field) from None
    if not 0 <= number <= 1_000_000:
        raise DomainError(_l("Enter a whole number."), field=field)
    return number


def save_stock_line(
    actor, inspection: Inspection, key: str, base_rev: int, values: dict
) -> InspectionStockLine:
    """Add or change one sampled part of the stock count (key: chosen by the device)."""
    _require_filler(actor, inspection)
    _check_fillable(inspection)
    try:
        key = str(uuid.UUID(str(key)))
    except ValueError:
        raise NotFound(_l("No such stock-count line.")) from None
    part_number = (values.get("part_number") or "").strip().upper()[:60]
    fields = {
        "part_number": part_number,
        "part_name": (values.get("part_name") or "").strip()[:200],
        "counted_qty": _quantity(values.get("counted_qty"), "counted_qty"),
        "note": (values.get("note") or "").replace("\x00", "")[:MAX_NOTE],
        "removed": bool(values.get("removed")),
    }
    ledger = expected_quantity(inspection.station_id, part_number)
    if ledger is not None:
        fields |= {"expected_qty": ledger, "expected_from_ledger": True}
    else:
        fields |= {
            "expected_qty": _quantity(values.get("expected_qty"), "expected_qty"),
            "expected_from_ledger": False,
        }
    line = db.session.execute(
        select(InspectionStockLine).where(
            InspectionStockLine.inspection_id == inspection.id, InspectionStockLine.key == key
        )
    ).scalar_one_or_none()
    if line is None:
        line = InspectionStockLine(
            inspection_id=inspection.id,
            key=key,
            rev=1,
            updated_at=now_utc(),
            updated_by_id=actor.id,
            **fields,
        )
        try:
            with db.session.begin_nested():
                db.session.add(line)
                db.session.flush()
        except IntegrityError:
            line = db.session.execute(
                select(InspectionStockLine).where(
                    InspectionStockLine.inspection_id == inspection.id,
                    InspectionStockLine.key == key,
                )
            ).scalar_one()
            raise Conflict(
                _l("This line was changed on another device. Its values are shown."),
                stock_state(line),
            ) from None
        audit.record_created(
            "inspection.stock_line_added", line, actor=actor, station_id=inspection.station_id
        )
        _mark_started(actor, inspection)
        return line
    before = audit.state(line)
    changed = db.session.execute(
        update(InspectionStockLine)
        .where(InspectionStockLine.id == line.id, InspectionStockLine.rev == int(base_rev))
        .values(
            rev=InspectionStockLine.rev + 1,
            updated_at=now_utc(),
            updated_by_id=actor.id,
            **fields,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(line)
    if not changed:
        raise Conflict(
            _l("This line was changed on another device. Its values are shown."),
            stock_state(line),
        )
    old, new = audit.diff(line, before, audit.state(line))
    audit.record(
        "inspection.stock_line_changed",
        line,
        actor=actor,
        station_id=inspection.station_id,
        before=old,
        after=new,
    )
    _mark_started(actor, inspection)
    return line


def photo_state(photo: InspectionFile) -> dict:
    return {
        "id": photo.id,
        "item_id": photo.item_id,
        "client_key": photo.client_key,
        "name": photo.original_name,
    }


def add_photo(
    actor, inspection: Inspection, item_id: int | None, client_key: str | None, filename, stream
) -> InspectionFile:
    """Store a photo of an item (sent again with the same client key: the one stored)."""
    _require_filler(actor, inspection)
    _check_fillable(inspection)
    if client_key:
        try:
            client_key = str(uuid.UUID(str(client_key)))
        except ValueError:
            client_key = None
    if client_key:
        existing = db.session.execute(
            select(InspectionFile).where(
                InspectionFile.inspection_id == inspection.id,
                InspectionFile.client_key == client_key,
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    valid_items = {item.id for item in inspection.checklist.items()}
    if item_id is not None and item_id not in valid_items:
        raise NotFound(_l("No such item in this inspection."))
    name = files.check_name(filename)
    checked = files.check_image(files.read_limited(stream))
    photo = _store(
        actor,
        checked,
        name,
        inspection=inspection,
        purpose=FilePurpose.PHOTO,
        item_id=item_id,
        client_key=client_key,
    )
    _mark_started(actor, inspection)
    return photo


def _store(actor, checked: files.Checked, name: str, *, inspection, purpose, **owner):
    session = db.session()
    stored = files.stage(session, checked.original, checked.ext)
    clean = files.stage(session, checked.clean, checked.ext) if checked.clean else None
    preview = files.stage(session, checked.preview, ".jpg") if checked.preview else None
    row = InspectionFile(
        inspection_id=inspection.id,
        station_id=inspection.station_id,
        purpose=purpose,
        original_name=name,
        stored_name=stored,
        clean_name=clean,
        preview_name=preview,
        content_type=checked.content_type,
        size=len(checked.original),
        width=checked.width,
        height=checked.height,
        uploaded_by_id=getattr(actor, "id", None),
        **owner,
    )
    db.session.add(row)
    db.session.flush()
    audit.record_created(
        f"inspection.{purpose.value}_added", row, actor=actor, station_id=inspection.station_id
    )
    return row


def delete_photo(actor, inspection: Inspection, photo: InspectionFile) -> None:
    """Take a photo off an inspection that is still being filled in."""
    _require_filler(actor, inspection)
    _check_fillable(inspection)
    if photo.inspection_id != inspection.id or photo.purpose is not FilePurpose.PHOTO:
        raise NotFound(_l("No such photo."))
    audit.record_deleted(
        "inspection.photo_deleted", photo, actor=actor, station_id=inspection.station_id
    )
    db.session.delete(photo)
    db.session.flush()


def photos_of(inspection: Inspection) -> list[InspectionFile]:
    return list(
        db.session.execute(
            select(InspectionFile)
            .where(
                InspectionFile.inspection_id == inspection.id,
                InspectionFile.purpose == FilePurpose.PHOTO,
            )
            .order_by(InspectionFile.id)
        ).scalars()
    )


def inspection_state(inspection: Inspection) -> dict:
    """Everything a device needs to bring its copy of the form up to date."""
    return {
        "id": inspection.id,
        "status": inspection.status.value,
        "version": inspection.version,
        "answers": [answer_state(a) for a in inspection.answers],
        "stock": [stock_state(line) for line in inspection.stock_lines],
        "photos": [photo_state(p) for p in photos_of(inspection)],
    }


# --- submitting ----------------------------------------------------------------------------

ANSWER_MESSAGES = {
    "result": _l("Choose pass, partial or fail."),
    "score": _l("Enter the score."),
    "range": _l("The score is outside 0 to the item's maximum."),
    "fail_full": _l("A failed item cannot have the full score."),
    "pass_zero": _l("A passed item cannot score 0."),
}


def submission_problems(inspection: Inspection) -> list[dict]:
    """Everything that stops the inspection from being submitted, item by item."""
    problems = []
    photographed = {p.item_id for p in photos_of(inspection)}
    for answer in inspection.answers:
        item = answer.item
        problem = rules.answer_problem(
            answer.result.value if answer.result else None, answer.score, item.max_score
        )
        if problem:
            problems.append(
                {"field": f"item-{item.id}", "item": item, "message": ANSWER_MESSAGES[problem]}
            )
        if item.photo_required and item.id not in photographed:
            problems.append(
                {"field": f"item-{item.id}", "item": item, "message": _l("A photo is required.")}
            )
    counts = [line for line in inspection.stock_lines if not line.removed]
    has_stock_item = any(a.item.stock_count for a in inspection.answers)
    if has_stock_item and inspection.kind is InspectionKind.STATION and not counts:
        problems.append({"field": "stock", "message": _l("Count at least one sampled part.")})
    for line in counts:
        if not line.part_number or line.expected_qty is None or line.counted_qty is None:
            problems.append(
                {
                    "field": "stock",
                    "message": _l(
                        "Every counted part needs its number, the expected and the counted "
                        "quantity."
                    ),
                }
            )
            break
    return problems


def submit_inspection(actor, inspection: Inspection, summary: str = "") -> Inspection:
    """Check, score, grade and lock the inspection; open its rectifications and penalties."""
    _require_filler(actor, inspection)
    target = INSPECTION_FLOW.target(inspection.status, "submit")
    problems = submission_problems(inspection)
    if problems:
        raise Problems(
            _l(
                "The inspection cannot be submitted yet: %(n)d things are missing.",
                n=len(problems),
            ),
            problems,
        )
    day = today()
    limits = thresholds(day)
    scored = [
        rules.ScoredItem(a.item.max_score, a.item.critical, a.result.value, a.score)
        for a in inspection.answers
    ]
    result = rules.outcome(scored, limits)
    before = {"status": inspection.status}
    inspection.status = target
    inspection.submitted_at = now_utc()
    inspection.submitted_on = day
    inspection.points = result.points
    inspection.max_points = result.max_points
    inspection.score = result.percent
    inspection.grade = Grade(result.grade)
    inspection.critical_failed = result.critical_failed
    inspection.summary = (summary or "").strip()[:MAX_NOTE]
    db.session.flush()
    audit.record(
        "inspection.submitted",
        inspection,
        actor=actor,
        label=f"{inspection.number} {inspection.subject}",
        before=before,
        after={
            "status": target,
            "score": result.percent,
            "grade": result.grade,
            "critical_failed": result.critical_failed,
            "answers": {str(a.item_id): [a.result.value, str(a.score)] for a in inspection.answers},
        },
    )
    if inspection.kind is InspectionKind.STATION:
        _open_findings(actor, inspection, day, limits)
        _penalize_critical(actor, inspection, day)
        _update_summary(inspection)
    else:
        _feed_screening(actor, inspection)
    return inspection


def _open_findings(actor, inspection: Inspection, day: dt.date, limits) -> None:
    for answer in inspection.answers:
        if not rules.needs_rectification(answer.result.value):
            continue
        item = answer.item
        finding = item.text_zh if not item.text_en else f"{item.text_zh} / {item.text_en}"
        if answer.note:
            finding = f"{finding}\n{answer.note}"
        _new_rectification(
            actor,
            inspection,
            source=RectificationSource.ITEM,
            finding=finding,
            critical=item.critical,
            due=rules.due_on(day, item.critical, limits),
            item_id=item.id,
        )
    for line in inspection.stock_lines:
        difference = line.difference
        if line.removed or not difference:
            continue
        _new_rectification(
            actor,
            inspection,
            source=RectificationSource.STOCK,
            finding=(
                f"库存差异 / Stock count difference: {line.part_number} {line.part_name}".strip()
                + f" — {line.expected_qty} → {line.counted_qty} ({difference:+d})"
            ),
            critical=False,
            due=rules.due_on(day, False, limits),
            stock_line_id=line.id,
        )


def _new_rectification(actor, inspection, *, source, finding, critical, due, **links):
    rectification = Rectification(
        inspection_id=inspection.id,
        station_id=inspection.station_id,
        source=source,
        finding=finding,
        critical=critical,
        due_on=due,
        status=RectificationStatus.OPEN,
        opened_by_id=getattr(actor, "id", None),
        **links,
    )
    db.session.add(rectification)
    db.session.flush()
    audit.record(
        "rectification.opened",
        rectification,
        actor=actor,
        label=f"{rectification.number} {inspection.number}",
        after={
            "source": source,
            "critical": critical,
            "due_on": due,
            "finding": finding[:200],
        },
    )
    return rectification


def _penalize_critical(actor, inspection: Inspection, day: dt.date) -> None:
    for answer in inspection.answers:
        if answer.item.critical and answer.result is AnswerResult.FAIL:
            adjustments.record_adjustment(
                actor,
                station_id=inspection.station_id,
                on=day,
                rule_code=adjustments.CRITICAL_ITEM_FAILED,
                source_type="inspection_answer",
                source_id=answer.id,
                reason=f"{inspection.number}: {answer.item.text_zh}",
            )


def _update_summary(inspection: Inspection) -> None:
    row = db.session.get(StationInspectionSummary, inspection.station_id)
    if row is None:
        row = StationInspectionSummary(station_id=inspection.station_id)
        db.session.add(row)
    elif row.last_id > inspection.id and row.last_on >= inspection.submitted_on:
        return
    row.last_id = inspection.id
    row.last_on = inspection.submitted_on
    row.score = inspection.score
    row.grade = inspection.grade
    db.session.flush()


def _feed_screening(actor, inspection: Inspection) -> None:
    """A candidate's site visit: its score becomes the site rating of the screening sheet."""
    from portal.certification import services as certification

    if inspection.application is not None:
        certification.record_site_visit(
            actor,
            inspection.application,
            rating=rules.score_to_rating(inspection.score),
            visited_on=inspection.submitted_on,
            reference=inspection.number,
        )


def plan_site_visit(actor, application, *, planned_on: dt.date, auditor, version) -> Inspection:
    """HQ plans the site visit of an application in screening as an inspection."""
    from portal.certification.states import APPLICATION_FLOW

    _require(actor, Permission.REVIEW_APPLICATIONS, _l("You may not plan site visits."))
    APPLICATION_FLOW.target(application.status, "screen")
    return plan_inspection(
        actor, planned_on=planned_on, auditor=auditor, version=version, application=application
    )


def site_visits(application) -> list[Inspection]:
    return list(
        db.session.execute(
            select(Inspection)
            .where(Inspection.application_id == application.id)
            .order_by(Inspection.id.desc())
        ).scalars()
    )


# --- rectifications ------------------------------------------------------------------------


def add_rectification(
    actor, inspection: Inspection, finding: str, critical: bool = False, due_on=None
) -> Rectification:
    """The auditor adds a finding of a submitted inspection."""
    if not can(actor, Permission.REVIEW_RECTIFICATIONS):
        raise PermissionDenied(_l("You may not add rectifications."))
    INSPECTION_FLOW.target(inspection.status, "add_rectification")
    if inspection.station_id is None:
        raise DomainError(_l("A site visit of an application has no rectifications."))
    finding = _text(finding, "finding")
    day = today()
    due = due_on or rules.due_on(day, critical, thresholds(day))
    if due < day:
        raise DomainError(_l("The due date cannot be in the past."), field="due_on")
    return _new_rectification(
        actor,
        inspection,
        source=RectificationSource.MANUAL,
        finding=finding,
        critical=bool(critical),
        due=due,
    )


def answer_rectification(
    actor, rectification: Rectification, description: str, uploads=()
) -> RectificationResponse:
    """The station answers with a description and evidence files (photos or PDF)."""
    if not can(actor, Permission.ANSWER_RECTIFICATIONS, rectification):
        raise PermissionDenied(_l("Only the station's own users answer its rectifications."))
    target = RECTIFICATION_FLOW.target(rectification.status, "answer")
    description = _text(description, "description", limit=MAX_NOTE)
    response = RectificationResponse(
        description=description,
        answered_by_id=actor.id,
        answered_at=now_utc(),
    )
    rectification.responses.append(response)
    db.session.flush()
    stored = []
    for filename, stream in uploads:
        name = files.check_name(filename)
        checked = files.check_evidence(files.read_limited(stream))
        row = _store(
            actor,
            checked,
            name,
            inspection=rectification.inspection,
            purpose=FilePurpose.EVIDENCE,
            rectification_id=rectification.id,
            response_id=response.id,
        )
        stored.append(row.original_name)
    if not stored:
        raise DomainError(_l("Add at least one evidence file."), field="files")
    before = {"status": rectification.status}
    rectification.status = target
    db.session.flush()
    audit.record(
        "rectification.answered",
        rectification,
        actor=actor,
        label=rectification.number,
        before=before,
        after={"status": target, "files": stored},
        comment=description[:500],
    )
    return response


def review_rectification(
    actor, rectification: Rectification, accept: bool, comment: str = ""
) -> Rectification:
    """The auditor accepts (closed) or rejects (to be answered again, with a comment)."""
    if not can(actor, Permission.REVIEW_RECTIFICATIONS):
        raise PermissionDenied(_l("You may not review rectifications."))
    action = "accept" if accept else "reject"
    target = RECTIFICATION_FLOW.target(rectification.status, action)
    comment = (comment or "").strip()
    if not accept and not comment:
        raise DomainError(_l("Tell the station why the answer is rejected."), field="comment")
    response = db.session.execute(
        select(RectificationResponse)
        .where(RectificationResponse.rectification_id == rectification.id)
        .order_by(RectificationResponse.id.desc())
        .limit(1)
    ).scalar_one()
    response.verdict = target
    response.review_comment = comment[:MAX_NOTE]
    response.reviewed_by_id = actor.id
    response.reviewed_at = now_utc()
    before = {"status": rectification.status}
    rectification.status = target
    if accept:
        rectification.closed_at = now_utc()
    db.session.flush()
    audit.record(
        f"rectification.{'accepted' if accept else 'rejected'}",
        rectification,
        actor=actor,
        label=rectification.number,
        before=before,
        after={"status": target},
        comment=comment,
    )
    return rectification


def is_overdue(rectification: Rectification, on: dt.date | None = None) -> bool:
    return rectification.status in UNRESOLVED and rectification.due_on < (on or today())


def penalize_overdue(actor, on: dt.date | None = None) -> int:
    """One penalty per started week overdue of every unanswered rectification (daily job).

    Idempotent: each week is its own event, so a second run on the same day adds nothing.
    """
    on = on or today()
    rows = db.session.execute(
        select(Rectification)
        .where(Rectification.status.in_(UNRESOLVED), Rectification.due_on < on)
        .order_by(Rectification.id)
    ).scalars()
    created = 0
    for rectification in rows:
        for week in range(1, rules.overdue_weeks(rectification.due_on, on) + 1):
            if adjustments.find_adjustment(
                adjustments.OVERDUE_RECTIFICATION, "rectification", rectification.id, week
            ):
                continue
            adjustments.record_adjustment(
                actor,
                station_id=rectification.station_id,
                on=rules.overdue_week_start(rectification.due_on, week),
                rule_code=adjustments.OVERDUE_RECTIFICATION,
                source_type="rectification",
                source_id=rectification.id,
                occurrence=week,
                reason=f"{rectification.number}: week {week} overdue",
            )
            created += 1
    return created


def send_reminders(actor, on: dt.date | None = None) -> tuple[int, int]:
    """Remind of rectifications due soon or overdue, once each (daily job): (reminders,
    e-mails). Reminders show in the portal; e-mails go only when MAIL_SERVER is set."""
    on = on or today()
    limits = thresholds(on)
    rows = db.session.execute(
        select(Rectification)
        .where(
            Rectification.status.in_(UNRESOLVED),
            Rectification.due_on <= on + dt.timedelta(days=limits.remind_days),
        )
        .order_by(Rectification.id)
    ).scalars()
    made = mailed = 0
    for rectification in list(rows):
        kind = "overdue" if rectification.due_on < on else "due_soon"
        exists = db.session.execute(
            select(RectificationReminder.id).where(
                RectificationReminder.rectification_id == rectification.id,
                RectificationReminder.kind == kind,
            )
        ).first()
        if exists:
            continue
        reminder = RectificationReminder(
            rectification_id=rectification.id, station_id=rectification.station_id, kind=kind
        )
        db.session.add(reminder)
        db.session.flush()
        reminder.emailed_to = _mail_reminder(rectification, kind)
        mailed += reminder.emailed_to
        made += 1
        audit.record(
            f"rectification.reminded_{kind}",
            rectification,
            actor=actor,
            label=rectification.number,
            after={"due_on": rectification.due_on, "emailed_to": reminder.emailed_to},
        )
    return made, mailed


def _recipients(rectification: Rectification) -> list[str]:
    from portal.auth.models import User

    addresses = list(
        db.session.execute(
            select(User.email).where(
                User.station_id == rectification.station_id,
                User.active.is_(True),
                User.email != "",
            )
        ).scalars()
    )
    auditor = rectification.inspection.auditor
    if auditor is not None and auditor.email:
        addresses.append(auditor.email)
    return sorted(set(addresses))


def _mail_reminder(rectification: Rectification, kind: str) -> int:
    """E-mail the station's users and the auditor; 0 when no mail server is configured."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    recipients = _recipients(rectification)
    if not recipients:
        return 0
    station = rectification.station
    message = EmailMessage()
    message["From"] = config.get("MAIL_DEFAULT_SENDER") or "portal@localhost"
    message["To"] = ", ".join(recipients)
    state = "已逾期 / overdue" if kind == "overdue" else "即将到期 / due soon"
    message["Subject"] = f"整改提醒 Rectification {rectification.number} {state}"
    message.set_content(
        f"{station.code} {station.name}\n"
        f"{rectification.number} — 截止日期 / due on {rectification.due_on.isoformat()}\n\n"
        f"{rectification.finding}\n"
    )
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # The portal reminder stands; the mail is tried again by no one, so say so in the log.
        log.warning("reminder mail for %s failed: %s", rectification.number, exc)
        return 0
    return len(recipients)


# --- lists ---------------------------------------------------------------------------------


@dataclass
class InspectionFilter:
    status: str = ""
    province: str = ""
    tier: str = ""
    station: str = ""
    mine: bool = False
    kind: str = ""


def inspection_query(user, flt: InspectionFilter):
    """Inspections the user may see, filtered (newest first by the caller's keyset)."""
    from portal.core.scoping import scope_to_user

    stmt = scope_to_user(select(Inspection), Inspection.station_id, user)
    if flt.status in {s.value for s in InspectionStatus}:
        stmt = stmt.where(Inspection.status == InspectionStatus(flt.status))
    if flt.kind in {k.value for k in InspectionKind}:
        stmt = stmt.where(Inspection.kind == InspectionKind(flt.kind))
    if flt.mine:
        stmt = stmt.where(Inspection.auditor_id == user.id)
    if flt.province or flt.tier or flt.station:
        stmt = stmt.join(Station, Station.id == Inspection.station_id)
        if flt.province:
            stmt = stmt.where(Station.province == flt.province)
        if flt.tier:
            stmt = stmt.where(Station.tier == flt.tier)
        if flt.station:
            stmt = stmt.where(Station.code == flt.station.upper())
    return stmt


@dataclass
class RectificationFilter:
    status: str = ""
    province: str = ""
    tier: str = ""
    station: str = ""
    overdue: bool = False


def rectification_query(user, flt: RectificationFilter, on: dt.date | None = None):
    from portal.core.scoping import scope_to_user

    stmt = scope_to_user(select(Rectification), Rectification.station_id, user)
    if flt.status == "not_closed":
        stmt = stmt.where(Rectification.status != RectificationStatus.ACCEPTED)
    elif flt.status in {s.value for s in RectificationStatus}:
        stmt = stmt.where(Rectification.status == RectificationStatus(flt.status))
    if flt.overdue:
        stmt = stmt.where(
            Rectification.status.in_(UNRESOLVED), Rectification.due_on < (on or today())
        )
    if flt.province or flt.tier or flt.station:
        stmt = stmt.join(Station, Station.id == Rectification.station_id)
        if flt.province:
            stmt = stmt.where(Station.province == flt.province)
        if flt.tier:
            stmt = stmt.where(Station.tier == flt.tier)
        if flt.station:
            stmt = stmt.where(Station.code == flt.station.upper())
    return stmt


def capped_count(stmt, cap: int = 10_000) -> tuple[int, bool]:
    """How many rows the query has, counted up to cap (the page says "more than" beyond)."""
    n = db.session.execute(
        select(func.count()).select_from(stmt.limit(cap + 1).subquery())
    ).scalar_one()
    return min(n, cap), n > cap


def open_counts(station_ids) -> dict[int, tuple[int, int]]:
    """Station -> (not closed, overdue) rectifications."""
    ids = list(station_ids)
    if not ids:
        return {}
    on = today()
    rows = db.session.execute(
        select(Rectification.station_id, Rectification.status, Rectification.due_on).where(
            Rectification.station_id.in_(ids),
            Rectification.status != RectificationStatus.ACCEPTED,
        )
    ).all()
    out = dict.fromkeys(ids, (0, 0))
    for station_id, status, due in rows:
        total, late = out[station_id]
        overdue = status in UNRESOLVED and due < on
        out[station_id] = (total + 1, late + (1 if overdue else 0))
    return out


def network_query(province: str = "", tier: str = ""):
    """Stations with their latest score (newest inspection first)."""
    stmt = select(StationInspectionSummary).join(
        Station, Station.id == StationInspectionSummary.station_id
    )
    if province:
        stmt = stmt.where(Station.province == province)
    if tier:
        stmt = stmt.where(Station.tier == tier)
    return stmt


def station_history(station_id: int, limit: int = 200) -> list[Inspection]:
    """A station's inspections, newest first."""
    return list(
        db.session.execute(
            select(Inspection)
            .where(Inspection.station_id == station_id)
            .order_by(Inspection.id.desc())
            .limit(limit)
        ).scalars()
    )


def reminders_for(user, limit: int = 20) -> list[RectificationReminder]:
    """Reminders of rectifications still to do: a station its own, an auditor theirs."""
    stmt = (
        select(RectificationReminder)
        .join(Rectification, Rectification.id == RectificationReminder.rectification_id)
        .where(Rectification.status.in_(UNRESOLVED))
    )
    if user.station_id is not None:
        stmt = stmt.where(RectificationReminder.station_id == user.station_id)
    elif can(user, Permission.CONDUCT_INSPECTIONS):
        stmt = stmt.join(Inspection, Inspection.id == Rectification.inspection_id).where(
            Inspection.auditor_id == user.id
        )
    else:
        return []
    return list(
        db.session.execute(stmt.order_by(RectificationReminder.id.desc()).limit(limit)).scalars()
    )


def dashboard_counts(user) -> dict:
    """What waits for this person: planned inspections, answers to review, open items."""
    on = today()
    counts = {}
    if can(user, Permission.CONDUCT_INSPECTIONS):
        counts["my_open"] = db.session.execute(
            select(func.count())
            .select_from(Inspection)
            .where(
                Inspection.auditor_id == user.id,
                Inspection.status.in_([InspectionStatus.PLANNED, InspectionStatus.IN_PROGRESS]),
            )
        ).scalar_one()
    if can(user, Permission.REVIEW_RECTIFICATIONS):
        counts["to_review"] = db.session.execute(
            select(func.count())
            .select_from(Rectification)
            .where(Rectification.status == RectificationStatus.ANSWERED)
        ).scalar_one()
    base = rectification_query(user, RectificationFilter())
    if can(user, Permission.VIEW_INSPECTIONS):
        counts["overdue"] = db.session.execute(
            select(func.count()).select_from(
                base.where(
                    Rectification.status.in_(UNRESOLVED), Rectification.due_on < on
                ).subquery()
            )
        ).scalar_one()
    if can(user, Permission.ANSWER_RECTIFICATIONS) and user.station_id:
        counts["to_answer"] = db.session.execute(
            select(func.count()).select_from(
                base.where(Rectification.status.in_(UNRESOLVED)).subquery()
            )
        ).scalar_one()
    return counts
