"""The English catalogue is complete and matches the sources.

The strings are extracted here as `make messages` extracts them (babel.cfg and the Makefile's
`--ignore-dirs`): Babel's own default skips every folder whose name starts with `_`, and so
once the strings of templates/_macros (the error summary, the pagination) stayed German in
the English interface. Every extracted string must be in the English catalogue, translated,
not fuzzy, and with the same placeholders as the German one.
"""
from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "innolab" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


def _make_messages_command() -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    command = re.search(r"^messages:.*?\n\t(.*?pybabel extract .*?)\n", makefile, re.M | re.S)
    assert command, "Makefile: Ziel `messages` mit `pybabel extract` nicht gefunden"
    return command.group(1)


@lru_cache(maxsize=1)
def extracted() -> dict[str, set[str]]:
    """msgid -> the files it comes from, extracted like `make messages` does."""
    command = _make_messages_command()
    ignored = re.search(r"--ignore-dirs '([^']*)'", command)
    assert ignored, "`make messages` muss --ignore-dirs setzen (sonst fehlen Ordner mit _)"
    patterns = ignored.group(1).split()
    keywords = dict(DEFAULT_KEYWORDS)
    for name in re.findall(r"-k (\w+)", command):
        keywords[name] = None
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)

    def keep(dirpath: str) -> bool:
        name = os.path.basename(dirpath)
        return not any(fnmatch.fnmatch(name, p) for p in patterns)

    found: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords, directory_filter=keep):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, set()).add(filename)
    return found


@lru_cache(maxsize=1)
def english():
    with CATALOGUE.open("rb") as f:
        return read_po(f)


def test_every_template_folder_is_extracted():
    files = {name for names in extracted().values() for name in names}
    folders = {str(Path(name).parent) for name in files}
    templates = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
                 if re.search(r"""\b(_|gettext|ngettext)\(""", p.read_text(encoding="utf-8"))}
    assert templates - folders == set(), "Vorlagen-Ordner ohne extrahierte Texte"
    assert "templates/_macros" in folders
    # the error summary and the pagination of the macros, the menu button of the base template
    for msgid in ("Bitte prüfen Sie Ihre Eingaben", "Seitennavigation", "Menü"):
        assert msgid in extracted(), msgid


def test_every_extracted_string_is_in_the_english_catalogue():
    catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in english() if m.id}
    missing = sorted(set(extracted()) - catalogue)
    assert missing == [], f"Nicht im englischen Katalog (make messages): {missing[:20]}"


def test_the_english_catalogue_has_no_untranslated_or_fuzzy_entry():
    untranslated, fuzzy = [], []
    for m in english():
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        if not all(s and s.strip() for s in strings):
            untranslated.append(m.id)
        if m.fuzzy:
            fuzzy.append(m.id)
    assert untranslated == [], f"Ohne Übersetzung: {untranslated[:20]}"
    assert fuzzy == [], f"Unscharf (fuzzy): {fuzzy[:20]}"


def test_translations_keep_the_placeholders():
    wrong = []
    for m in english():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple | list) else (m.id,)
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        expected = {p for i in ids for p in PLACEHOLDER.findall(i)}
        for s in strings:
            # a singular form may say "one" instead of %(num)d
            if set(PLACEHOLDER.findall(s or "")) - expected or (
                    len(ids) == 1 and set(PLACEHOLDER.findall(s or "")) != expected):
                wrong.append((m.id, s))
    assert wrong == [], f"Platzhalter abweichend: {wrong[:10]}"
