"""What every blueprint shares: rendering (full page or htmx block), refusals, redirects."""
from __future__ import annotations

import functools
import io
import time
import unicodedata
from urllib.parse import quote, urljoin, urlsplit

from flask import (
    Request, abort, current_app, flash, g, make_response, redirect, render_template, request,
    send_file, session, url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException, RequestedRangeNotSatisfiable
from werkzeug.http import dump_options_header
from werkzeug.wrappers import Response as BaseResponse

from ..domain import sessions, storage
from ..extensions import htmx
from .input_checks import bounded_int


# Endpoints whose form may be larger than MAX_CONTENT_LENGTH: endpoint -> the config key of
# its file limit (one MB more is allowed for the other fields of the form).
LARGE_UPLOADS = {"admin.sign_language": "SIGN_LANGUAGE_VIDEO_MAX_BYTES"}


class InnoLabRequest(Request):
    """The request with a larger body limit for the few endpoints in LARGE_UPLOADS.

    The endpoint is known once the URL is matched, before any before_request handler (such
    as the CSRF check) reads the form."""

    @property
    def max_content_length(self) -> int | None:
        key = LARGE_UPLOADS.get(self.endpoint or "")
        if key and current_app:
            return int(current_app.config[key]) + 1024 * 1024
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the page, or only `block` of it for an htmx request (same route, same data).

    When htmx restores a page from history (back button) it needs the whole page.
    """
    partial = bool(block and htmx and not htmx.history_restore_request)
    context.setdefault("partial", partial)  # templates may add out-of-band parts to a block
    if block and partial:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str, code: int = 303):
    """A redirect that also works for htmx requests (HX-Redirect)."""
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=code)


def require(permission) -> None:
    """Abort with 404 (hidden) or 403 (with the reason shown) unless allowed. A reviewer whose
    proposal waits for their confirmation that they have no conflict of interest is sent to
    that question first (and back to the page they asked for, for a GET)."""
    if not permission:
        if getattr(permission, "awaiting", None) is not None:
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            abort(redirect_to(url_for("review.gate", proposal_id=permission.awaiting,
                                      next=back)))
        if permission.hide:
            abort(404)
        abort(403, description=str(permission.reason) if permission.reason else None)


def safe_next(target: str | None, fallback: str) -> str:
    """A redirect target that stays on this site."""
    if not target:
        return fallback
    target = target.strip().replace("\\", "/")
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    joined = urlsplit(urljoin(request.host_url, target))
    if joined.netloc != urlsplit(request.host_url).netloc or joined.scheme not in ("http", "https"):
        return fallback
    return target


# Endpoints that a GET answers with a file, not a page: never where an action "belongs".
NOT_PAGES = frozenset({"proposals.download", "pilots.document_version", "privacy.download",
                       "static"})


def page_of_action(path: str) -> str | None:
    """The page an action's address belongs to: the nearest shorter path that a GET answers
    with a page (`/staff/review/proposals/5/act` → `/staff/review/proposals/5`).

    An action answers a refused form with the page and its message at its own address, which
    only POST reaches: a reload there would be a 405. The page marks the address it belongs
    to (the browser's address bar is set to it, `templates/base.html`), and a GET of the
    action's address is sent there (`web/errors.py`)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    parts = path.rstrip("/").split("/")
    while len(parts) > 1:
        parts = parts[:-1]
        stem = "/".join(parts)
        for candidate in (stem or "/", stem + "/"):
            try:
                endpoint, _values = adapter.match(candidate, method="GET")
            except HTTPException:  # not found, POST only, or the other slash form
                continue
            if endpoint not in NOT_PAGES:
                return candidate
    return None


def page_after_post() -> str | None:
    """For a page rendered in answer to a POST-only address: the page it belongs to."""
    rule = request.url_rule
    if request.method != "POST" or rule is None or "GET" in (rule.methods or ()):
        return None
    return page_of_action(request.path)


MAX_PAGE = 100_000  # as the API's: a page after the last one is empty, and OFFSET stays small


def page_number(name: str = "page") -> int:
    """The page asked for in the query: 1 when it is not a number, at most MAX_PAGE."""
    number = bounded_int(request.args.get(name))
    return 1 if number is None or number < 1 else min(number, MAX_PAGE)


def content_disposition(filename: str, as_attachment: bool = True) -> str:
    """The Content-Disposition that `send_file` gives a download named `filename` (also asked
    of the storage for a presigned download)."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple,
                 "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}
    else:
        names = {"filename": filename}
    return dump_options_header("attachment" if as_attachment else "inline", names)


def send_from_storage(store: storage.Storage, name: str, *, mimetype: str,
                      as_attachment: bool = False, download_name: str | None = None,
                      conditional: bool = False, etag: bool = False):
    """A stored file as the response: from the disk as `send_file` sends any file (the
    filesystem backend), else streamed from the storage, with its size, and with Range
    requests answered when `conditional` (a video). FileNotFoundError when it is not there;
    a storage that cannot be reached raises StorageUnavailable (a 503 page, web/errors.py)."""
    path = store.local_path(name)
    if path is not None:
        return send_file(path, mimetype=mimetype, as_attachment=as_attachment,
                         download_name=download_name, conditional=conditional, etag=etag,
                         max_age=None)
    stream = store.open(name)
    size = getattr(stream, "size", None)
    response = send_file(stream, mimetype=mimetype, as_attachment=as_attachment,
                         download_name=download_name, conditional=False, etag=False,
                         last_modified=getattr(stream, "modified", None), max_age=None)
    if size is not None:
        response.content_length = size
    if etag:  # a stored name is never written twice: it names its content
        response.set_etag(name)
    if not conditional:
        return response
    try:
        return response.make_conditional(request.environ, accept_ranges=True,
                                         complete_length=size)
    except RequestedRangeNotSatisfiable:
        stream.close()
        raise


def send_stored_file(stored, fallback_name: str):
    """An uploaded file (attachment, document version) as a download, 404 if it is gone.

    `stored` has `stored_name`, `content_type` and `filename`; call it only once the viewer
    may have the file. The browser may neither guess another type nor run anything in it, and
    nothing keeps a copy. With S3 and S3_PRESIGNED_DOWNLOADS the answer is a redirect to a
    short-lived presigned address of the object (which the storage serves as an attachment
    with the same name and type); else the app sends the file itself.
    """
    download_name = stored.filename or fallback_name
    store = storage.current()
    response: BaseResponse
    try:
        url = store.download_url(stored.stored_name, content_disposition(download_name),
                                 stored.content_type)
        if url is not None:
            response = redirect(url, code=302)
        else:
            response = send_from_storage(store, stored.stored_name,
                                         mimetype=stored.content_type, as_attachment=True,
                                         download_name=download_name)
    except FileNotFoundError:
        abort(404)
    if url is not None:
        response.headers["Referrer-Policy"] = "no-referrer"
    return _download_headers(response)


def send_bytes(data: bytes, download_name: str, content_type: str):
    """A file made for this answer (an attachment's copy without metadata) as a download,
    with the headers of `send_stored_file`."""
    response = send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True,
                         download_name=download_name, max_age=None)
    return _download_headers(response)


def _download_headers(response):
    """The browser may neither guess another type nor run anything in a download, and
    nothing keeps a copy."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# Keys of the signed session cookie that say how this session was signed in.
SIGN_IN_METHOD_KEY = "innolab_method"        # "password", "provider:<key>", "reset_link", …
SECOND_FACTOR_KEY = "innolab_second_factor"  # a second factor (or the provider's) was shown
RECENT_AUTH_KEY = "innolab_recent_auth"      # epoch seconds of the last proof of identity


def start_session(user, method: str = "password", *, second_factor: bool = False) -> None:
    """Sign `user` in with a fresh session: nothing of the old one survives but the chosen
    language (no session fixation, no data of the anonymous visit).

    `method` says how the person proved who they are; `second_factor` whether a second factor
    (or a provider's assurance of one) was part of it. A sign-in is a proof of identity: the
    session counts as recently authenticated (see `recent_auth_required`).

    The session is a row of `user_sessions` (domain/sessions.py) that the person sees under
    "Angemeldete Geräte"; the cookie keeps its random token as Flask-Login's id. A session
    this browser had before (another person's, or the same person's) ends here.
    """
    lang = session.get("lang")
    sessions.end_by_token(session.get("_user_id"), "replaced")
    session.clear()
    if lang:
        session["lang"] = lang
    token, row = sessions.open_session(
        user, method, second_factor=second_factor, client_address=request.remote_addr,
        user_agent=request.headers.get("User-Agent"))
    user.use_session_token(token)
    g.innolab_session_id = row.id
    login_user(user)
    session.permanent = True
    session[SIGN_IN_METHOD_KEY] = method
    session[SECOND_FACTOR_KEY] = bool(second_factor)
    mark_recent_auth()


def current_session_id() -> int | None:
    """The id of this browser's row in `user_sessions` (None when nobody is signed in)."""
    return g.get("innolab_session_id")


def landing_page() -> str:
    """Where a sign-in ends when no page was asked for: the person's own task list."""
    return url_for("tasks.index")


def mark_recent_auth() -> None:
    """The person has just proved who they are again (password, second factor, provider)."""
    session[RECENT_AUTH_KEY] = int(time.time())


def has_recent_auth(max_age: int | None = None) -> bool:
    if max_age is None:
        max_age = current_app.config["REAUTH_MAX_AGE"]
    at = session.get(RECENT_AUTH_KEY)
    return isinstance(at, int) and 0 <= time.time() - at <= max_age


def recent_auth_required(view):
    """Sensitive changes (e-mail, password, second factors, linking a provider, staff roles)
    need a proof of identity within REAUTH_MAX_AGE seconds; else the person confirms it on
    the re-authentication page and comes back. A POST is not replayed: the person returns to
    the page the form was on and sends it again."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated and not has_recent_auth():
            return ask_for_recent_auth()
        return view(*args, **kwargs)
    return wrapped


def ask_for_recent_auth():
    """The answer of `recent_auth_required`: off to the re-authentication page, and back to
    this page (a GET) or to the page the form was sent from (a POST) afterwards."""
    back = request.full_path if request.method == "GET" else (
        safe_next(request.referrer and urlsplit(request.referrer).path, "")
        or request.path)
    if request.method != "GET":
        flash(_("Bitte bestätigen Sie zuerst, dass Sie es sind, und senden Sie das "
                "Formular dann noch einmal."), "info")
    return redirect_to(url_for("auth.reauthenticate", next=back.rstrip("?")))
