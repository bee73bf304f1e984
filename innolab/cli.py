"""`flask --app wsgi innolab ...` commands."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import links
from .extensions import db
from email_validator import EmailNotValidError, validate_email
from .domain import audit
from .domain.accounts import MIN_PASSWORD_LENGTH, hash_password, normalise_email, user_by_email
from .models import Role, User, UserRole
from .models._base import utcnow
from .domain.plaintext import has_forbidden
from flask_babel import force_locale
from .domain.passwords import problem
from .domain.mailer import deliver_all
import signal
import time
from .domain.notifications import run_pass
from .domain import search, storage, storage_migration, uploads
from .demo import seed

group = AppGroup("innolab", help="InnoLab administration commands.")


@group.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--password", default=None, help="Password; asked for when not given.")
def create_admin(email: str, name: str | None, password: str | None) -> None:
    """Create the first admin account (or give an existing account the admin role)."""


    try:
        email = normalise_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc

    if name is not None and has_forbidden(name):
        raise click.BadParameter("no line breaks or other control characters",
                                 param_hint="--name")
    user = user_by_email(email)
    if user is None:
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise click.BadParameter(f"at least {MIN_PASSWORD_LENGTH} characters",
                                     param_hint="--password")


        reason = problem(password, name=name or email.split("@")[0], email=email)
        if reason is not None:
            with current_app.test_request_context(), force_locale("en"):
                raise click.BadParameter(str(reason), param_hint="--password")
        user = User(email=email, name=name or email.split("@")[0],
                    password_hash=hash_password(password), email_confirmed_at=utcnow())
        db.session.add(user)
        db.session.flush()
        click.echo(f"Created {email}.")
    if not user.has_role(Role.ADMIN):
        user.role_rows.append(UserRole(role=Role.ADMIN.value))
    audit.record(None, "user.create_admin", user, email=email)
    db.session.commit()
    click.echo(f"{email} is an admin.")


@group.command("send-mail")
def send_mail() -> None:
    """Deliver the mails waiting in the outbox (SMTP, or the log without SMTP_HOST)."""

    with links.command_context(current_app):
        sent = deliver_all()
    click.echo(f"{sent} mail(s) sent.")


@group.command("worker")
@click.option("--once", is_flag=True, help="One pass, then exit (e.g. from cron or a test).")
@click.option("--interval", type=click.IntRange(min=1), default=None,
              help="Seconds between passes (default: WORKER_INTERVAL, 30).")
@click.option("--digest-now", is_flag=True,
              help="Send the waiting daily digests now, whatever the hour.")
def worker(once: bool, interval: int | None, digest_now: bool) -> None:
    """Deliver the outbox, send daily digests and create reminders – in a loop.

    Several workers may run at once: a mail is taken by one worker only. Stop with SIGTERM or
    Ctrl+C; the current pass is finished first. Without --once it also compares the upload
    folder with the database at start and then every FILE_CHECK_INTERVAL seconds (an hour)
    and logs a warning when they differ (see `check-files`).
    """


    interval = interval or current_app.config.get("WORKER_INTERVAL", 30)
    file_check_every = current_app.config.get("FILE_CHECK_INTERVAL", 3600)
    next_file_check = time.monotonic()
    stopping = {"now": False}

    def _stop(_signum, _frame):
        stopping["now"] = True

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        click.echo(f"Worker started; a pass every {interval} s.")
    while True:
        with links.command_context(current_app):
            try:
                counts = run_pass(force_digest=digest_now)
            except Exception:  # the database may be away for a moment; try again next pass
                db.session.rollback()
                current_app.logger.exception("Worker pass failed")
                counts = None
            finally:
                db.session.remove()
            if not once and file_check_every and time.monotonic() >= next_file_check:
                next_file_check = time.monotonic() + file_check_every
                try:
                    _check_files_in_worker()
                except Exception:
                    db.session.rollback()
                    current_app.logger.exception("Upload folder check failed")
                finally:
                    db.session.remove()
        if counts and (once or any(counts.values())):
            click.echo("{sent} mail(s) sent, {digests} digest(s), {reminders} reminder(s).".format(
                **counts))
        if once:
            return
        waited = 0.0
        while waited < interval and not stopping["now"]:
            time.sleep(0.5)
            waited += 0.5
        if stopping["now"]:
            click.echo("Worker stopped.")
            return


def _file_check_summary(result) -> str:
    return (f"{len(result.orphans)} file(s) without a row, "
            f"{len(result.missing)} row(s) without a file, "
            f"{len(result.stale)} stale temporary file(s)")


@group.command("check-files")
@click.option("--fix", is_flag=True,
              help="Remove files without a row and temporary files older than an hour.")
def check_files(fix: bool) -> None:
    """Compare the storage (upload folder or bucket) with the database: files without a row,
    rows without a file, stale temporary files. Exits with 1 while something is still wrong."""

    result = uploads.check_files(fix=fix)
    store = storage.current()
    for name in result.orphans:
        click.echo(f"file without a row: {store.describe(name)}"
                   + (" (removed)" if name in result.removed else ""))
    for table, row_id, name in result.missing:
        click.echo(f"row without a file: {table} id {row_id} ({store.describe(name)})")
    for name in result.stale:
        click.echo(f"stale temporary file: {store.describe(name)}"
                   + (" (removed)" if name in result.removed else ""))
    click.echo(f"{_file_check_summary(result)}.")
    if result.ok:
        click.echo(f"{store.label} and database match." if not result.removed
                   else f"{len(result.removed)} file(s) removed; {store.label.lower()} and "
                        "database match now.")
        return
    if (result.orphans or result.stale) and not fix:
        click.echo("Run with --fix to remove files without a row and stale temporary files.")
    if result.missing:
        click.echo("Rows without a file need the file back from a backup.")
    raise SystemExit(1)


def _check_files_in_worker() -> None:
    """The worker's periodic check: a warning in the log when storage and database differ."""

    result = uploads.check_files()
    if not result.ok:
        current_app.logger.warning(
            "%s check: %s; run `flask --app wsgi innolab check-files` for the list.",
            storage.current().label, _file_check_summary(result))


