"""The catalogue facts the settlement judges by, as they were on each day (SPEC 8.2).

A device model's serial pattern and warranty, and a fault code's category, change only as new
versions effective today or later (`DeviceModelFact`, `FaultCategoryFact`); the catalogue row's
own columns are the first version. `load_history()` reads everything once (the tables are
small) and answers per day, for the engine and for entry warnings alike.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from portal.extensions import db
from portal.reports.models import DeviceModel, DeviceModelFact, FaultCategoryFact, FaultCode
from portal.reports.rules import compile_serial_pattern

BEGINNING = dt.date.min


class FactsHistory:
    def __init__(self, models, model_facts, faults, fault_facts):
        # code -> [(effective_on, pattern, compiled, months)], newest first
        self._models: dict[str, list] = {}
        for code, pattern, months in models:
            self._models[code] = [(BEGINNING, pattern, compile_serial_pattern(pattern), months)]
        for code, effective_on, pattern, months in model_facts:
            self._models.setdefault(code, []).append(
                (effective_on, pattern, compile_serial_pattern(pattern), months)
            )
        for rows in self._models.values():
            rows.sort(key=lambda row: row[0], reverse=True)
        self._faults: dict[str, list] = {code: [(BEGINNING, cat)] for code, cat in faults}
        for code, effective_on, category in fault_facts:
            self._faults.setdefault(code, []).append((effective_on, category))
        for rows in self._faults.values():
            rows.sort(key=lambda row: row[0], reverse=True)

    @staticmethod
    def _on(rows, day):
        return next((row for row in rows if row[0] <= day), None)

    def model_rule(self, model_code: str, day: dt.date):
        row = self._on(self._models.get(model_code, ()), day)
        return None if row is None else (row[1], row[2], row[3])

    def serial_pattern(self, model_code: str, day: dt.date) -> re.Pattern | None:
        rule = self.model_rule(model_code, day)
        return rule[1] if rule else None

    def warranty_months(self, model_code: str, day: dt.date) -> int | None:
        rule = self.model_rule(model_code, day)
        return rule[2] if rule else None

    def fault_category(self, fault_code: str, day: dt.date) -> str:
        row = self._on(self._faults.get(fault_code, ()), day)
        return row[1] if row else fault_code

    def model_versions(self, model_code: str) -> list:
        """(effective_on or None for the first, pattern, months), newest first."""
        return [
            (None if on == BEGINNING else on, pattern, months)
            for on, pattern, _compiled, months in self._models.get(model_code, ())
        ]

    def fault_versions(self, fault_code: str) -> list:
        return [
            (None if on == BEGINNING else on, category)
            for on, category in self._faults.get(fault_code, ())
        ]

    def tier_allows(self, tier: str, repair_type: str, day: dt.date) -> bool:
        from portal.settlement.catalogue import tier_allows

        return tier_allows(tier, repair_type, day)


def load_history(start: dt.date | None = None, end: dt.date | None = None) -> FactsHistory:
    """Every version of the model and fault facts (start and end are accepted for callers
    that know their period; the tables are small enough to read whole)."""
    return FactsHistory(
        db.session.execute(
            select(DeviceModel.code, DeviceModel.serial_pattern, DeviceModel.warranty_months)
        ).all(),
        db.session.execute(
            select(
                DeviceModelFact.model_code,
                DeviceModelFact.effective_on,
                DeviceModelFact.serial_pattern,
                DeviceModelFact.warranty_months,
            )
        ).all(),
        db.session.execute(select(FaultCode.code, FaultCode.category)).all(),
        db.session.execute(
            select(
                FaultCategoryFact.fault_code,
                FaultCategoryFact.effective_on,
                FaultCategoryFact.category,
            )
        ).all(),
    )
