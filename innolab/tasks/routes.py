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


def _tasks_of_this_request() -> tasks.Pending:
    """Worked out once per request: the page and the header ask the same."""
    if "innolab.tasks" not in request.environ:
        request.environ["innolab.tasks"] = tasks.pending(current_user, limit=tasks.LIMIT)
    return request.environ["innolab.tasks"]


@bp.app_context_processor
def _open_tasks():
    def open_tasks() -> tasks.Pending | tasks.Count:
        """The header's count: the task page's own list there, elsewhere `tasks.counted`."""
        if not getattr(current_user, "is_authenticated", False):
            return tasks.Count(0)
        if "innolab.tasks" in request.environ:
            return request.environ["innolab.tasks"]
        try:
            return tasks.counted(current_user)
        except SQLAlchemyError:  # an error page after a failed transaction still renders
            db.session.rollback()
            return tasks.Count(0)

    return {"open_tasks": open_tasks}


@bp.get("/")
@login_required
def index():
    pending = _tasks_of_this_request()
    return render("tasks/index.html", tasks=pending.tasks, more=pending.more, limit=tasks.LIMIT,
                  today=date.today())
