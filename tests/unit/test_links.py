"""Links for outside the request: one rule (innolab.links)."""
from __future__ import annotations

import pytest

from innolab import links


@pytest.fixture
def config(app):
    saved = {k: app.config.get(k) for k in ("BASE_URL", "INNOLAB_ENV")}
    yield app.config
    app.config.update(saved)


def test_link_starts_with_base_url_whatever_the_request_host(app, config):
    config["BASE_URL"] = "https://innolab.zdmv.example/"
    config["INNOLAB_ENV"] = "production"
    with app.test_request_context(base_url="http://attacker.example"):
        assert links.external_url("auth.login") == "https://innolab.zdmv.example/login"
        assert links.absolute("/proposals/3") == "https://innolab.zdmv.example/proposals/3"
        assert links.absolute(None) is None


def test_link_in_development_without_base_url_takes_the_request_host(app, config):
    config["BASE_URL"] = ""
    config["INNOLAB_ENV"] = "development"
    with app.test_request_context(base_url="http://localhost:8080"):
        assert links.external_url("auth.login") == "http://localhost:8080/login"


def test_link_without_request_and_base_url_uses_the_dev_default_in_tests(app, config):
    config["BASE_URL"] = ""
    config["INNOLAB_ENV"] = "testing"
    with app.app_context():
        assert links.absolute("/login") == links.DEV_BASE_URL + "/login"


def test_link_in_production_without_base_url_is_refused(app, config):
    config["BASE_URL"] = ""
    config["INNOLAB_ENV"] = "production"
    with app.test_request_context(base_url="http://innolab.example"), \
            pytest.raises(links.NoBaseURL, match="BASE_URL must be set"):
        links.external_url("auth.login")
    with app.app_context(), pytest.raises(links.NoBaseURL):
        links.absolute("/login")


def test_commands_and_the_worker_link_to_base_url_or_the_dev_default(app, config):
    config["INNOLAB_ENV"] = "development"
    config["BASE_URL"] = ""
    with links.command_context(app):
        assert links.external_url("auth.login") == "http://127.0.0.1:5000/login"
    config["BASE_URL"] = "https://innolab.zdmv.example"
    with links.command_context(app):
        assert links.external_url("auth.login") == "https://innolab.zdmv.example/login"
