"""Fixtures of the integration tests that more than one module may need."""
from __future__ import annotations

import errno
import os
import subprocess
from types import SimpleNamespace

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def _mount_tmpfs(path, size: str) -> str | None:
    """Mount a tmpfs of `size` at `path`; the reason why not, or None when it is mounted."""
    if os.geteuid() != 0:
        return "not running as root"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"mount -t tmpfs failed: {done.stderr.strip() or done.returncode}"
    return None


@pytest.fixture(params=["tmpfs", "injected"])
def full_upload_folder(request, app, tmp_path, monkeypatch):
    """An upload folder with less room than `.too_big` needs.

    `tmpfs`: a real 1 MB file system (needs root and the right to mount; in CI it must work).
    `injected`: an ordinary folder whose writes fail with ENOSPC after 64 KB, as a full disk
    answers, for machines where mounting is not allowed."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    mounted = False
    if request.param == "tmpfs":
        reason = _mount_tmpfs(folder, "1m")
        if reason is not None:
            if IN_CI:
                pytest.fail(f"CI needs a real tmpfs for the full-disk test: {reason}")
            pytest.skip(f"no tmpfs for the full-disk test ({reason}); the injected ENOSPC "
                        "variant runs instead")
        mounted = True
    else:
        real_write, room = os.write, {"left": 64 * 1024}
        prefix = str(folder) + os.sep

        def write(fd, data):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                target = ""
            if not target.startswith(prefix):
                return real_write(fd, data)
            if room["left"] <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written = real_write(fd, bytes(memoryview(data)[:room["left"]]))
            room["left"] -= written
            return written

        monkeypatch.setattr(os, "write", write)
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    try:
        yield SimpleNamespace(path=folder, kind=request.param,
                              too_big=pdf + b"0" * (1536 * 1024), fits=pdf)
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
