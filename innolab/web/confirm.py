"""Irreversible steps ask first: a dialog when JavaScript runs, this page without.

A button of an irreversible step carries the question (`data-confirm`, the `submit` and
`post_button` macros' `confirm=`). With JavaScript, static/js/confirm.js opens the dialog of
templates/_macros/confirm.html and, on "yes", sends the form with `confirmed=1`. Without it the
POST arrives without that field: the view calls `ask(...)`, which renders "Wirklich …?" with
every field that was sent kept in hidden inputs (what was typed is not lost) and the buttons
to confirm (the same POST with `confirmed=1`) or to go back (`back=1`: the view shows the form
again as it was sent, or `back_url` for a step without a form). Nothing is changed before the
confirmed POST; the once-token (web/once.py), the seen status and the locks work as for any
other POST, since the confirmed POST is an ordinary one.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import request

from . import once, render

FIELD = "confirmed"
BACK = "back"
_NOT_KEPT = {FIELD, BACK, "csrf_token", once.FIELD}


def confirmed() -> bool:
    """The POST says yes (the dialog's or the page's button)."""
    return request.form.get(FIELD) == "1"


def going_back() -> bool:
    """The confirmation page's "back" button: show the form again as it was sent."""
    return request.form.get(BACK) == "1"


def ask(*, title, question, confirm_label, summary: Iterable[tuple[object, object]] = (),
        back_url: str | None = None, back_label=None, status: int = 200):
    """The confirmation page for this POST. `summary`: (label, value) pairs shown before the
    question; `back_url`: a plain link back (a step without anything typed), else the "back"
    button posts what was sent to the same address again with `back=1`."""
    kept = [(k, v) for k, v in request.form.items(multi=True) if k not in _NOT_KEPT]
    action = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    return render("confirm.html", status=status, title=title, question=question,
                  confirm_label=confirm_label, summary=list(summary), kept=kept, action=action,
                  back_url=back_url, back_label=back_label)
