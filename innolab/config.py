"""Settings from environment variables, with safe defaults.

Every variable is documented in docs/configuration.md.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from .i18n import DEFAULT_LOCALE, LOCALES

log = logging.getLogger("innolab.config")


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a clear message at start-up rather than a crash later
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


ENVIRONMENTS = ("development", "production", "testing")
STORAGE_BACKENDS = ("filesystem", "s3")
S3_ADDRESSING_STYLES = ("auto", "path", "virtual")
MAX_PRESIGN_SECONDS = 900
MIN_SECRET_KEY_LENGTH = 32
# Parts of keys copied from examples, tutorials and .env templates.
_WEAK_KEY_PARTS = ("changeme", "change-me", "change_me", "secret", "password", "passwort",
                   "example", "default", "development", "test", "innolab", "dummy", "xxxx")


class ConfigError(RuntimeError):
    """A setting that makes the app unsafe or unusable; the message names the variable."""


def _environment() -> str:
    env = os.environ.get("INNOLAB_ENV", "development")
    if env not in ENVIRONMENTS:
        # "Production", "prod", " production" would otherwise run with development defaults.
        raise ConfigError(
            f"INNOLAB_ENV must be one of {', '.join(ENVIRONMENTS)} (lower case), got {env!r}. "
            "See docs/configuration.md.")
    return env


def weak_secret_key(key: str) -> str | None:
    """Why `key` is not good enough for production, or None."""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"shorter than {MIN_SECRET_KEY_LENGTH} characters"
    lowered = key.lower()
    if len(set(key)) < 12:
        return "too few different characters"
    for part in _WEAK_KEY_PARTS:
        if part in lowered:
            return f"contains {part!r}, as keys from examples do"
    return None


def workers() -> int:
    """How many web processes serve the app: WEB_CONCURRENCY (read by gunicorn as its
    default) or GUNICORN_WORKERS; 1 when neither is set."""
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKERS"):
        if os.environ.get(name):
            return _int(name, 1)
    return 1


def threads() -> int:
    """Threads per web process: GUNICORN_THREADS (which gunicorn.conf.py reads and sets);
    0 when unknown (not run by gunicorn with the shipped configuration)."""
    return _int("GUNICORN_THREADS", 0)


def default_max_concurrent_requests() -> int:
    """A quarter of the threads (at least one) stays free to answer the probes and to refuse
    at once what does not fit; 0 (no bound) without a thread count or with a single thread,
    where nothing could be refused anyway."""
    count = threads()
    if count < 2:
        return 0
    return count - max(1, count // 4)


# The PostgreSQL settings of each connection and the config keys of their values (ms).
DB_TIME_LIMITS = (("statement_timeout", "DB_STATEMENT_TIMEOUT_MS"),
                  ("lock_timeout", "DB_LOCK_TIMEOUT_MS"),
                  ("idle_in_transaction_session_timeout", "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"))


def database_time_limits(config) -> None:
    """Put the DB_*_TIMEOUT_MS values into the engine options of a PostgreSQL database, as
    libpq's `options` (`-c statement_timeout=…`): the server applies them to each new
    connection, before any statement, and no rollback can undo them. Runs after every
    override (the database URL may change); SQLite has no such limits."""
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not url.startswith("postgresql"):
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    ours = " ".join(f"-c {name}={_whole(config, key)}" for name, key in DB_TIME_LIMITS)
    # after any options of the deployment's own: of two values for a setting the last counts
    connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), ours]))
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _whole(config, key: str) -> int:
    value = config.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key} must be a whole number of milliseconds (0: none), "
                          f"got {value!r}.")
    return value


SESSION_COOKIE = "session"                  # Flask's name, over plain http (development)
HOST_SESSION_COOKIE = "__Host-innolab_session"


def cookie_names(config) -> None:
    """Secure cookies get the `__Host-` prefix: the browser then takes them only over https,
    for the whole site (Path=/) and for this host alone (no Domain), so no other site of the
    domain and no plain-http page can set or replace them. Runs after every override."""
    if config.get("SESSION_COOKIE_SECURE"):
        if config.get("SESSION_COOKIE_NAME", SESSION_COOKIE) == SESSION_COOKIE:
            config["SESSION_COOKIE_NAME"] = HOST_SESSION_COOKIE
        config["SESSION_COOKIE_PATH"] = "/"
        config["SESSION_COOKIE_DOMAIN"] = None
    if config.get("REMEMBER_COOKIE_SECURE"):
        if config.get("REMEMBER_COOKIE_NAME", "remember_token") == "remember_token":
            config["REMEMBER_COOKIE_NAME"] = "__Host-innolab_remember"
        config["REMEMBER_COOKIE_PATH"] = "/"
        config["REMEMBER_COOKIE_DOMAIN"] = None


def startup_problems(config) -> list[tuple[str, str]]:
    """Every reason why check_config refuses to start, as (variable, message), in the order
    it checks them; `flask innolab doctor` lists them all (innolab/doctor.py)."""
    problems: list[tuple[str, str]] = []

    def refuse(variable: str, message: str) -> None:
        problems.append((variable, message))

    env = config.get("INNOLAB_ENV")
    if (config.get("SESSION_IDLE_MINUTES") or 0) < 1:
        refuse("SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES must be at least 1.")
    if env not in ENVIRONMENTS:
        refuse("INNOLAB_ENV",
               f"INNOLAB_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}.")
    problems.extend(_storage_problems(config))
    if env != "production":
        return problems
    reason = weak_secret_key(config.get("SECRET_KEY") or "")
    if reason:
        refuse("SECRET_KEY",
               f"SECRET_KEY is not safe for production ({reason}). Generate one with "
               "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`. "
               "See docs/configuration.md.")
    base = config.get("BASE_URL") or ""
    if not base:
        refuse("BASE_URL",
               "BASE_URL must be set in production (e.g. https://innolab.zdmv.example): every "
               "link in a mail is built on it, never on the request's Host header.")
    elif not base.startswith("https://") or not urlsplit(base).hostname:
        refuse("BASE_URL", f"BASE_URL must be an https:// address in production, got {base!r}.")
    if not config.get("TRUSTED_HOSTS"):
        refuse("TRUSTED_HOSTS",
               "TRUSTED_HOSTS must be set in production (the host names of BASE_URL, comma "
               "separated): requests for any other Host are refused.")
    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if storage.startswith("memory://") and workers() > 1 and config.get("RATELIMIT_ENABLED"):
        refuse("RATELIMIT_STORAGE_URI",
               f"RATELIMIT_STORAGE_URI is memory:// but WEB_CONCURRENCY/GUNICORN_WORKERS says "
               f"{workers()} workers: each would count on its own. Use Redis "
               "(RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0).")
    return problems


def startup_warnings(config) -> list[tuple[str, str]]:
    """What check_config only warns about at start-up, as (variable, message)."""
    if config.get("INNOLAB_ENV") != "production":
        return []
    if not (config.get("CLAMD_SOCKET") or config.get("CLAMD_HOST")):
        return [("CLAMD_SOCKET",
                 "Neither CLAMD_SOCKET nor CLAMD_HOST is set: uploaded files are stored without "
                 "a malware scan. Run clamd next to the platform (see docs/deployment.md).")]
    return []


def check_config(config) -> None:
    """Refuse to start with a configuration that is unsafe in production.

    Runs in create_app() after every override; raises ConfigError naming the variable (the
    first of startup_problems) and logs startup_warnings.
    """
    problems = startup_problems(config)
    if problems:
        raise ConfigError(problems[0][1])
    for _variable, warning in startup_warnings(config):
        log.warning(warning)


def _storage_problems(config) -> list[tuple[str, str]]:
    problems = []
    backend = config.get("STORAGE_BACKEND") or "filesystem"
    if backend not in STORAGE_BACKENDS:
        problems.append(("STORAGE_BACKEND",
                         f"STORAGE_BACKEND must be one of {', '.join(STORAGE_BACKENDS)}, "
                         f"got {backend!r}. See docs/configuration.md."))
    if backend == "s3" and not config.get("S3_BUCKET"):
        problems.append(("S3_BUCKET", "STORAGE_BACKEND is s3 but S3_BUCKET is not set."))
    if config.get("S3_ADDRESSING_STYLE", "auto") not in S3_ADDRESSING_STYLES:
        problems.append(("S3_ADDRESSING_STYLE",
                         f"S3_ADDRESSING_STYLE must be one of "
                         f"{', '.join(S3_ADDRESSING_STYLES)}, "
                         f"got {config.get('S3_ADDRESSING_STYLE')!r}."))
    seconds = config.get("S3_PRESIGN_SECONDS", 60)
    if config.get("S3_PRESIGNED_DOWNLOADS") and not (
            isinstance(seconds, int) and 1 <= seconds <= MAX_PRESIGN_SECONDS):
        problems.append(("S3_PRESIGN_SECONDS",
                         f"S3_PRESIGN_SECONDS must be between 1 and {MAX_PRESIGN_SECONDS} "
                         f"(a presigned download address is meant to be short-lived), "
                         f"got {seconds!r}."))
    return problems


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError(
            "SECRET_KEY must be set in production (INNOLAB_ENV=production). "
            "See docs/configuration.md."
        )
    # Development: generate once and keep it in instance/, so sessions survive restarts.
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(instance_path: Path) -> dict:
    env = _environment()
    production = env == "production"
    instance_path = Path(instance_path)
    default_db = f"sqlite:///{instance_path / 'innolab.sqlite'}"
    upload_mb = _int("UPLOAD_MAX_MB", 10)
    return {
        "INNOLAB_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": _database_url(os.environ.get("DATABASE_URL") or default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Time limits on PostgreSQL, in milliseconds (0: none), set on every connection
        # (database_time_limits): one statement, waiting for a lock, a transaction left open
        # without a statement. A statement over its limit is cancelled; the page says so
        # (503) instead of keeping a worker busy.
        "DB_STATEMENT_TIMEOUT_MS": _int("DB_STATEMENT_TIMEOUT_MS", 15000),
        "DB_LOCK_TIMEOUT_MS": _int("DB_LOCK_TIMEOUT_MS", 5000),
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": _int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 300000),
        "BASE_URL": os.environ.get("BASE_URL", "").rstrip("/"),
        # Mail
        "MAIL_FROM": os.environ.get("MAIL_FROM", "InnoLab ZDMV <innolab@localhost>"),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(os.environ.get("SMTP_STARTTLS"), False),
        "SMTP_SSL": _bool(os.environ.get("SMTP_SSL"), False),
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        # The domain of every Message-ID (else BASE_URL's host, else MAIL_FROM's domain).
        "MAIL_MESSAGE_ID_DOMAIN": os.environ.get("MAIL_MESSAGE_ID_DOMAIN", "").strip(),
        # Deliver queued mail right after the request that queued it, in a background thread
        # of the web process (else only by the worker or the `send-mail` command). Off in
        # production, where the worker delivers.
        "MAIL_SEND_AFTER_REQUEST": _bool(os.environ.get("MAIL_SEND_AFTER_REQUEST"),
                                         not production),
        # Mails a stranger can cause (confirmation, reset, invitation): at most this many to
        # one address per hour and per day (domain/mail_limits.py).
        "MAIL_LIMIT_PER_HOUR": _int("MAIL_LIMIT_PER_HOUR", 3),
        "MAIL_LIMIT_PER_DAY": _int("MAIL_LIMIT_PER_DAY", 10),
        # Notifications: the daily digest goes out from this hour (local time); seconds
        # between two passes of `flask innolab worker`.
        "DIGEST_HOUR": _int("DIGEST_HOUR", 7),
        "WORKER_INTERVAL": _int("WORKER_INTERVAL", 30),
        # Seconds between two comparisons of the upload folder with the database in the
        # worker (0: never; `flask innolab check-files` does the same on demand).
        "FILE_CHECK_INTERVAL": _int("FILE_CHECK_INTERVAL", 3600),
        # Uploads
        "UPLOAD_MAX_BYTES": upload_mb * 1024 * 1024,
        # the request may carry a few form fields beside the largest file
        "MAX_CONTENT_LENGTH": upload_mb * 1024 * 1024 + 1024 * 1024,
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance_path / "uploads")),
        # Where uploaded files lie: `filesystem` (UPLOAD_FOLDER) or `s3` (an S3-compatible
        # bucket every instance reaches; `flask innolab storage migrate` moves them over).
        "STORAGE_BACKEND": os.environ.get("STORAGE_BACKEND", "filesystem").strip().lower()
        or "filesystem",
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", "").strip(),
        "S3_BUCKET": os.environ.get("S3_BUCKET", "").strip(),
        "S3_REGION": os.environ.get("S3_REGION", "").strip(),
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID", "").strip(),
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY", "").strip(),
        "S3_PREFIX": os.environ.get("S3_PREFIX", "").strip(),
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE", "auto").strip().lower()
        or "auto",
        # Downloads as a redirect to a presigned address of the object, valid this many
        # seconds (off: the app streams every download itself).
        "S3_PRESIGNED_DOWNLOADS": _bool(os.environ.get("S3_PRESIGNED_DOWNLOADS"), False),
        "S3_PRESIGN_SECONDS": _int("S3_PRESIGN_SECONDS", 60),
        # Data exports (Datenauskunft, docs/privacy.md): where the ZIPs lie, how many days
        # they can be downloaded, and up to how many MB of files one is made at once in the
        # request (a larger one is made by the worker and announced by a notification).
        "DATA_EXPORT_FOLDER": os.environ.get("DATA_EXPORT_FOLDER",
                                             str(instance_path / "exports")),
        "DATA_EXPORT_DAYS": _int("DATA_EXPORT_DAYS", 7),
        "DATA_EXPORT_INLINE_MAX_BYTES": _int("DATA_EXPORT_INLINE_MAX_MB", 5) * 1024 * 1024,
        # The video in German Sign Language (admin upload, MP4 or WebM): its own, larger limit.
        "SIGN_LANGUAGE_VIDEO_MAX_BYTES": _int("SIGN_LANGUAGE_VIDEO_MAX_MB", 200) * 1024 * 1024,
        # Office files are ZIP archives: what all their members may inflate to (also the
        # most a PDF's streams are inflated while looking for scripts), how many members
        # they may have, and how much more than its compressed size a member may inflate.
        "UPLOAD_ARCHIVE_MAX_BYTES": _int("UPLOAD_ARCHIVE_MAX_MB", 100) * 1024 * 1024,
        "UPLOAD_ARCHIVE_MAX_MEMBERS": _int("UPLOAD_ARCHIVE_MAX_MEMBERS", 1000),
        "UPLOAD_ARCHIVE_MAX_RATIO": _int("UPLOAD_ARCHIVE_MAX_RATIO", 100),
        # Malware scanning with ClamAV's clamd before a file is stored: a Unix socket or
        # host and port (none set: no scan). A scan that cannot be made refuses the upload.
        "CLAMD_SOCKET": os.environ.get("CLAMD_SOCKET", "").strip(),
        "CLAMD_HOST": os.environ.get("CLAMD_HOST", "").strip(),
        "CLAMD_PORT": _int("CLAMD_PORT", 3310),
        "CLAMD_TIMEOUT": _int("CLAMD_TIMEOUT", 30),
        "CLAMD_ATTEMPTS": _int("CLAMD_ATTEMPTS", 3),
        "CLAMD_RETRY_DELAY": _int("CLAMD_RETRY_DELAY", 1),
        # Review rules
        "MIN_COMPLETED_REVIEWS": _int("MIN_COMPLETED_REVIEWS", 1),
        # Reviews each initiative proposal (one without a challenge) needs; a challenge sets
        # its own (Challenge.reviews_needed). The assignment suggestion fills up to it.
        "INITIATIVE_REVIEWS_NEEDED": _int("INITIATIVE_REVIEWS_NEEDED", 2),
        # Mail domains that never raise a conflict-of-interest flag when a staff member and a
        # member of an organisation share them (beside the public mail providers and reserved
        # names the platform knows, domain/conflicts.py), e.g. the staff's own domain.
        "CONFLICT_IGNORED_MAIL_DOMAINS": os.environ.get(
            "CONFLICT_IGNORED_MAIL_DOMAINS", "").replace(",", " ").lower().split(),
        # Rate limits
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: count in this process's memory (and log a warning) until it is
        # back, rather than answer with an error; never let a storage error end a request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", ""),
        # A Redis that does not answer must not hold up a request for long.
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": 1, "socket_timeout": 1}
            if os.environ.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://"))
            else {}),
        # Sessions and cookies
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Seconds a proof of identity counts for sensitive changes (web.recent_auth_required).
        "REAUTH_MAX_AGE": _int("REAUTH_MAX_AGE_MINUTES", 10) * 60,
        # A session ends after this long at the latest (absolute), and after this many
        # minutes without a request (idle); both are checked on the server (domain/sessions).
        "PERMANENT_SESSION_LIFETIME": _int("SESSION_LIFETIME_MINUTES", 12 * 60) * 60,
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "WTF_CSRF_TIME_LIMIT": None,  # bound to the session instead of a clock
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # The licence of the published data (API, feeds, /open-data); docs/configuration.md.
        "OPEN_DATA_LICENSE_NAME": os.environ.get(
            "OPEN_DATA_LICENSE_NAME", "Datenlizenz Deutschland – Namensnennung – Version 2.0"),
        "OPEN_DATA_LICENSE_URL": os.environ.get(
            "OPEN_DATA_LICENSE_URL", "https://www.govdata.de/dl-de/by-2-0"),
        "OPEN_DATA_LICENSE_SPDX": os.environ.get("OPEN_DATA_LICENSE_SPDX", "DL-DE-BY-2.0"),
        "OPEN_DATA_ATTRIBUTION": os.environ.get(
            "OPEN_DATA_ATTRIBUTION",
            "Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV), InnoLab"),
        # Operations: log format ("json": one JSON object per line), who may read /metrics
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").strip().lower(),
        # Load shedding: requests in progress at once per process, beyond which a request is
        # refused at once with 503 (web/shedding.py); 0: no bound. Default from the threads
        # gunicorn.conf.py gives each worker (GUNICORN_THREADS), keeping some free to refuse.
        "MAX_CONCURRENT_REQUESTS": _int("MAX_CONCURRENT_REQUESTS",
                                        default_max_concurrent_requests()),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # Visitors' public pages kept in memory (web/pagecache.py): for how many seconds at
        # most (another instance's change shows after this long), and how many pages; 0: off
        # (the default outside production).
        "PAGE_CACHE_SECONDS": _int("PAGE_CACHE_SECONDS", 10 if production else 0),
        "PAGE_CACHE_SIZE": _int("PAGE_CACHE_SIZE", 500),
        # security.txt (RFC 9116): where to report a vulnerability, and the policy if any
        "SECURITY_CONTACT": os.environ.get("SECURITY_CONTACT",
                                           "mailto:poststelle@zd.mv-regierung.de"),
        "SECURITY_POLICY_URL": os.environ.get("SECURITY_POLICY_URL", ""),
        # Languages
        "BABEL_DEFAULT_LOCALE": DEFAULT_LOCALE,
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "LANGUAGES": list(LOCALES),
        "TRUSTED_HOSTS": [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",")
                          if h.strip()] or None,
        "PROXY_FIX": _bool(os.environ.get("PROXY_FIX"), False),
    }


def _database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