@group.group("storage")
def storage_group() -> None:
    """Where the uploaded files lie (STORAGE_BACKEND: filesystem or s3)."""


@storage_group.command("migrate")
@click.option("--to", "target", type=click.Choice(storage.BACKENDS), required=True,
              help="The backend to copy the files to (the other one than STORAGE_BACKEND).")
@click.option("--dry-run", is_flag=True, help="Only tell what would be copied.")
@click.option("--verbose", "-v", is_flag=True, help="Name every file copied.")
def storage_migrate(target: str, dry_run: bool, verbose: bool) -> None:
    """Copy every stored file from the configured backend to TARGET, each verified by its
    SHA-256; files already there with the same checksum are skipped. Nothing is deleted.
    Exits with 1 and names the files when a source is missing or damaged or a copy differs;
    then set STORAGE_BACKEND and restart (docs/operations.md, "Storage")."""

    configured = current_app.config.get("STORAGE_BACKEND") or "filesystem"
    if target == configured:
        raise click.UsageError(
            f"STORAGE_BACKEND is already {configured}: the files are copied from the "
            "configured backend to the other one.")
    try:
        source, destination = storage.backend(configured), storage.backend(target)
    except storage.StorageUnavailable as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"{'Dry run: ' if dry_run else ''}copying the stored files from {configured} "
               f"({source.describe('')}) to {target} ({destination.describe('')}).")
    result = storage_migration.migrate(source, destination, dry_run=dry_run,
                                       report=click.echo if verbose else None)
    for p in result.problems:
        click.echo(f"problem: {p.table} id {p.row_id} ({p.name}): {p.reason}", err=True)
    if result.aborted:
        click.echo(f"stopped: {result.aborted}", err=True)
    verb = "would be copied" if dry_run else "copied"
    click.echo(f"{len(result.copied)} file(s) {verb}"
               + (f" ({len(result.replaced)} replacing a different copy)"
                  if result.replaced else "")
               + f", {len(result.skipped)} already there with the same checksum, "
               f"{len(result.problems)} problem(s).")
    if not result.ok:
        raise SystemExit(1)
    if dry_run:
        click.echo("Nothing was changed (dry run).")
    else:
        click.echo(f"Every file is in {target} now. Set STORAGE_BACKEND={target} and restart "
                   "the app and the worker.")


@group.group("search")
def search_group() -> None:
    """The full-text search of proposals."""


@search_group.command("reindex")
def search_reindex() -> None:
    """Rebuild every proposal's search document (after an import or a change of the rules)."""
    count = search.reindex(db.session)
    db.session.commit()
    click.echo(f"{count} proposals reindexed")


@group.command("seed-demo")
@click.option("--reset", is_flag=True, help="Load even if the database already has data.")
def seed_demo(reset: bool) -> None:
    """Load the demo data (authorities, topics, challenges, organisations, proposals, staff)."""

    with links.command_context(current_app):
        created = seed(force=reset)
    click.echo("Demo data loaded." if created else "Database already has data; nothing loaded.")


def init_app(app) -> None:
    app.cli.add_command(group)
