"""The same file uploaded twice at the same moment: one import wins, nothing is doubled
(PostgreSQL, two real connections)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from portal.core.actors import SYSTEM
from portal.core.dates import local_today
from portal.core.errors import DomainError
from portal.reports.states import UploadOutcome
from tests.reports.xlsx_helpers import plain_workbook

pytestmark = pytest.mark.postgres_only


def test_two_uploads_of_one_file_at_once_import_it_once(app):
    from portal.extensions import db
    from portal.reports import demo, excel
    from portal.reports.models import DailyReport, PartUsed, RepairRecord, UploadBatch
    from portal.stations import services as station_services
    from portal.stations.models import Station
    from tests.factories import Factories

    with app.app_context():
        demo.load_catalogues()
        station = station_services.create_station(
            SYSTEM,
            code="XZ-CC-0777",
            name="并发上传站",
            tier="service_station",
            province="XZ",
            city="拉萨",
            city_class="1",
            status="active",
        )
        db.session.commit()
        station_id = station.id
        day = local_today() - dt.timedelta(days=1)
        make = Factories(db)
        data = plain_workbook([make.record_values(day, n) for n in range(1, 51)])
        db.session.remove()

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def upload() -> None:
        with app.app_context():
            station = db.session.get(Station, station_id)
            barrier.wait()
            try:
                batch = excel.upload(SYSTEM, station, day, "same.xlsx", data)
                db.session.commit()
                outcomes.append(batch.outcome.value)
            except (DomainError, IntegrityError):
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        try:
            # The loser is refused (same file, tickets taken) or rejected with every ticket
            # listed as already reported, depending on when it looks: never imported twice.
            assert len(outcomes) == 2
            assert outcomes.count(UploadOutcome.IMPORTED.value) == 1
            count = db.session.execute(
                select(func.count())
                .select_from(RepairRecord)
                .where(RepairRecord.station_id == station_id)
            ).scalar_one()
            assert count == 50
        finally:
            records = select(RepairRecord.id).where(RepairRecord.station_id == station_id)
            db.session.execute(delete(PartUsed).where(PartUsed.record_id.in_(records)))
            db.session.execute(delete(RepairRecord).where(RepairRecord.station_id == station_id))
            db.session.execute(delete(UploadBatch).where(UploadBatch.station_id == station_id))
            db.session.execute(delete(DailyReport).where(DailyReport.station_id == station_id))
            db.session.execute(delete(Station).where(Station.id == station_id))
            db.session.commit()
