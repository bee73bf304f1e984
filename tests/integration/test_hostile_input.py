"""Hostile input never gives a 500: numbers beyond the database's range, NUL bytes and lone
surrogates, impossible dates – on SQLite and PostgreSQL alike. (tests/integration/
test_every_route.py sends the same to every route as every user; these check the answers.)"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import Organisation, User
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

NUL_MESSAGE = "Ihre Eingabe enthält ein unzulässiges Steuerzeichen"


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/challenges/2147483648", "/pilots/99999999999999999999",
                                  "/proposals/2147483648", "/workspace/2147483648/report/"])
def test_path_numbers_beyond_the_database_are_not_found(client, login, path):
    login(f.user(roles=["coordinator"]))
    response = client.get(path)
    assert response.status_code == 404
    assert "Seite nicht gefunden" in _text(response)


def test_largest_id_the_database_holds_is_just_unknown(client):
    assert client.get("/challenges/2147483647").status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999", "9" * 5000, "-5", "2147483648"])
def test_huge_page_numbers_show_a_page(client, page):
    f.challenge()
    db.session.commit()
    response = client.get("/challenges", query_string={"page": page})
    assert response.status_code == 200


def test_nul_in_a_query_parameter_is_refused_with_a_clear_message(client):
    response = client.get("/challenges?q=Nord%00licht")
    assert response.status_code == 400
    assert NUL_MESSAGE in _text(response) and "Ungültige Anfrage" in _text(response)
    assert '<html lang="de"' in _text(response)  # the site's page, not a bare error


def test_nul_in_the_path_is_refused(client):
    response = client.get("/organisations/nord%00licht")
    assert response.status_code == 400 and NUL_MESSAGE in _text(response)


def test_nul_in_a_form_field_is_refused_and_nothing_is_stored(client, login):
    user = f.user()
    db.session.commit()
    login(user)
    response = client.post("/account/organisations/new", data={
        "name": "Nordlicht", "kind": "startup", "description": "Wir\x00bauen"})
    assert response.status_code == 400 and NUL_MESSAGE in _text(response)
    assert db.session.execute(select(Organisation)).first() is None


def test_nul_in_a_field_name_or_a_file_name_is_refused(client, login):
    login(f.user())
    assert client.post("/account/organisations/new",
                       data={"na\x00me": "x"}).status_code == 400
    response = client.post("/account/organisations/new", data={
        "name": "Nordlicht", "logo": (io.BytesIO(b"%PDF-1.4"), "a\x00.pdf")})
    assert response.status_code == 400


def test_registration_with_nul_is_refused_for_a_visitor(client):
    response = client.post("/register", data={"email": "a@example.org", "name": "An\x00na"})
    assert response.status_code == 400 and NUL_MESSAGE in _text(response)
    assert db.session.execute(select(User)).first() is None


def test_the_message_is_in_the_users_language(client, login):
    login(f.user(locale="en"))
    response = client.get("/challenges?q=%00")
    assert response.status_code == 400 and '<html lang="en"' in _text(response)


@pytest.mark.parametrize("body", ['{"q": "a\\u0000b"}', '{"x": ["\\ud800"]}',
                                  '{"\\u0000": 1}'])
def test_json_bodies_with_nul_or_a_lone_surrogate_are_refused(client, body):
    response = client.post("/language", data=body, content_type="application/json")
    assert response.status_code == 400 and NUL_MESSAGE in _text(response)


def test_the_open_data_api_refuses_nul_as_problem_json(client):
    response = client.get("/api/v1/challenges?q=a%00b")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 400
    assert "cannot be stored" in response.get_json()["detail"]


@pytest.mark.parametrize("query", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}])
def test_impossible_dates_in_the_audit_filter_get_a_message(client, login, query):
    login(f.user(roles=["admin"]))
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 422
    assert "zwischen dem 01.01.1900 und dem 31.12.2999" in _text(response)


def test_a_milestone_far_in_the_future_is_refused_with_a_message(client, login):
    member = f.user()
    p = f.proposal(f.organisation(owner=member), status="running")
    db.session.commit()
    login(member)
    response = client.post(f"/workspace/{p.id}/milestones", data={
        "milestone-title": "Abnahme", "milestone-due_date": "9999-12-31"})
    assert response.status_code == 422
    assert "zwischen dem 01.01.1900 und dem 31.12.2999" in _text(response)


def test_a_version_beyond_the_database_is_like_none(client, login):
    owner = f.user()
    org = f.organisation(owner=owner)
    db.session.commit()
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/edit", data={
        "name": "Nordlicht GmbH", "kind": "startup", "version": "99999999999999999999"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "Nordlicht GmbH"
