"""Access table of the certification routes."""

import datetime as dt

from tests.access import ADMIN, EVERYONE, FINANCE, HQ, HQ_SIDE, STATION

REVIEW = {ADMIN, HQ}
VIEW_APPS = {ADMIN, HQ, FINANCE}
DEPOSITS = {ADMIN, FINANCE}

ACCESS = {
    "certification.signup": {"GET": EVERYONE, "POST": EVERYONE},
    "certification.my_application": {"GET": {STATION}},
    "certification.application": {"GET": VIEW_APPS | {STATION}},
    "certification.edit_step": {"GET": {STATION}, "POST": {STATION}},
    "certification.remove_staff": {"POST": {STATION}},
    "certification.upload": {"POST": REVIEW | {STATION}},
    "certification.download": {"GET": VIEW_APPS | {STATION}},
    "certification.submit": {"POST": {STATION}},
    "certification.queue": {"GET": VIEW_APPS},
    "certification.review_action": {"POST": REVIEW},
    "certification.screening": {"GET": REVIEW, "POST": REVIEW},
    "certification.report": {"GET": VIEW_APPS},
    "certification.approve": {"POST": REVIEW},
    "certification.application_deposit": {"POST": DEPOSITS},
    "certification.authorize": {"GET": REVIEW, "POST": REVIEW},
    "certification.tier_rules": {"GET": HQ_SIDE},
    "certification.new_tier_rules": {"GET": REVIEW, "POST": REVIEW},
    "certification.new_weights": {"GET": REVIEW, "POST": REVIEW},
    "certification.noncompliant": {"GET": HQ_SIDE},
    "certification.station_action": {"POST": REVIEW},
    "certification.station_tier": {"POST": REVIEW},
    "certification.station_areas": {"POST": REVIEW},
    "certification.station_deposit": {"POST": DEPOSITS},
    "certification.reverse_deposit": {"POST": DEPOSITS},
    "certification.add_technician": {"POST": REVIEW},
    "certification.technician": {"GET": HQ_SIDE | {STATION}, "POST": REVIEW},
    "certification.revoke_certificate": {"POST": REVIEW},
    "certification.expiring": {"GET": HQ_SIDE | {STATION}},
}


def _objects(ctx):
    """Build once per walk and commit (only a savepoint in tests): a view's rollback keeps them."""
    if "application" not in ctx.objects:
        application = ctx.make.complete_application()
        person = ctx.make.technician(station=ctx.own_station)
        certificate = ctx.make.certificate(person, issued_on=dt.date(2026, 1, 1))
        entry = ctx.make.deposit(ctx.own_station)
        ctx.objects.update(
            application=application,
            application_id=application.id,
            staff_id=application.staff[0].id,
            attachment_id=application.attachments[0].id,
            technician_id=person.id,
            certificate_id=certificate.id,
            entry_id=entry.id,
        )
        ctx.db.session.commit()
    return ctx.objects


def _application(ctx):
    return _Ids(_objects(ctx))


class _Ids:
    def __init__(self, objects):
        self.id = objects["application_id"]


URL_ARGS = {
    "certification.application": lambda ctx: {"application_id": _application(ctx).id},
    "certification.edit_step": lambda ctx: {
        "application_id": _application(ctx).id,
        "step": "company",
    },
    "certification.remove_staff": lambda ctx: {
        "application_id": _application(ctx).id,
        "technician_id": _objects(ctx)["staff_id"],
    },
    "certification.upload": lambda ctx: {"application_id": _application(ctx).id},
    "certification.download": lambda ctx: {"attachment_id": _objects(ctx)["attachment_id"]},
    "certification.submit": lambda ctx: {"application_id": _application(ctx).id},
    "certification.review_action": lambda ctx: {
        "application_id": _application(ctx).id,
        "action": "return",
    },
    "certification.screening": lambda ctx: {"application_id": _application(ctx).id},
    "certification.report": lambda ctx: {"application_id": _application(ctx).id},
    "certification.approve": lambda ctx: {"application_id": _application(ctx).id},
    "certification.application_deposit": lambda ctx: {"application_id": _application(ctx).id},
    "certification.authorize": lambda ctx: {"application_id": _application(ctx).id},
    "certification.station_action": lambda ctx: {
        "station_id": ctx.own_station.id,
        "action": "suspend",
    },
    "certification.station_tier": lambda ctx: {"station_id": ctx.own_station.id},
    "certification.station_areas": lambda ctx: {"station_id": ctx.own_station.id},
    "certification.station_deposit": lambda ctx: {"station_id": ctx.own_station.id},
    "certification.reverse_deposit": lambda ctx: {"entry_id": _objects(ctx)["entry_id"]},
    "certification.add_technician": lambda ctx: {"station_id": ctx.own_station.id},
    "certification.technician": lambda ctx: {"technician_id": _objects(ctx)["technician_id"]},
    "certification.revoke_certificate": lambda ctx: {
        "certificate_id": _objects(ctx)["certificate_id"]
    },
}
