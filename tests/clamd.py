"""A real clamd for the tests: started with a signature database the test writes (the EICAR
test string as its only signature, since no signatures can be downloaded here)."""
from __future__ import annotations

import os
import socket
import subprocess
import time

from innolab.domain.malware import Scanner

CLAMD = "/usr/sbin/clamd"
# The EICAR test file: every virus scanner reports it, and it is harmless.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "InnoLab-Test-EICAR"


class Clamd:
    """clamd started for one test with a signature database written by the test (EICAR only:
    no signatures can be downloaded here). `socket` and `port` are where it listens."""

    def __init__(self, where):
        self.where = where
        self.socket = str(where / "clamd.sock")
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        database = where / "db"
        database.mkdir()
        # a body signature (.ndb): any file type, anywhere in the file, these bytes
        (database / "eicar.ndb").write_text(f"{EICAR_SIGNATURE}:0:*:{EICAR.hex()}\n")
        self.conf = where / "clamd.conf"
        self.conf.write_text("\n".join([
            f"LocalSocket {self.socket}",
            f"TCPSocket {self.port}",
            "TCPAddr 127.0.0.1",
            f"DatabaseDirectory {database}",
            f"TemporaryDirectory {where}",
            f"LogFile {where / 'clamd.log'}",
            f"PidFile {where / 'clamd.pid'}",
            "Foreground yes",
            "SelfCheck 0",
            "",
        ]))

    def start(self) -> None:
        self.process = subprocess.Popen([CLAMD, "--foreground", "-c", str(self.conf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        scanner = Scanner(socket_path=self.socket, timeout=2, attempts=1)
        for _ in range(300):  # loading the database takes a moment; at most a minute
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"clamd did not start: {err}{self.log()}")
            if os.path.exists(self.socket) and scanner.ping():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"clamd did not answer within a minute: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.where / "clamd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
