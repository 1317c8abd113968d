"""An RQ worker for the job tests: the portal's worker, with the test job kinds loaded.

Run as `python -m tests.jobs.rq_worker` with DATABASE_URL, REDIS_URL and JOBS_QUEUE set; it
stops when the queue is empty.
"""

from portal import create_app
from portal.core import jobs
from tests.jobs import kinds  # noqa: F401 - registers the test kinds

app = create_app()
with app.app_context():
    jobs.work(app, burst=True)
