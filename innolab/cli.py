"""`flask --app wsgi innolab ...` commands."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db

group = AppGroup("innolab", help="InnoLab administration commands.")


@group.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--password", default=None, help="Password; asked for when not given.")
def create_admin(email: str, name: str | None, password: str | None) -> None:
    """Create the first admin account (or give an existing account the admin role)."""
    from email_validator import EmailNotValidError, validate_email

    from .domain import audit
    from .domain.accounts import MIN_PASSWORD_LENGTH, hash_password, normalise_email, user_by_email
    from .models import Role, User, UserRole
    from .models._base import utcnow

    try:
        email = normalise_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    from .domain.plaintext import has_forbidden

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
    from .domain.mailer import deliver_all

    with current_app.test_request_context(base_url=current_app.config.get("BASE_URL") or None):
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
    Ctrl+C; the current pass is finished first.
    """
    import signal
    import time

    from .domain.notifications import run_pass

    interval = interval or current_app.config.get("WORKER_INTERVAL", 30)
    stopping = {"now": False}

    def _stop(signum, frame):
        stopping["now"] = True

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        click.echo(f"Worker started; a pass every {interval} s.")
    while True:
        with current_app.test_request_context(base_url=current_app.config.get("BASE_URL") or None):
            try:
                counts = run_pass(force_digest=digest_now)
            except Exception:  # the database may be away for a moment; try again next pass
                db.session.rollback()
                current_app.logger.exception("Worker pass failed")
                counts = None
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


@group.command("seed-demo")
@click.option("--reset", is_flag=True, help="Load even if the database already has data.")
def seed_demo(reset: bool) -> None:
    """Load the demo data (authorities, topics, challenges, organisations, proposals, staff)."""
    from .demo import seed

    with current_app.test_request_context(base_url=current_app.config.get("BASE_URL") or None):
        created = seed(force=reset)
    click.echo("Demo data loaded." if created else "Database already has data; nothing loaded.")


def init_app(app) -> None:
    app.cli.add_command(group)
