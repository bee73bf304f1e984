"""A name an identity provider sends is cleaned, not refused: no control characters, no bidi
overrides, no web address – the person did not type it here, and the sign-in must go on."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.domain import identities
from innolab.domain.identities import parse_providers
from innolab.extensions import db
from innolab.models import OutboxMail, User

EMAIL = "erika.mustermann@example.org"
EVIL = "Erika \u202eMustermann bestätigen Sie sofort unter https://zdmv-login.example/verify"
PROVIDER = {"key": "land", "kind": "oidc", "issuer": "https://login.land.example/realms/mv",
            "client_id": "innolab", "client_secret": "s3cr3t"}


def test_sign_up_through_a_provider_cleans_the_name_and_mails_no_address(flow, app):
    response = flow.sign_in(sub="p-evil", email=EMAIL, email_verified=False, name=EVIL)
    assert response.status_code == 303
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == EMAIL)).scalar_one()
        assert user.name == "Erika Mustermann bestätigen Sie sofort unter"
        (mail,) = db.session.execute(select(OutboxMail)).scalars()
        assert "zdmv-login" not in mail.body_text and "zdmv-login" not in mail.body_html


@pytest.mark.parametrize("claims,name", [
    ({"name": "www.zdmv-login.de", "given_name": "Erika", "family_name": "Muster\nmann"},
     "Erika Mustermann"),
    ({"name": "https://x.example", "preferred_username": "erika.example.org"}, None),
])
def test_oidc_claims_fall_back_when_the_name_was_only_an_address(claims, name):
    (p,) = parse_providers([PROVIDER])
    assert identities.claims_from_oidc(p, {"sub": "1", **claims}).name == name


def test_github_name_with_an_address_is_cleaned():
    claims = identities.claims_from_github(
        {"id": 7, "name": "Erika (evil.example)", "login": "erika"}, [])
    assert claims.name == "Erika"
