"""The Chinese catalog is complete: every string the pages can show has a translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from cordon.web import i18n
from cordon.web.messages import EXTRACT_KEYWORDS

ROOT = Path(__file__).resolve().parents[1]


def extracted() -> set[str]:
    """Run Babel's extractors over the sources exactly as babel.cfg (pybabel extract) does."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = dict(DEFAULT_KEYWORDS)
    for word in EXTRACT_KEYWORDS:  # as the Makefile's i18n target passes them with -k
        name, _, position = word.partition(":")
        keywords[name] = (int(position),) if position else None
    found: set[str] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        text = message if isinstance(message, str) else message[0]
        found.add(f"{context}\x04{text}" if context else text)
    return found


def catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as source:
        return {
            (f"{m.context}\x04{m.id}" if m.context else m.id): m.string
            for m in read_po(source)
            if m.id and isinstance(m.id, str)
        }


def test_every_message_has_a_chinese_translation() -> None:
    entries = catalog(Path(str(i18n.po_path("zh_CN"))))
    assert entries
    untranslated = sorted(msgid for msgid, text in entries.items() if not text.strip())
    assert untranslated == []


def test_catalog_covers_every_string_in_templates_and_code() -> None:
    strings = extracted()
    assert "Overview" in strings and "Wrong username or password." in strings
    entries = catalog(Path(str(i18n.po_path("zh_CN"))))
    missing = sorted(strings - set(entries))
    assert missing == [], "run pybabel extract + update (see babel.cfg) and translate"
    stale = sorted(set(entries) - strings)
    assert stale == [], "the catalog has strings no page uses any more"


def test_translations_keep_their_placeholders() -> None:
    entries = catalog(Path(str(i18n.po_path("zh_CN"))))
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for msgid, text in entries.items():
        assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(text)), msgid


def test_compiled_catalog_translates() -> None:
    chinese = i18n.translations("zh_CN")
    assert chinese.gettext("Overview") == "总览"
    assert i18n.translations("en").gettext("Overview") == "Overview"


def test_no_fuzzy_guesses_are_left() -> None:
    # pybabel update marks guessed translations fuzzy, and fuzzy entries are not used at
    # run time: each one would show English on a Chinese page until someone checks it.
    with Path(str(i18n.po_path("zh_CN"))).open("rb") as source:
        fuzzy = sorted(m.id for m in read_po(source) if m.id and m.fuzzy)
    assert fuzzy == []
