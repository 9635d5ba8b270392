"""Finding English a user would read on a page meant to be Chinese.

The visible text of a page is its text nodes outside <script>/<style>/<template>, plus the
attributes a user reads (title, placeholder, aria-label, alt, and the value of buttons). Words
that are proper names, units, formats or identifiers (below) are allowed; everything else made
of Latin letters is English left untranslated.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Brand and format names, units and language names shown as they are in Chinese interfaces.
ALLOWED = frozenset(
    {
        "Cordon",
        "QR",
        "XLSX",
        "CSV",
        "DOCX",
        "Excel",
        "API",
        "OpenAPI",
        "JSON",
        "YAML",
        "CSRF",
        "English",  # the language switcher names each language in itself
        "km",
        "m",
        "min",
        "h",
        "s",
        "ms",
        "MB",
        "Dorfman",  # the pooling scheme is named after its author
        "E9",
        "ID",
        "vs",
        "e",  # Euler's number, in the exposure score's formula
    }
)
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
HIDDEN = ("script", "style", "template", "noscript", "code")
# Latin words; identifiers with digits, dots, underscores or hyphens glued on are not words.
WORD = re.compile(r"(?<![\w./:@#-])[A-Za-z]+(?![\w./:@-])")
MONTHS_OR_ZONES = re.compile(r"\b(UTC|CST|GMT)\b")
# What the user typed, echoed in quotes by an error ('maybe' is not 阴性/阳性).
ECHOED = re.compile(r"'[^'\n]{0,60}'")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in HIDDEN or values.get("translate") == "no":
            # Code, and what the page marks as not to be translated (identifiers, raw data).
            self.stack.append(tag)
            self.hidden += 1
            return
        if self.hidden and tag == self.stack[-1]:
            self.stack.append(tag)
            self.hidden += 1
            return
        for name in READ_ATTRIBUTES:
            if values.get(name):
                self.parts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(str(values["value"]))
        if tag == "option":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden and tag == self.stack[-1]:
            self.stack.pop()
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return "\n".join(part for part in parser.parts if part.strip())


def english_words(text: str, allowed: frozenset[str] | set[str] = ALLOWED) -> list[str]:
    """Each English word in ``text`` with a little of its line around it."""
    text = ECHOED.sub(" ", MONTHS_OR_ZONES.sub(" ", text))
    found = []
    for line in text.splitlines():
        for word in WORD.finditer(line):
            if word.group(0) in allowed:
                continue
            found.append(f"{word.group(0)!r} in {line.strip()[:100]!r}")
    return found


def english_on_page(html: str, allowed: frozenset[str] | set[str] = ALLOWED) -> list[str]:
    return english_words(visible_text(html), allowed)
