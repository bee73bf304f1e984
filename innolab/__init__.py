"""The InnoLab platform of the ZDMV."""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, flash, g, message_flashed, redirect, request, session
from flask_babel import get_locale, gettext
from .config import check_config, cookie_names, database_time_limits, load_config
from . import logsafe
from werkzeug.middleware.proxy_fix import ProxyFix
from .web import (
    InnoLabRequest, assets, errors, input_checks, observability, once, pagecache, security,
    shedding,
)
import importlib
from . import cli, doctor
from . import models  # noqa: F401  (every table known to SQLAlchemy and Alembic)
from .domain import audit, mailer, sessions
from .domain.plaintext import excerpt, from_markdown
from .web import (
    RECENT_AUTH_KEY, SECOND_FACTOR_KEY, SIGN_IN_METHOD_KEY, page_after_post, safe_next,
)
from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
from innolab.i18n import (
    CONTENT_LOCALE, flash_messages, format_date, format_datetime, format_euro,
    in_content_lang, lang_attr, lazy_gettext as _l, localized, record_flash_locale,
)
from .web.mail_delivery import delivery_thread
from flask import current_app
from flask_login import current_user, login_url
from .domain import permissions
from .domain.actors import display_actor
from .domain import anonymise, questions
from .domain.states import status_label, timeline_label
from .web.text import markdown

ROOT = Path(__file__).resolve().parent.parent

BLUEPRINTS = ("showcase", "auth", "accounts", "proposals", "review", "challenges", "admin", "oidc",
              "results", "notifications", "pilots", "api", "site", "ops", "privacy", "mfa", "tasks")


