"""Password fields are masked and work with password managers on every page that has one."""
from __future__ import annotations

import re

from innolab.domain import registration
from tests import factories
from tests.integration.auth_support import sign_in

INPUT = re.compile(r"<input\b[^>]*>", re.S)


def _password_inputs(html: str) -> list[str]:
    return [tag for tag in INPUT.findall(html) if re.search(r'name="[^"]*password[^"]*"', tag)]


def _check(html: str, page: str) -> None:
    inputs = _password_inputs(html)
    assert inputs, f"{page}: no password field"
    for tag in inputs:
        assert 'type="password"' in tag, f"{page}: unmasked {tag}"
        assert re.search(r'autocomplete="(current|new)-password"', tag), f"{page}: {tag}"
    assert "onpaste" not in html and 'autocomplete="off"' not in " ".join(inputs)


def test_every_password_field_is_masked_and_open_to_password_managers(client, app_ctx):
    user = factories.user(email="erika@example.org")
    token = registration.make_token("reset", user)
    for path in ("/login", "/register", f"/password/reset/{token}"):
        _check(client.get(path).get_data(as_text=True), path)
    sign_in(client, "erika@example.org", factories.PASSWORD)
    _check(client.get("/account/password").get_data(as_text=True), "/account/password")
