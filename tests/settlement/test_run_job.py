"""The month's run as a job: started from the page with a progress bar, or from the command line
waiting for it and printing progress."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core import jobs
from portal.settlement.models import Settlement


def test_run_page_starts_a_job_with_a_progress_bar(client, db, make, login_as):
    station = make.station()
    finance = login_as("finance")
    response = client.post("/settlement/run", data={"month": "2026-10", "stations": "nope-1"})
    assert response.status_code == 422
    assert "No station has the code NOPE-1" in response.get_data(as_text=True)
    response = client.post("/settlement/run", data={"month": "2026-10", "stations": station.code})
    assert response.status_code == 302
    job = db.session.execute(select(jobs.Job)).scalar_one()
    assert job.params == {"month": "2026-10", "station_ids": [station.id]}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-job-progress" in page
    assert jobs.run_queued() == 1
    data = client.get(f"/jobs/{job.id}/progress").get_json()
    assert data["state"] == "done", data["error"]
    assert data["result_url"] == "/settlement/?month=2026-10"
    settlement = db.session.execute(
        select(Settlement).where(Settlement.station_id == station.id)
    ).scalar_one()
    assert settlement.run_by_id == finance.id


@pytest.mark.parametrize("role", ["station", "auditor"])
def test_station_and_auditor_may_not_run(client, db, make, login_as, role):
    login_as(role)
    assert client.post("/settlement/run", data={"month": "2026-10"}).status_code == 403


def test_run_command_waits_for_the_job_and_prints_progress(runner, db, make):
    first, second = make.station(), make.station()
    db.session.commit()
    result = runner.invoke(
        args=[
            "settlement",
            "run",
            "--month",
            "2026-10",
            "--station",
            first.code,
            "--station",
            second.code,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "2/2" in result.output  # progress, by batch of stations
    assert "computed=2" in result.output
    assert "2026-10 done" in result.output
    job = db.session.execute(select(jobs.Job)).scalar_one()
    assert job.state == jobs.JobState.DONE
    assert job.created_by_name == "system"


def test_run_command_refuses_unknown_stations_and_months(runner, db):
    result = runner.invoke(args=["settlement", "run", "--month", "2026-10", "--station", "X-1"])
    assert result.exit_code != 0
    assert "No station has the code X-1" in result.output
    result = runner.invoke(args=["settlement", "run", "--month", "October"])
    assert result.exit_code != 0
    assert "YYYY-MM" in result.output
