"""Static files with a fingerprint: `url_for('static', filename=...)` adds `?v=` (the first 12
hex digits of the file's SHA-256), and a static answer to a request whose `v` matches the file
is cached for a year as `immutable`. Without `v`, or with an old one, Flask's default holds
(revalidate with ETag), so an address never serves a stale file for long."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"


class Fingerprints:
    """The hash of each static file, computed once; in debug again when the file changed."""

    def __init__(self, folder: str, *, watch: bool) -> None:
        self.folder = Path(folder).resolve()
        self.watch = watch
        self._seen: dict[str, tuple[float, str]] = {}

    def of(self, filename: str) -> str | None:
        cached = self._seen.get(filename)  # only names once found inside the folder
        if cached and not self.watch:
            return cached[1]
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder):
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        if cached and cached[0] == mtime:
            return cached[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self._seen[filename] = (mtime, digest)
        return digest


def init_app(app: Flask) -> None:
    if not app.static_folder:
        return
    prints = Fingerprints(app.static_folder, watch=bool(app.debug))
    app.extensions["innolab_fingerprints"] = prints

    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = prints.of(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def _cache_fingerprinted(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code != 200:
            return response
        filename = (request.view_args or {}).get("filename")
        wanted = request.args.get("v")
        if wanted and filename and wanted == prints.of(filename):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
