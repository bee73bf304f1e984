"""Failed sign-ins slow the next attempt down (per account, per client address); a stranger's
failures never lock the owner out: the owner signs in after the wait, or at once after a reset."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from innolab.domain import throttle
from innolab.extensions import db
from innolab.models import AuditEvent, SignInThrottle
from innolab.models._base import utcnow
from tests import factories
from tests.integration.auth_support import link_in, page_text

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}
WRONG = "falsches-Passwort-123"
NEW = "Ein ganz neues Passwort 2026"


def _sign_in(client, password, email="erika@example.org", environ=OWNER):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base=environ)


def _strange_failures(client, n=throttle.ACCOUNT_FREE_FAILURES, email="erika@example.org"):
    for _ in range(n):
        assert _sign_in(client, WRONG, email, ATTACKER).status_code == 422


def test_failures_of_a_stranger_only_delay_the_owner(new_client, app_ctx):
    factories.user(email="erika@example.org")
    attacker, owner = new_client(), new_client()
    _strange_failures(attacker)

    delayed = _sign_in(owner, factories.PASSWORD)  # the right password, during the wait
    assert delayed.status_code == 429
    wait = int(delayed.headers["Retry-After"])
    assert 1 <= wait <= 2
    assert f"erst in {wait} Sekunden möglich" in page_text(delayed)
    assert "Passwort vergessen" in page_text(delayed)
    assert owner.get("/account").status_code == 302
    # a wrong password gets the very same answer: nothing is checked during the wait
    wrong = _sign_in(attacker, WRONG)
    assert wrong.status_code == 429 and "Sekunden möglich" in page_text(wrong)

    time.sleep(wait + 0.5)
    assert _sign_in(owner, factories.PASSWORD).status_code == 303
    assert owner.get("/account").status_code == 200


def test_owner_signs_in_at_once_after_a_reset_during_a_long_back_off(new_client, app_ctx,
                                                                     outbox):
    factories.user(email="erika@example.org")
    attacker, owner = new_client(), new_client()
    _strange_failures(attacker)
    # the stranger kept on for a while: the wait is at its longest
    db.session.execute(update(SignInThrottle).values(
        failures=40, blocked_until=utcnow() + timedelta(seconds=throttle.MAX_DELAY)))
    db.session.commit()
    assert _sign_in(owner, factories.PASSWORD).status_code == 429

    owner.post("/password/forgot", data={"email": "erika@example.org"}, environ_base=OWNER)
    link = link_in(outbox("erika@example.org")[-1], "/password/reset/")
    done = owner.post(link, data={"password": NEW, "password_confirm": NEW}, environ_base=OWNER)
    assert done.status_code == 303 and owner.get("/account").status_code == 200

    owner.post("/logout", environ_base=OWNER)
    assert _sign_in(owner, NEW).status_code == 303  # the account's counter is gone


def test_successful_sign_in_resets_the_counter(client, app_ctx):
    factories.user(email="erika@example.org")
    for _ in range(throttle.ACCOUNT_FREE_FAILURES - 1):
        assert _sign_in(client, WRONG).status_code == 422
    assert _sign_in(client, factories.PASSWORD).status_code == 303
    client.post("/logout", environ_base=OWNER)
    for _ in range(throttle.ACCOUNT_FREE_FAILURES - 1):
        assert _sign_in(client, WRONG).status_code == 422
    assert _sign_in(client, factories.PASSWORD).status_code == 303


def test_unknown_addresses_are_slowed_down_like_known_ones(client, app_ctx):
    _strange_failures(client, email="niemand@example.org")
    answer = _sign_in(client, WRONG, "niemand@example.org", ATTACKER)
    assert answer.status_code == 429 and "Sekunden möglich" in page_text(answer)


def test_one_client_guessing_many_accounts_is_slowed_down(client, app_ctx):
    factories.user(email="erika@example.org")
    for n in range(throttle.ADDRESS_FREE_FAILURES):
        assert _sign_in(client, WRONG, f"person{n}@example.org", ATTACKER).status_code == 422
    assert _sign_in(client, WRONG, "erika@example.org", ATTACKER).status_code == 429
    # the owner, from elsewhere, is not affected by that client's failures
    assert _sign_in(client, factories.PASSWORD).status_code == 303


def test_delayed_attempts_are_security_events(client, app_ctx):
    factories.user(email="erika@example.org")
    _strange_failures(client)
    _sign_in(client, factories.PASSWORD, environ=ATTACKER)
    events = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "security.login_delayed")).scalars().all()
    assert len(events) == 1 and events[0].details["email"] == "erika@example.org"
    assert events[0].ip == ATTACKER["REMOTE_ADDR"]
    assert factories.PASSWORD not in str(events[0].details)


def test_counters_hold_no_address_in_the_clear(client, app_ctx):
    _strange_failures(client, n=1)
    keys = db.session.execute(select(SignInThrottle.key)).scalars().all()
    assert len(keys) == 2
    assert not any("erika" in k or "203.0.113" in k for k in keys)


def test_twenty_failures_from_many_addresses_do_not_lock_the_owner_out(limited_client,
                                                                       app_ctx):
    """With the rate limits on, as in production: what used to lock the account for an hour."""
    factories.user(email="erika@example.org")
    for n in range(20):
        answer = _sign_in(limited_client, WRONG, environ={"REMOTE_ADDR": f"10.0.{n}.1"})
        assert answer.status_code in (422, 429)
    first = _sign_in(limited_client, factories.PASSWORD)
    if first.status_code == 429:
        time.sleep(min(int(first.headers.get("Retry-After", 1)), 3) + 0.5)
        first = _sign_in(limited_client, factories.PASSWORD)
    assert first.status_code == 303
    assert limited_client.get("/account", environ_base=OWNER).status_code == 200
