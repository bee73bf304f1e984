""""Meine Aufgaben": what waits for the signed-in person, and its count in the header."""
from __future__ import annotations

from datetime import date

from flask import request
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from ..domain import tasks
from ..extensions import db
from ..web import render
from . import bp


def _tasks_of_this_request() -> list[tasks.Task]:
    """Worked out once per request: the page and the header ask the same."""
    if "innolab.tasks" not in request.environ:
        request.environ["innolab.tasks"] = tasks.for_user(current_user)
    return request.environ["innolab.tasks"]


@bp.app_context_processor
def _open_tasks():
    def open_tasks() -> int:
        if not getattr(current_user, "is_authenticated", False):
            return 0
        try:
            return len(_tasks_of_this_request())
        except SQLAlchemyError:  # an error page after a failed transaction still renders
            db.session.rollback()
            request.environ["innolab.tasks"] = []
            return 0

    return {"open_tasks": open_tasks}


@bp.get("/")
@login_required
def index():
    return render("tasks/index.html", tasks=_tasks_of_this_request(), today=date.today())
