"""`flask --app wsgi innolab ...`: create-admin and seed-demo."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from innolab.domain.accounts import verify_password
from innolab.extensions import db
from innolab.models import AuditEvent, Proposal, Role, User, UserRole
from tests import factories as f


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(args=["innolab", *args], **kw)


def _admins(app):
    with app.app_context():
        return db.session.execute(
            select(User.email).join(UserRole).where(UserRole.role == Role.ADMIN.value)
        ).scalars().all()


def test_new_install_has_no_default_account(app, client):
    with app.app_context():
        assert db.session.execute(select(func.count(User.id))).scalar_one() == 0
    assert _admins(app) == []
    # nobody can sign in with a guessed default
    response = client.post("/login", data={"email": "admin@example.org", "password": "admin"})
    assert response.status_code == 422
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.text


def test_create_admin_creates_confirmed_admin(app, cli):
    result = cli("create-admin", "Chefin@ZDMV.example", "--name", "Chefin",
                 "--password", "ein-langes-Passwort")
    assert result.exit_code == 0, result.output
    assert "chefin@zdmv.example is an admin." in result.output
    assert _admins(app) == ["chefin@zdmv.example"]
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.name == "Chefin" and user.email_confirmed and user.active
        assert verify_password(user, "ein-langes-Passwort")
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert event.action == "user.create_admin" and event.object_id == user.id


def test_create_admin_then_admin_pages_open(app, cli, client):
    cli("create-admin", "chefin@zdmv.example", "--password", "ein-langes-Passwort")
    client.post("/login", data={"email": "chefin@zdmv.example",
                                "password": "ein-langes-Passwort"})
    assert client.get("/admin/").status_code == 200


def test_create_admin_asks_for_password(app, cli):
    result = cli("create-admin", "chefin@zdmv.example",
                 input="ein-langes-Passwort\nein-langes-Passwort\n")
    assert result.exit_code == 0, result.output
    assert _admins(app) == ["chefin@zdmv.example"]


def test_create_admin_invalid_email_is_an_error(app, cli):
    result = cli("create-admin", "keine-adresse", "--password", "ein-langes-Passwort")
    assert result.exit_code != 0
    assert "Invalid value for EMAIL" in result.output and "@" in result.output
    assert _admins(app) == []


def test_create_admin_short_password_is_an_error(app, cli):
    result = cli("create-admin", "chefin@zdmv.example", "--password", "kurz")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    with app.app_context():
        assert db.session.execute(select(func.count(User.id))).scalar_one() == 0


def test_create_admin_existing_account_gets_admin_role(app, cli):
    with app.app_context():
        user_id = f.user(email="vorhanden@example.org").id
    result = cli("create-admin", "vorhanden@example.org")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.has_role(Role.ADMIN)
        assert verify_password(user, f.PASSWORD)  # the password is left alone


def test_seed_demo_loads_once(app, cli):
    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    with app.app_context():
        n = db.session.execute(select(func.count(Proposal.id))).scalar_one()
    assert n >= 9
    result = cli("seed-demo")
    assert "nothing loaded" in result.output
    with app.app_context():
        assert db.session.execute(select(func.count(Proposal.id))).scalar_one() == n


def test_seed_demo_refuses_when_data_exists(app, cli):
    with app.app_context():
        f.user()
    result = cli("seed-demo")
    assert result.exit_code == 0
    assert "nothing loaded" in result.output
    with app.app_context():
        assert db.session.execute(select(func.count(Proposal.id))).scalar_one() == 0


def test_create_admin_refuses_a_common_password(app, cli):
    result = cli("create-admin", "chefin@zdmv.example", "--password", "password1234")
    assert result.exit_code != 0 and "--password" in result.output
    assert "chefin@zdmv.example" not in _admins(app)
