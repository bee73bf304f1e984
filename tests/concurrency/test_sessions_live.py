"""Sessions and the change of address through a real server, with real browsers' cookies
(`requests` sessions): ending a session on one device signs the other out for real, and a
confirmation link sent twice at the same moment changes the address once."""
from __future__ import annotations

from sqlalchemy import select

from innolab.domain import registration
from innolab.extensions import db
from innolab.models import AuditEvent, User, UserSession
from tests import factories as f


def _rows(user):
    db.session.expire_all()
    return db.session.execute(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.id)).scalars().all()


def test_ending_a_session_signs_out_the_other_browser_for_real(app_ctx, server, signed_in):
    user = f.user(email="erika@example.org")
    laptop, phone = signed_in(user), signed_in(user)
    assert phone.get(server + "/account", allow_redirects=False, timeout=30).status_code == 200
    mine, theirs = (r.id for r in _rows(user))
    page = laptop.get(server + "/account/sessions", timeout=30).text
    assert f'data-session="{theirs}"' in page and f'data-session="{mine}"' in page
    ended = laptop.post(f"{server}/account/sessions/{theirs}/end", allow_redirects=False,
                        timeout=30)
    assert ended.status_code == 303
    answer = phone.get(server + "/account", allow_redirects=False, timeout=30)
    assert answer.status_code == 302 and "/login?next=" in answer.headers["Location"]
    assert laptop.get(server + "/account", allow_redirects=False, timeout=30).status_code == 200


def test_logout_answer_clears_the_site_data(app_ctx, server, signed_in):
    user = f.user(email="erika@example.org")
    browser = signed_in(user)
    answer = browser.post(server + "/logout", allow_redirects=False, timeout=30)
    assert answer.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    browser.cookies.clear()  # what the header makes a browser do
    page = browser.get(server + answer.headers["Location"], timeout=30)
    assert "Sie sind abgemeldet" in page.text
    assert [r.end_reason for r in _rows(user)] == ["logout"]


def test_confirmation_link_sent_twice_at_once_changes_the_address_once(app_ctx, server,
                                                                       signed_in, at_once):
    user = f.user(email="erika@example.org")
    with app_ctx.test_request_context():
        token = registration.make_email_change_token(user, "erika.neu@example.org")
    tab1, tab2 = signed_in(user), signed_in(user)
    url = f"{server}/account/email/confirm/{token}"
    answers = at_once(lambda: tab1.post(url, allow_redirects=False, timeout=60),
                      lambda: tab2.post(url, allow_redirects=False, timeout=60))
    assert sorted(a.status_code for a in answers) == [303, 400]
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "erika.neu@example.org"
    changed = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "user.email_changed")).scalars().all()
    assert len(changed) == 1
    # the tab whose confirmation won stays signed in, the other one is signed out
    still_in = [t.get(server + "/account", allow_redirects=False, timeout=30).status_code
                for t in (tab1, tab2)]
    assert sorted(still_in) == [200, 302]
