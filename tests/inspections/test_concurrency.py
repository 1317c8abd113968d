"""Two devices saving the same item at the same moment: one is saved, the other is told
(real transactions on PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from portal.extensions import db
from portal.inspections import services
from tests.factories import Factories

TABLES = (
    "inspection_files, inspection_answers, inspection_stock_counts, rectification_reminders, "
    "rectification_responses, rectifications, station_inspection_summaries, inspections, "
    "checklist_items, checklist_sections, checklist_versions, checklist_templates, "
    "adjustments, user_sessions, user_roles, users, stations, audit_entries"
)


@pytest.mark.postgres_only
def test_two_devices_save_one_item_at_once(app):
    try:
        with app.test_request_context():
            make = Factories(db)
            hq = make.user(role="hq")
            auditor = make.user(role="auditor")
            version = services.load_default_template(hq)
            inspection = services.plan_inspection(
                hq,
                planned_on=services.today(),
                auditor=auditor,
                version=version,
                station=make.station(),
            )
            ids = (inspection.id, inspection.answers[0].item_id, auditor.id)
            db.session.commit()
            db.session.remove()

        barrier = threading.Barrier(2)
        outcomes, errors = [], []

        def save(result):
            with app.test_request_context():
                try:
                    from portal.auth.models import User
                    from portal.inspections.models import Inspection

                    actor = db.session.get(User, ids[2])
                    target = db.session.get(Inspection, ids[0])
                    barrier.wait(timeout=10)
                    services.save_answer(actor, target, ids[1], 0, {"result": result})
                    db.session.commit()
                    outcomes.append("saved")
                except services.Conflict:
                    db.session.rollback()
                    outcomes.append("conflict")
                except Exception as exc:  # reported below
                    db.session.rollback()
                    errors.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=save, args=(r,)) for r in ("pass", "fail")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sorted(outcomes) == ["conflict", "saved"]
        with app.app_context():
            from portal.inspections.models import InspectionAnswer

            answer = (
                db.session.query(InspectionAnswer)
                .filter_by(inspection_id=ids[0], item_id=ids[1])
                .one()
            )
            assert answer.rev == 1
    finally:
        with app.app_context():
            db.session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()
