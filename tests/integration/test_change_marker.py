"""The change marker: a new value after each commit that changed what pages show, the same
after one that changed only what none derives a figure from (sessions, notifications …), and
after a rollback. Other processes read it to know that what they kept is still right."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from innolab.domain import changes
from innolab.extensions import db
from innolab.models import ChangeMarker, Notification, Proposal
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def _stored() -> str | None:
    with db.engine.connect() as conn:  # as another process reads it
        return conn.execute(select(ChangeMarker.value)).scalar()


def test_a_change_writes_a_new_marker_and_a_quiet_commit_does_not():
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="submitted")
    first = _stored()
    assert first is not None

    p.title = "Neuer Titel"
    db.session.commit()
    second = _stored()
    assert second not in (None, first)

    db.session.add(Notification(user_id=owner.id, kind="proposal_submitted"))
    db.session.commit()
    assert _stored() == second

    p.title = "Wieder verworfen"
    db.session.flush()
    db.session.rollback()
    assert _stored() == second

    db.session.execute(update(Proposal).where(Proposal.id == p.id).values(title="Per UPDATE"))
    db.session.commit()
    assert _stored() not in (None, second)


def test_the_marker_is_read_once_per_transaction_and_again_after_a_commit():
    f.user()
    seen = changes.marker()
    assert seen == _stored()
    f.user()  # commits: a change
    assert changes.marker() == _stored() != seen
