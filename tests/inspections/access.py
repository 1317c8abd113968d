"""Access table of the inspection routes."""

import io
import uuid

from tests.access import ADMIN, AUDITOR, EVERYONE, HQ, STATION

SEE = {ADMIN, HQ, AUDITOR, STATION}
HQ_SEE = {ADMIN, HQ, AUDITOR}
PLAN = {ADMIN, HQ, AUDITOR}
CHECKLISTS = {ADMIN, HQ}
REVIEW = {ADMIN, AUDITOR}

ACCESS = {
    "inspections.index": {"GET": SEE},
    "inspections.rectifications": {"GET": SEE},
    "inspections.network": {"GET": HQ_SEE},
    "inspections.station_history": {"GET": SEE},
    "inspections.plan": {"GET": PLAN, "POST": PLAN},
    "inspections.plan_site_visit": {"GET": {ADMIN, HQ}, "POST": {ADMIN, HQ}},
    "inspections.detail": {"GET": SEE},
    "inspections.cancel": {"POST": PLAN},
    "inspections.fill": {"GET": {AUDITOR}},
    "inspections.state": {"GET": {AUDITOR}},
    "inspections.save_answer": {"POST": {AUDITOR}},
    "inspections.save_stock": {"POST": {AUDITOR}},
    "inspections.add_photo": {"POST": {AUDITOR}},
    "inspections.delete_photo": {"POST": {AUDITOR}},
    "inspections.submit": {"POST": {AUDITOR}},
    "inspections.service_worker": {"GET": EVERYONE},
    "inspections.file_preview": {"GET": SEE},
    "inspections.file_download": {"GET": SEE},
    "inspections.add_rectification": {"POST": REVIEW},
    "inspections.rectification": {"GET": SEE, "POST": {STATION}},
    "inspections.review": {"POST": REVIEW},
    "inspections.sheet": {"GET": SEE},
    "inspections.checklists": {"GET": HQ_SEE},
    "inspections.new_draft": {"POST": CHECKLISTS},
    "inspections.version": {"GET": HQ_SEE, "POST": CHECKLISTS},
    "inspections.item_new": {"GET": CHECKLISTS, "POST": CHECKLISTS},
    "inspections.item_edit": {"GET": CHECKLISTS, "POST": CHECKLISTS},
    "inspections.item_delete": {"POST": CHECKLISTS},
    "inspections.section_delete": {"POST": CHECKLISTS},
    "inspections.publish": {"POST": CHECKLISTS},
    "inspections.settings": {"GET": HQ_SEE, "POST": CHECKLISTS},
}


def _objects(ctx):
    """Inspections of the walker's own station: one being filled in by the newest auditor
    (the walking auditor, when the walk is an auditor's), one submitted with a rectification
    and a photo; a draft checklist version with a section and an item."""
    if "inspection_id" in ctx.objects:
        return ctx.objects
    from sqlalchemy import select

    from portal.auth.models import User, UserRole
    from portal.core.permissions import Role
    from portal.inspections import services
    from tests.inspections.helpers import answer_all, jpeg

    hq = ctx.make.user(role="hq")
    auditor = ctx.db.session.execute(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.AUDITOR)
        .order_by(User.id.desc())
        .limit(1)
    ).scalar_one_or_none() or ctx.make.user(role="auditor")
    version = services.load_default_template(hq)
    open_one = services.plan_inspection(
        hq, planned_on=services.today(), auditor=auditor, version=version, station=ctx.own_station
    )
    photo = services.add_photo(
        auditor, open_one, version.items()[0].id, None, "a.jpg", io.BytesIO(jpeg())
    )
    done = services.plan_inspection(
        hq, planned_on=services.today(), auditor=auditor, version=version, station=ctx.own_station
    )
    answer_all(auditor, done, {1: "partial"})
    services.submit_inspection(auditor, done, "")
    rectification = services.rectification_query(
        hq, services.RectificationFilter(station=ctx.own_station.code)
    ).order_by(None)
    rectification = ctx.db.session.execute(rectification).scalars().first()
    draft = services.new_draft(hq, version.template)
    ctx.objects.update(
        inspection_id=open_one.id,
        done_id=done.id,
        photo_id=photo.id,
        item_id=version.items()[0].id,
        rectification_id=rectification.id,
        template_id=version.template_id,
        draft_id=draft.id,
        draft_item_id=draft.items()[-1].id,
        draft_section_id=draft.sections[0].id,
    )
    ctx.db.session.commit()
    return ctx.objects


def _ids(**names):
    return lambda ctx: {arg: _objects(ctx)[key] for arg, key in names.items()}


def _application(ctx):
    if "application_id" not in ctx.objects:
        ctx.objects["application_id"] = ctx.make.complete_application().id
        ctx.db.session.commit()
    return {"application_id": ctx.objects["application_id"]}


URL_ARGS = {
    "inspections.plan_site_visit": _application,
    "inspections.station_history": lambda ctx: {"station_id": ctx.own_station.id},
    "inspections.detail": _ids(inspection_id="inspection_id"),
    "inspections.cancel": _ids(inspection_id="inspection_id"),
    "inspections.fill": _ids(inspection_id="inspection_id"),
    "inspections.state": _ids(inspection_id="inspection_id"),
    "inspections.save_answer": _ids(inspection_id="inspection_id", item_id="item_id"),
    "inspections.save_stock": lambda ctx: {
        "inspection_id": _objects(ctx)["inspection_id"],
        "key": str(uuid.uuid4()),
    },
    "inspections.add_photo": _ids(inspection_id="inspection_id"),
    "inspections.delete_photo": _ids(inspection_id="inspection_id", file_id="photo_id"),
    "inspections.submit": _ids(inspection_id="inspection_id"),
    "inspections.file_preview": _ids(file_id="photo_id"),
    "inspections.file_download": _ids(file_id="photo_id"),
    "inspections.add_rectification": _ids(inspection_id="done_id"),
    "inspections.rectification": _ids(rectification_id="rectification_id"),
    "inspections.review": _ids(rectification_id="rectification_id"),
    "inspections.sheet": _ids(inspection_id="done_id"),
    "inspections.new_draft": _ids(template_id="template_id"),
    "inspections.version": _ids(version_id="draft_id"),
    "inspections.item_new": _ids(version_id="draft_id"),
    "inspections.item_edit": _ids(item_id="draft_item_id"),
    "inspections.item_delete": _ids(item_id="draft_item_id"),
    "inspections.section_delete": _ids(section_id="draft_section_id"),
    "inspections.publish": _ids(version_id="draft_id"),
}
