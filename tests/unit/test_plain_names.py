"""A name or title is never an address, and hostile numbers never reach the database: the pure
rules behind the forms, the mails and the int converter."""
from __future__ import annotations

import pytest

from innolab.domain import mailer
from innolab.domain.plaintext import clean_name, has_address, without_addresses
from innolab.web.input_checks import INT_MAX, bounded_int, is_refused

ADDRESSES = [
    "bestätigen Sie sofort unter https://zdmv-login.example/verify",
    "HTTP://EXAMPLE.ORG", "ftp://files", "www.zdmv-login.de", "zdmv-login.example/verify",
    "Besuchen Sie beispiel.de", "anna@example.org", "münchen.de", "Nordlicht.Online GmbH",
    "xn--mnchen-3ya.de",
    # look-alikes: full-width letters and dots, the ideographic full stop, a zero-width space
    "ｗｗｗ．evil．com", "evil。com", "evil\u200b.com", "https\u00ad://evil.com",
]
NAMES = [
    "Nordlicht KI GmbH", "Institut für digitale Verwaltung Greifswald e. V.",
    "Müller-Lüdenscheidt & Söhne „Nord“", "Dr. med. Anna Beispiel", "z.B. Posteingang",
    "Smart City 4.0", "Version 2.1.3", "u.a. Wismar", "e.V.", "Boddenwerk Software GmbH",
    "مرحبا", "Ærø ß – €", "KI-gestützte Aktenanalyse (Pilot 1.0)",
]


@pytest.mark.parametrize("text", ADDRESSES)
def test_web_addresses_and_domain_like_words_are_found(text):
    assert has_address(text)


@pytest.mark.parametrize("text", NAMES)
def test_ordinary_names_and_titles_hold_no_address(text):
    assert not has_address(text)


def test_addresses_are_replaced_and_the_rest_is_kept():
    assert without_addresses("bestätigen Sie sofort unter https://zdmv-login.example/verify.",
                             "[…]") == "bestätigen Sie sofort unter […]."
    assert without_addresses("„https://evil.example/x“, (www.evil.example)", "[…]") == \
        "„[…]“, ([…])"
    assert without_addresses("Nordlicht (nordlicht.example) GmbH", "[…]") == \
        "Nordlicht ([…]) GmbH"
    assert without_addresses("Nordlicht\r\nKI", "[…]") == "Nordlicht KI"


def test_a_name_from_elsewhere_is_cleaned_not_refused():
    assert clean_name("Erika \u202eMustermann https://zdmv-login.example/x\n") == \
        "Erika Mustermann"
    assert clean_name("www.example.org") == ""
    assert clean_name("a" * 300, 200) == "a" * 199 + "…"


def test_text_to_html_links_only_the_platforms_own_addresses():
    html = str(mailer.text_to_html(
        "Guten Tag bitte unter https://zdmv-login.example/verify bestätigen,\n\n"
        "Zur Seite: https://innolab.example/p/1.", "https://innolab.example/"))
    assert '<a href="https://innolab.example/p/1">' in html
    assert "https://zdmv-login.example/verify" in html and "zdmv-login.example/verify\"" not in html
    assert html.count("<a ") == 1
    assert "<a " not in str(mailer.text_to_html("Siehe https://innolab.example/p/1"))


@pytest.mark.parametrize("value,expected", [
    ("12", 12), (" 7 ", 7), (str(INT_MAX), INT_MAX), (str(INT_MAX + 1), None),
    ("99999999999999999999", None), ("9" * 5000, None), ("-3", -3), ("1e3", None),
    ("", None), (None, None), ("abc", None), (True, None), (5, 5), (2 ** 40, None),
])
def test_bounded_int_takes_only_what_the_database_holds(value, expected):
    assert bounded_int(value) == expected


def test_nul_and_lone_surrogates_are_refused_other_text_is_not():
    assert is_refused("a\x00b") and is_refused("a\ud800b") and is_refused("\udfff")
    assert not is_refused("Nordlicht \U0001f600 ß\u202e\r\n")
