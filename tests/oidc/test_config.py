"""OIDC_PROVIDERS: reading the configuration, and the claims the providers send."""
from __future__ import annotations

import json

import pytest

from innolab.domain import identities
from innolab.domain.identities import ConfigurationError, parse_providers

KEYCLOAK = {
    "key": "land", "kind": "oidc", "issuer": "https://login.land.example/realms/mv",
    "client_id": "innolab", "client_secret": "s3cr3t",
    "display_name": "Keycloak des Landes", "button_label": "Mit Keycloak des Landes anmelden",
}


def test_no_providers_configured_is_fine():
    assert parse_providers("") == [] and parse_providers(None) == [] and parse_providers("[]") == []


def test_oidc_provider_is_read_with_safe_defaults():
    (p,) = parse_providers(json.dumps([KEYCLOAK]))
    assert (p.key, p.kind, p.issuer, p.client_id) == ("land", "oidc", KEYCLOAK["issuer"], "innolab")
    assert p.scopes == ("openid", "email", "profile")
    assert p.discovery_url == \
        "https://login.land.example/realms/mv/.well-known/openid-configuration"
    assert not p.staff and p.role_map == {}
    assert p.display_name == "Keycloak des Landes"


def test_openid_scope_is_always_requested():
    (p,) = parse_providers([{**KEYCLOAK, "scopes": "email groups"}])
    assert p.scopes == ("openid", "email", "groups")


def test_github_provider_gets_github_urls_unless_overridden():
    (p,) = parse_providers([{"key": "github", "kind": "github", "client_id": "a",
                             "client_secret": "b"}])
    assert p.authorize_url == "https://github.com/login/oauth/authorize"
    assert p.token_url == "https://github.com/login/oauth/access_token"
    assert p.api_base_url == "https://api.github.com/"
    assert p.scopes == ("read:user", "user:email")
    (q,) = parse_providers([{"key": "gh", "kind": "github", "client_id": "a", "client_secret": "b",
                             "api_base_url": "https://ghe.example/api/v3"}])
    assert q.api_base_url == "https://ghe.example/api/v3/"


def test_staff_provider_with_role_map():
    (p,) = parse_providers([{**KEYCLOAK, "staff": True, "roles_claim": "groups",
                             "role_map": {"innolab-reviewers": "reviewer",
                                          "innolab-leitung": ["decider", "coordinator"]}}])
    assert p.staff and p.managed_roles == {"reviewer", "decider", "coordinator"}
    assert identities.mapped_roles(p, ["/innolab-leitung", "x"]) == {"decider", "coordinator"}


@pytest.mark.parametrize("raw, message", [
    ("{not json", "not valid JSON"),
    ('{"key": "x"}', "JSON list"),
    ([{**KEYCLOAK, "key": "Land mit Leerzeichen"}], "lower-case"),
    ([KEYCLOAK, KEYCLOAK], "used twice"),
    ([{**KEYCLOAK, "kind": "saml"}], "kind"),
    ([{k: v for k, v in KEYCLOAK.items() if k != "issuer"}], "issuer"),
    ([{k: v for k, v in KEYCLOAK.items() if k != "client_secret"}], "client_secret"),
    ([{**KEYCLOAK, "issuer": "http://login.land.example/realms/mv"}], "https"),
    ([{**KEYCLOAK, "staff": True, "roles_claim": "groups", "role_map": {"g": "king"}}], "king"),
    ([{**KEYCLOAK, "role_map": {"g": "reviewer"}, "roles_claim": "groups"}], "not marked"),
    ([{**KEYCLOAK, "staff": True, "role_map": {"g": "reviewer"}}], "roles_claim"),
    ([{**KEYCLOAK, "staff": "yes"}], "true or false"),
    ([{**KEYCLOAK, "clientid": "x"}], "unknown setting"),
    ([{**KEYCLOAK, "authorize_url": "https://x.example"}], "kind github"),
])
def test_configuration_mistakes_are_named(raw, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_providers(raw)


def test_http_issuer_allowed_on_this_machine_only():
    (p,) = parse_providers([{**KEYCLOAK, "issuer": "http://127.0.0.1:8080/realms/mv"}])
    assert p.issuer.startswith("http://127.0.0.1")


def test_oidc_claims_are_normalised():
    (p,) = parse_providers([{**KEYCLOAK, "staff": True, "roles_claim": "realm_access.roles",
                             "role_map": {"innolab-reviewers": "reviewer"}}])
    claims = identities.claims_from_oidc(p, {
        "sub": "abc", "email": " Erika@Example.org ", "email_verified": "true",
        "given_name": "Erika", "family_name": "Mustermann", "locale": "de-DE",
        "realm_access": {"roles": ["innolab-reviewers", "offline_access"]},
    })
    assert claims.subject == "abc" and claims.email == "Erika@Example.org"
    assert claims.email_verified is True
    assert claims.name == "Erika Mustermann" and claims.locale == "de"
    assert claims.groups == ["innolab-reviewers", "offline_access"]


def test_oidc_claims_without_verification_are_unverified():
    (p,) = parse_providers([KEYCLOAK])
    claims = identities.claims_from_oidc(p, {"sub": "abc", "email": "a@example.org",
                                             "locale": "fr"})
    assert claims.email_verified is False and claims.locale is None


def test_oidc_claims_without_subject_are_refused():
    (p,) = parse_providers([KEYCLOAK])
    with pytest.raises(ValueError):
        identities.claims_from_oidc(p, {"email": "a@example.org"})


def test_github_claims_need_a_numeric_id():
    with pytest.raises(ValueError):
        identities.claims_from_github({"id": "12", "login": "x"}, [])


def test_app_without_providers_registers_the_blueprint_and_shows_no_buttons(tmp_path):
    from flask import render_template

    from innolab import create_app

    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "OIDC_PROVIDERS": "", "SECRET_KEY": "x"})
    if "oidc" not in app.blueprints:
        import innolab.oidc

        app.register_blueprint(innolab.oidc.bp)
    assert "oidc" in app.blueprints
    with app.test_request_context("/login"):
        assert identities.providers() == []
        assert render_template("oidc/_buttons.html").strip() == ""
    assert app.test_client().post("/login/external/land").status_code in (400, 404)


