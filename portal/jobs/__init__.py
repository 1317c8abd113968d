"""Pages of the background jobs (the model and runners live in portal.core.jobs): each job's
progress bar, its JSON progress, restarting a failed job, the list of jobs."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

from portal.jobs import views  # noqa: E402,F401
