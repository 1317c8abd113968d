"""Factories that build valid rows through the services (so audit entries exist too)."""

from __future__ import annotations

import datetime as dt
import functools
import itertools

from portal.auth import services as auth_services
from portal.core.actors import SYSTEM
from portal.stations import services as station_services
from tests import audit_guard

_seq = itertools.count(1)


class Factories:
    def __init__(self, db):
        self.db = db
        self._reporters = {}

    def __getattribute__(self, name):
        # Test data written here is not the portal's doing: the audit guard ignores it.
        attr = object.__getattribute__(self, name)
        if name.startswith("_") or not callable(attr):
            return attr
        info = object.__getattribute__(self, "db").session.info

        @functools.wraps(attr)
        def as_factory(*args, **kwargs):
            outer = info.get(audit_guard.FACTORY, False)
            info[audit_guard.FACTORY] = True
            try:
                return attr(*args, **kwargs)
            finally:
                info[audit_guard.FACTORY] = outer

        return as_factory

    def station(self, **overrides):
        n = next(_seq)
        values = {
            "code": f"HA-TS-{n:04d}",
            "name": f"测试站 {n}",
            "tier": "service_station",
            "province": "HA",
            "city": "郑州",
            "city_class": "1",
            "address": "测试路 1 号",
            "authorized_region": "郑州市",
            "contact_name": "测试",
            "contact_phone": "13800000000",
            "contact_email": "",
            "status": "active",
            "agreement_start_on": dt.date(2026, 1, 1),
            "agreement_end_on": dt.date(2028, 12, 31),
            "notes": "",
        }
        values.update(overrides)
        station = station_services.create_station(SYSTEM, **values)
        self.db.session.flush()
        return station

    def user(self, role="hq", station=None, password="secret-pass-1", roles=None, **kwargs):
        n = next(_seq)
        roles = roles or [role]
        if "station" in roles and station is None:
            station = self.station()
        user = auth_services.create_user(
            SYSTEM,
            username=kwargs.pop("username", f"{roles[0]}-{n}"),
            password=password,
            roles=roles,
            station_id=station.id if station is not None else None,
            **kwargs,
        )
        self.db.session.flush()
        return user

    # --- certification -------------------------------------------------------------------

    def candidate(self, company_name="测试通讯有限公司", password="secret-pass-1"):  # noqa: S107
        """A signed-up candidate: returns its draft application (applicant on .applicant)."""
        from portal.certification import services as cert_services

        n = next(_seq)
        application = cert_services.sign_up(
            username=f"candidate-{n}",
            password=password,
            display_name=f"候选 {n}",
            email=f"candidate-{n}@example.com",
            company_name=company_name,
        )
        self.db.session.flush()
        return application

    def complete_application(self, tier="service_station", city_class="2", **overrides):
        """A draft application with every step filled in and both attachments."""
        import io

        from portal.certification import rules
        from portal.certification import services as cert_services

        application = self.candidate()
        applicant = application.applicant
        first = "91410100MA44K0X0"[:16] + f"{next(_seq) % 10}"
        values = {
            "company_name": application.company_name,
            "credit_code": first + rules.credit_code_check_char(first),
            "legal_representative": "张三",
            "address": "测试路 2 号",
            "province": "HA",
            "city": "开封",
            "city_class": city_class,
            "requested_tier": tier,
            "brands_serviced": "华为",
            "contact_phone": "13800000001",
            "contact_email": "a@example.com",
            "no_counterfeit_declared": True,
        }
        values.update({k: v for k, v in overrides.items() if k in values})
        cert_services.save_step(applicant, application, "company", values)
        areas = {"reception_area": "10", "repair_area": "12", "storage_area": "9"}
        areas.update({k: v for k, v in overrides.items() if k in areas})
        cert_services.save_step(applicant, application, "areas", areas)
        cert_services.save_step(
            applicant,
            application,
            "equipment",
            {
                "has_tools": True,
                "has_computer": True,
                "has_test_instruments": True,
                "service_phone": "0371-1",
                "equipment_notes": "",
            },
        )
        cert_services.save_step(
            applicant,
            application,
            "finances",
            {
                "financial_year": 2025,
                "total_assets": "100000",
                "revenue": "200000",
                "net_profit": "10000",
            },
        )
        cert_services.add_staff(applicant, application, name="协调人", role="coordinator")
        cert_services.upload_attachment(
            applicant, application, "business_licence", "licence.pdf", io.BytesIO(b"%PDF-1.4 x")
        )
        cert_services.upload_attachment(
            applicant, application, "financial_report", "report.pdf", io.BytesIO(b"%PDF-1.4 y")
        )
        # Files move into place when the transaction commits (here a savepoint of the test's).
        self.db.session.commit()
        return application

    def technician(self, station=None, application=None, role="repair_technician", **kwargs):
        from portal.certification.models import Technician
        from portal.certification.states import StaffRole

        person = Technician(
            station_id=station.id if station is not None else None,
            application=application,
            name=kwargs.pop("name", f"技师 {next(_seq)}"),
            role=StaffRole(role),
            id_number=kwargs.pop("id_number", "410102199001011234"),
            **kwargs,
        )
        self.db.session.add(person)
        self.db.session.flush()
        return person

    def certificate(self, technician, issued_on, track="repair_technician", revoked_on=None):
        from portal.certification import rules
        from portal.certification.models import Certificate
        from portal.certification.states import Track

        cert = Certificate(
            number=f"T{next(_seq):08d}",
            technician_id=technician.id,
            track=Track(track),
            issued_on=issued_on,
            expires_on=rules.certificate_expiry(issued_on),
            revoked_on=revoked_on,
        )
        self.db.session.add(cert)
        self.db.session.flush()
        self.db.session.refresh(technician)
        return cert

    def cashier(self):
        """One finance user per test: records the deposits the factories make."""
        if getattr(self, "_cashier", None) is None:
            self._cashier = self.user(role="finance")
        return self._cashier

    def deposit(self, station, amount="5000", kind="paid"):
        from portal.spares import services as deposit_services

        account = deposit_services.account_for_station(station.id, create=True)
        entry = deposit_services.record_entry(
            self.cashier(), account, kind=kind, amount=amount, entry_on=dt.date(2026, 1, 5)
        )
        self.db.session.flush()
        return entry

    # --- reports (daily reports and repair records) ---------------------------------------

    def catalogues(self):
        """The demo device models and fault codes (repair types and results come with the
        migration)."""
        from portal.reports import demo

        demo.load_catalogues()
        self.db.session.flush()

    def record_values(self, day=None, n=1, **overrides):
        """Raw values of a valid repair record received on day (China time)."""
        from portal.core.dates import local_today

        day = day or local_today()
        values = {
            "ticket_no": f"T-{day:%Y%m%d}-{n:05d}",
            "received_at": f"{day.isoformat()} 09:30",
            "completed_at": f"{day.isoformat()} 11:00",
            "customer_name": "王小明",
            "customer_phone": "13812345678",
            "device_model": "P30",
            "serial_no": f"P30{n:09d}",
            "purchase_on": (day - dt.timedelta(days=100)).isoformat(),
            "warranty": "warranty",
            "fault_code": "D01",
            "repair_type": "instore_simple",
            "on_site": "instore",
            "parts": "LCD-P30*1#OLD123",
            "standby_serial": "",
            "result": "repaired",
            "satisfaction": "5",
            "return_visit_on": "",
            "return_visit_outcome": "",
        }
        values.update(overrides)
        return values

    def reporter(self, station):
        """A user of the station who reports for it (one per station, made once)."""
        if station.id not in self._reporters:
            self._reporters[station.id] = self.user(role="station", station=station)
        return self._reporters[station.id]

    def report(self, station, day=None, records=0, submit=False, on_time=False, **values):
        """A daily report of the station with records made by record_values (values: what
        every record has instead of the defaults, e.g. parts="")."""
        from portal.core.dates import local_today
        from portal.reports import services as report_services
        from portal.reports.states import RecordSource

        self.catalogues()
        day = day or local_today()
        actor = self.reporter(station)
        report = report_services.open_report(actor, station, day)
        if records:
            start = next(_seq) * 10000
            rows = [(None, self.record_values(day, start + i, **values)) for i in range(records)]
            report_services.import_records(actor, report, rows, RecordSource.FORM)
        if submit:
            report_services.submit_report(actor, report)
            if on_time:  # as if submitted before its deadline, however long ago the day was
                due = report_services.due_for(day)
                report.first_submitted_at = report.submitted_at = due - dt.timedelta(hours=1)
        self.db.session.flush()
        return report

    def update(self, obj, **values):
        """Change test data in place (outside the portal's services, so not audited)."""
        for name, value in values.items():
            setattr(obj, name, value)
        self.db.session.flush()
        return obj

    def settlement(self, station, month, status="draft"):
        """A settlement row of a station's month (the settlement module builds the rest)."""
        from portal.settlement.models import Settlement
        from portal.settlement.states import SettlementStatus

        row = Settlement(
            station_id=station.id, month=month.replace(day=1), status=SettlementStatus(status)
        )
        self.db.session.add(row)
        self.db.session.flush()
        return row

    def api_token(self, station, name="ticket system"):
        """(token row, plain token) for the station, created by one of its users."""
        from portal.api import services as token_services

        user = self.user(role="station", station=station)
        token, plain = token_services.create_token(user, name)
        self.db.session.flush()
        return token, plain

    def tier_from(self, station, tier, day):
        """The station's tier changes to `tier` from `day` on (its tier history, back-dated)."""
        from sqlalchemy import select

        from portal.stations.models import StationTierPeriod
        from portal.stations.states import Tier

        open_period = self.db.session.execute(
            select(StationTierPeriod).where(
                StationTierPeriod.station_id == station.id,
                StationTierPeriod.effective_until.is_(None),
            )
        ).scalar_one()
        open_period.effective_from = min(open_period.effective_from, day - dt.timedelta(days=1))
        open_period.effective_until = day
        self.db.session.flush()
        self.db.session.add(
            StationTierPeriod(station_id=station.id, tier=Tier(tier), effective_from=day)
        )
        station.tier = Tier(tier)
        self.db.session.flush()
