"""Names and titles refuse control characters and bidi overrides in every form, with a clear
message, and the page keeps what was typed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.accounts.forms import OrganisationForm
from innolab.admin.forms import AuthorityForm, InviteStaffForm, PageForm, TopicForm
from innolab.auth.forms import RegisterForm, SettingsForm
from innolab.challenges.forms import ChallengeForm
from innolab.extensions import db
from innolab.models import Organisation, User
from innolab.pilots.forms import DocumentForm, GoalForm, MilestoneForm
from innolab.proposals.forms import ProposalForm
from tests import factories as f

MESSAGE = ("Bitte verwenden Sie hier keine Zeilenumbrüche, Tabulatoren oder anderen "
           "Steuerzeichen und keine Zeichen, die die Schreibrichtung umkehren.")

FIELDS = [
    (RegisterForm, "name"), (SettingsForm, "name"), (OrganisationForm, "name"),
    (OrganisationForm, "city"), (InviteStaffForm, "name"), (AuthorityForm, "name"),
    (AuthorityForm, "short_name"), (TopicForm, "name_de"), (TopicForm, "name_en"),
    (PageForm, "title"), (ChallengeForm, "title"), (ProposalForm, "title"),
    (ProposalForm, "contact_name"), (GoalForm, "title"), (MilestoneForm, "title"),
    (DocumentForm, "title"),
]
BAD = ["Nordlicht\r\nBcc: x@example.org", "Nord\nlicht", "Nord\x00licht", "Nord\tlicht",
       "Nord\u202elicht", "Nord\u2067licht"]


@pytest.mark.parametrize("form_class,name", FIELDS)
def test_single_line_field_refuses_control_characters(app, form_class, name):
    for bad in BAD:
        with app.test_request_context(method="POST", data={name: bad}):
            field = form_class()[name]
            assert not field.validate(form_class()), (name, bad)
            assert MESSAGE in [str(e) for e in field.errors], (name, bad)


@pytest.mark.parametrize("form_class,name", FIELDS)
def test_single_line_field_takes_ordinary_names(app, form_class, name):
    with app.test_request_context(method="POST", data={name: "Müller & Söhne „Nord“"}):
        field = form_class()[name]
        field.validate(form_class())
        assert MESSAGE not in [str(e) for e in field.errors]


def test_registration_with_line_break_in_name_is_refused_and_keeps_input(client, app_ctx):
    response = client.post("/register", data={
        "email": "anna@example.org", "name": "Anna\r\nBcc: x@example.org",
        "password": "Sonnenblumen am Schweriner See",
        "password_confirm": "Sonnenblumen am Schweriner See", "consent": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert MESSAGE in html and 'value="anna@example.org"' in html
    assert db.session.execute(select(User)).first() is None


def test_organisation_name_with_bidi_override_is_refused(client, login, app_ctx):
    login(f.user())
    response = client.post("/account/organisations/new", data={
        "name": "Nordlicht \u202eHbmG", "kind": "startup", "city": "Rostock"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert MESSAGE in html and 'value="Rostock"' in html
    assert db.session.execute(select(Organisation)).first() is None