def test_app_refuses_to_start_with_a_broken_configuration(tmp_path):
    import innolab.oidc
    from innolab import create_app

    with pytest.raises(ConfigurationError):
        app = create_app({"TESTING": True, "OIDC_PROVIDERS": "[{", "SECRET_KEY": "x",
                          "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
        if "oidc" not in app.blueprints:
            app.register_blueprint(innolab.oidc.bp)


def test_signup_policy_defaults_open_and_trusts_only_the_claim():
    (p,) = parse_providers([KEYCLOAK])
    assert (p.signup, p.signup_domains, p.email_trust) == ("open", (), "claim")
    verified = identities.Claims(subject="1", email="a@b.example", email_verified=True)
    unverified = identities.Claims(subject="1", email="a@b.example")
    assert p.trusts_address(verified) and not p.trusts_address(unverified)


def test_signup_policy_is_read():
    (p,) = parse_providers([{**KEYCLOAK, "signup": "link-only", "email_trust": "never",
                             "signup_domains": ["@ZDMV.example", "land-mv.de"]}])
    assert p.signup == "link-only" and p.signup_domains == ("zdmv.example", "land-mv.de")
    assert not p.signup_allowed("a@zdmv.example")
    assert not p.trusts_address(identities.Claims(subject="1", email_verified=True))
    (q,) = parse_providers([{**KEYCLOAK, "signup_domains": "zdmv.example",
                             "email_trust": "always"}])
    assert q.signup_allowed("a@zdmv.example") and not q.signup_allowed("a@evil-zdmv.example")
    assert q.trusts_address(identities.Claims(subject="1"))


@pytest.mark.parametrize("setting, message", [
    ({"signup": "closed"}, "signup of 'land' must be one of"),
    ({"signup_domains": ["not a domain"]}, "signup_domains of 'land'"),
    ({"signup_domains": {"zdmv.example": True}}, "signup_domains of 'land'"),
    ({"email_trust": True}, "email_trust of 'land' must be one of"),
])
def test_signup_policy_mistakes_are_named(setting, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_providers([{**KEYCLOAK, **setting}])


def test_github_cannot_be_told_to_trust_every_address():
    with pytest.raises(ConfigurationError, match="verified primary address"):
        parse_providers([{"key": "github", "kind": "github", "client_id": "a",
                          "client_secret": "b", "email_trust": "always"}])


def test_overage_claims_mark_the_groups_incomplete():
    (p,) = parse_providers([{**KEYCLOAK, "staff": True, "roles_claim": "groups",
                             "role_map": {"g": "reviewer"}}])
    claims = identities.claims_from_oidc(p, {"sub": "1", "_claim_names": {"groups": "src1"}})
    assert claims.groups_incomplete and claims.groups == []
    assert identities.claims_from_oidc(p, {"sub": "1", "hasgroups": True}).groups_incomplete
    assert not identities.claims_from_oidc(p, {"sub": "1", "groups": []}).groups_incomplete


def test_github_only_the_verified_primary_address_counts():
    user = {"id": 7, "login": "m"}
    claims = identities.claims_from_github(user, [
        {"email": "other@example.org", "primary": False, "verified": True},
        {"email": "main@example.org", "primary": True, "verified": False}])
    assert (claims.email, claims.email_verified) == ("main@example.org", False)
    claims = identities.claims_from_github(user, [
        {"email": "main@example.org", "primary": True, "verified": True}])
    assert (claims.email, claims.email_verified) == ("main@example.org", True)
