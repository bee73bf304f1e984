"""New passwords: long enough, not among common or breached ones, not built from the person's
name, address or the site's name; the reason is said in words."""
import pytest

from innolab.domain import passwords
from innolab.domain.accounts import MIN_PASSWORD_LENGTH


@pytest.mark.parametrize("password", ["password1234", "passwort1234", "123456789012",
                                      "qwertzuiop123", "Passwort1234", "iloveyou1234"])
def test_common_and_breached_passwords_are_refused(app_ctx, password):
    reason = str(passwords.problem(password))
    assert "Liste häufig verwendeter" in reason


@pytest.mark.parametrize("password", ["Erika-Mustermann-1", "mustermann.erika!",
                                      "erika.mustermann@example.org", "InnoLab2026!!",
                                      "ZDMV-InnoLab-ZDMV", "innolab-zdmv-2026"])
def test_passwords_built_from_name_address_or_site_are_refused(app_ctx, password):
    reason = passwords.problem(password, name="Erika Mustermann",
                               email="erika.mustermann@example.org")
    assert reason is not None and "Ihrem Namen, Ihrer E-Mail-Adresse" in str(reason)


@pytest.mark.parametrize("password", ["Moorbirke-Flut-Kran-7", "innolab-demo-2026",
                                      "Erika liebt Sanddorn und Ostsee", "x7#Lq9!vB2@kW"])
def test_good_passwords_are_accepted(app_ctx, password):
    assert passwords.problem(password, name="Erika Mustermann",
                             email="erika.mustermann@example.org") is None


def test_length_limits_are_at_least_twelve_and_not_below_sixty_four(app_ctx):
    assert MIN_PASSWORD_LENGTH >= 12 and passwords.MAX_PASSWORD_LENGTH >= 64
    assert "mindestens 12" in str(passwords.problem("Kurz-1"))
    assert passwords.problem(("Sanddorn-Ostsee-" * 5)[:64]) is None

