"""Forms of the external sign-in (each a single button; the CSRF token comes with FlaskForm)."""
from flask_wtf import FlaskForm
from wtforms import HiddenField


class StartForm(FlaskForm):
    """The button "Mit … anmelden": where to go after signing in."""

    next = HiddenField()


class ButtonForm(FlaskForm):
    """Link or unlink: nothing but the CSRF token."""
