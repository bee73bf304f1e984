"""`python -m innolab doctor [--nginx PATH]`: the checks of `flask innolab doctor` on an app
started without its start-up refusals, so a configuration the app would refuse is reported
in full, one line per problem, instead of by the first refusal (innolab/doctor.py)."""
from __future__ import annotations

import sys

import click

from . import create_app
from .doctor import report, run_checks


@click.group()
def main() -> None:
    """InnoLab commands that work without a runnable configuration."""


@main.command("doctor")
@click.option("--nginx", "nginx", default=None, metavar="PATH",
              help="The nginx site to compare the upload limits and the static folder with.")
def doctor(nginx: str | None) -> None:
    """Check the configuration of the environment: OK, WARN or FAIL per check."""
    try:
        app = create_app(check=False)
    except Exception as exc:  # noqa: BLE001 - a setting that cannot even be read
        click.echo(f"FAIL settings: {exc}")
        click.echo("0 OK, 0 WARN, 1 FAIL")
        sys.exit(1)
    with app.app_context():
        sys.exit(report(run_checks(app, nginx)))


if __name__ == "__main__":
    main()
