"""The shipped gunicorn.conf.py: real gunicorn serves the app with it, the app learns the
number of workers and threads, gunicorn writes no access log of its own (the app does), and
SIGTERM stops it cleanly."""
from __future__ import annotations

import os
import runpy

import pytest
import requests

from tests.gunicorn import CONFIG, Gunicorn, app_environment

SETTINGS = ("WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_THREADS", "GUNICORN_TIMEOUT",
            "GUNICORN_GRACEFUL_TIMEOUT", "GUNICORN_KEEPALIVE", "GUNICORN_MAX_REQUESTS",
            "GUNICORN_MAX_REQUESTS_JITTER", "FORWARDED_ALLOW_IPS")


def test_gunicorn_serves_the_app_with_the_shipped_configuration(app, tmp_path):
    env = {**app_environment(app, tmp_path), "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}
    with Gunicorn(env, tmp_path) as server:
        health = requests.get(f"{server.url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        home = requests.get(f"{server.url}/", timeout=10)  # a page read from the database
        assert home.status_code == 200 and "InnoLab" in home.text
        # nginx on this machine may say the request came over https
        robots = requests.get(f"{server.url}/robots.txt", timeout=10,
                              headers={"X-Forwarded-Proto": "https"})
        assert f"Sitemap: https://127.0.0.1:{server.port}/sitemap.xml" in robots.text
        metrics = requests.get(f"{server.url}/metrics", timeout=10).text
        # the app knows its threads: 4, one kept free to refuse what does not fit
        assert "innolab_http_requests_in_progress_limit 3.0" in metrics
    assert server.stop() == 0  # SIGTERM: a graceful stop
    log = server.output()
    assert "Using worker: gthread" in log
    assert log.count("Booting worker with pid") == 2
    assert "innolab.access" in log and "GET / 200" in log  # the app's own access line
    assert '"GET / HTTP/1.1" 200' not in log  # … and no access line of gunicorn's


def test_the_defaults_of_the_configuration(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(str(CONFIG))
    cores = len(os.sched_getaffinity(0))
    assert settings["workers"] == min(2 * cores + 1, 8)
    assert settings["threads"] == 4 and settings["worker_class"] == "gthread"
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert (settings["timeout"], settings["graceful_timeout"], settings["keepalive"]) == (
        30, 30, 5)
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (2000, 200)
    assert settings["accesslog"] is None
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert settings["preload_app"] is False
    if os.access("/dev/shm", os.W_OK):
        assert settings["worker_tmp_dir"] == "/dev/shm"


def test_a_setting_that_is_not_a_number_stops_gunicorn_with_its_name(monkeypatch):
    monkeypatch.setenv("GUNICORN_THREADS", "vier")
    with pytest.raises(SystemExit, match="GUNICORN_THREADS must be a whole number"):
        runpy.run_path(str(CONFIG))
