"""The app under real gunicorn with the shipped gunicorn.conf.py, on a free port of this
machine, for the tests and bench/overload.py."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
CONFIG = ROOT / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`with Gunicorn(env, tmp) as server:` – gunicorn serving `app` (default wsgi:app) with
    gunicorn.conf.py; `server.url`, and `server.output()` for what it wrote to stderr.

    `env` is the app's environment (DATABASE_URL, UPLOAD_FOLDER, …); nothing of the calling
    process's own settings is passed on except PATH, HOME and the locale."""

    def __init__(self, env: dict[str, str], tmp: Path, app: str = "wsgi:app",
                 args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tmp) / f"gunicorn-{self.port}.log"
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
                    "GUNICORN_BIND": f"127.0.0.1:{self.port}", **env}
        self.command = [str(GUNICORN), "--config", str(CONFIG), *args, app]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self._stderr = self.log.open("wb")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=self._stderr,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n"
                                   f"{self.output()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{self.output()}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> int | None:
        """SIGTERM (a graceful stop), then its exit code; killed if it does not end."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._stderr.close()
        return self.process.returncode

    def output(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.log.read_text(errors="replace")


def app_environment(app, tmp: Path) -> dict[str, str]:
    """The environment of a server on the suite's database (SQLite file or PostgreSQL)."""
    for name in ("uploads", "exports"):
        (Path(tmp) / name).mkdir(exist_ok=True)
    return {"INNOLAB_ENV": "testing",
            "SECRET_KEY": app.config["SECRET_KEY"],
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": str(Path(tmp) / "uploads"),
            "DATA_EXPORT_FOLDER": str(Path(tmp) / "exports"),
            "RATELIMIT_ENABLED": "false",
            "MAIL_SEND_AFTER_REQUEST": "false"}
