"""The audit guard itself: it flags an unaudited commit, and only a real commit."""

from portal.stations.models import Station
from tests import audit_guard


def test_unaudited_commit_is_flagged(db, make):
    station = make.station()
    db.session.commit()
    db.session.get(Station, station.id).name = "changed without audit"
    db.session.commit()
    assert audit_guard.violations == ["stations"]
    audit_guard.violations.clear()


def test_a_savepoint_released_then_rolled_back_is_not_a_commit(db, make):
    station = make.station()
    db.session.commit()
    with db.session.begin_nested():
        pass
    db.session.get(Station, station.id).name = "never kept"
    db.session.flush()
    db.session.rollback()
    assert audit_guard.violations == []