def create_app(config: dict | None = None, *, check: bool = True) -> Flask:
    """The app. `check=False` skips the start-up refusals (config.check_config): only for
    `python -m innolab doctor`, which reports them all instead."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )

    app.request_class = InnoLabRequest
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    cookie_names(app.config)
    database_time_limits(app.config)
    if check:
        check_config(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if (app.config.get("STORAGE_BACKEND") or "filesystem") == "filesystem":
        Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)

    observability.configure_logging(app)  # LOG_FORMAT: json or the human format

    logsafe.install()  # no control character from a request reaches a log line as it is
    # Tokens, codes and verifiers must never reach the log.
    logging.getLogger("authlib").setLevel(logging.INFO)

    if app.config.get("PROXY_FIX"):
        # Flask's way to add middleware
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    # first: the request id and the clock of each request, then the int converter and the
    # check of the input before every view (its refusals carry the id too)
    observability.init_app(app)
    input_checks.init_app(app)
    _init_extensions(app)
    _init_templates(app)

    security.init_app(app)
    assets.init_app(app)  # fingerprinted static addresses, cached for a year
    errors.init_app(app)
    once.init_app(app)


    for name in BLUEPRINTS:
        module = importlib.import_module(f"innolab.{name}")
        app.register_blueprint(module.bp)

    # after the blueprints' hooks: a kept visitor's page is served once the request was
    # checked and its language chosen, and it is kept before the security headers are set
    pagecache.init_app(app)

    # last, so it wraps everything: beyond MAX_CONCURRENT_REQUESTS in progress a request is
    # refused before any other work is done for it
    shedding.init_app(app)
    cli.group.add_command(doctor.doctor)  # `flask innolab doctor`
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(ROOT / "innolab" / "translations"))

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


    login_manager.login_message = _l("Bitte melden Sie sich an, um diese Seite zu sehen.")

    @login_manager.user_loader
    def _load(token: str):
        # The cookie's token finds its row in user_sessions; an ended, idle, too old session
        # or a deactivated account signs nobody in (domain/sessions.py).
        found = sessions.lookup(token)
        if found.state is not sessions.State.ACTIVE or found.user is None:
            g.innolab_session_state = found.state
            return None
        user = found.user
        user.use_session_token(token)
        g.innolab_session_id = found.row.id if found.row else None
        return user

    @login_manager.unauthorized_handler
    def _unauthorized():
        # As Flask-Login's own answer; after a timeout its message was shown already.
        if not g.get("innolab_session_timed_out"):
            flash(login_manager.login_message, login_manager.login_message_category)
        # A form sent after the session ended is not sent again: back to the page it was on.
        target = request.url if request.method == "GET" else (
            safe_next(request.referrer and urlsplit(request.referrer).path, "") or "/")
        return redirect(login_url("auth.login", next_url=target))

    @app.teardown_request
    def _forget_client_ip(_exc=None):
        # Work done after the request in the same thread (a job, a command, the next test)
        # must not be recorded under this client's address.
        token = g.pop("innolab_client_ip_token", None)
        if token is not None:
            try:
                audit.client_ip.reset(token)
            except ValueError:  # set in another context: forget it all the same
                audit.client_ip.set(None)

    @app.before_request
    def _per_request_state():
        g.innolab_client_ip_token = audit.client_ip.set(request.remote_addr)
        if request.endpoint == "static" or "_user_id" not in session:
            return
        # The session is looked up first, before a view changes anything: the loader may
        # commit (the time of last use, a session found timed out).
        if current_user.is_authenticated:
            return
        state = g.pop("innolab_session_state", None)
        for key in ("_user_id", "_fresh", "_id", SIGN_IN_METHOD_KEY, SECOND_FACTOR_KEY,
                    RECENT_AUTH_KEY):
            session.pop(key, None)
        if state is not None and state.timed_out:
            g.innolab_session_timed_out = True
            flash(gettext("Ihre Sitzung ist abgelaufen, weil Sie längere Zeit nicht aktiv "
                          "waren oder die längste Dauer einer Sitzung erreicht ist. Bitte melden "
                          "Sie sich erneut an."), "info")

    @app.after_request
    def _deliver_mail(response):
        # Once the response went out, wake the process's delivery thread: the request never
        # waits for the mail server, so how long it takes never tells whether a mail was sent
        # (e.g. to a known address on registration), and a slow server never slows a page.
        if g.get("innolab_mail_queued") and app.config["MAIL_SEND_AFTER_REQUEST"]:
            g.innolab_mail_queued = False
            response.call_on_close(delivery_thread(app).wake)
        return response

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()


def _select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    # A link may name its language (?lang=en, e.g. from the sitemap): it wins for that page.
    asked = request.args.get("lang")
    if asked in languages:
        return str(asked)
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = g.get("innolab_locale") or request.cookies.get("lang") or session.get("lang")
    if chosen in languages:
        return str(chosen)
    return (request.accept_languages.best_match(languages)
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def _init_templates(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["markdown"] = markdown
    app.jinja_env.filters["date"] = lambda d, fmt="medium": format_date(d, fmt) if d else ""
    app.jinja_env.filters["datetime"] = (
        lambda d, fmt="medium": format_datetime(d, fmt) if d else ""
    )
    app.jinja_env.filters["euro"] = format_euro
    # text users entered, marked German on pages in another language (innolab/i18n.py)
    app.jinja_env.filters["de"] = in_content_lang
    app.jinja_env.globals["lang_attr"] = lang_attr
    app.jinja_env.globals["content_locale"] = CONTENT_LOCALE
    # flash messages with the language they were written in
    app.jinja_env.globals["flash_messages"] = flash_messages
    # a page answering a POST-only address: the address it belongs to (web.page_of_action)
    app.jinja_env.globals["page_after_post"] = page_after_post
    message_flashed.connect(record_flash_locale, app)
    # a challenge's or pilot's text in the page's language, or the German one (innolab/i18n.py)
    app.jinja_env.globals["localized"] = localized
    # a proposal's answers to its questions, each as it reads (domain/questions.py)
    app.jinja_env.globals["proposal_answers"] = anonymise.answered  # a view's are redacted
    # a proposal as the signed-in user may see it (its anonymised view in the first round)
    app.jinja_env.globals["as_seen"] = lambda p: anonymise.as_seen_by(current_user, p)
    app.jinja_env.globals["answer_text"] = questions.show
    app.jinja_env.globals["question_label"] = questions.label
    app.jinja_env.globals["question_help"] = questions.help_text
    # Markdown without its markup, for cards and plain-text mails (domain/plaintext.py)
    app.jinja_env.filters["plaintext"] = from_markdown
    app.jinja_env.filters["excerpt"] = excerpt
    # someone's name or title in a mail: never a link (domain/mailer.py)
    app.jinja_env.filters["inert"] = mailer.inert
    app.jinja_env.filters["quoted"] = mailer.quoted

    @app.context_processor
    def _globals():
        return {
            "can": permissions,
            "display_actor": display_actor,
            "status_label": status_label,
            "timeline_label": timeline_label,
            "current_locale": str(get_locale() or "de"),
        }

    @app.before_request
    def _nonce():
        g.setdefault("page_title", None)
