"""The navigation of the page shell, as data.

Each slice's ``pages`` module offers ``NAV``: entries of (path, label, permission). The shell
shows an entry only to users whose role has its permission, so a later slice adds its pages to
the menu by listing them, without touching the layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cordon.auth.schemas import Actor


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str  # English msgid, marked with N_ where defined; translated when shown
    permission: str
    order: int = 100  # lower comes first; slices spread out so others can slot in between


def visible(entries: Iterable[NavEntry], actor: Actor | None) -> list[NavEntry]:
    if actor is None:
        return []
    return sorted((e for e in entries if actor.can(e.permission)), key=lambda e: e.order)


def current(entries: Iterable[NavEntry], path: str) -> NavEntry | None:
    """The entry a path belongs to: the longest entry path that is a prefix of it."""
    best: NavEntry | None = None
    for entry in entries:
        inside = path == entry.path or (entry.path != "/" and path.startswith(entry.path + "/"))
        if inside and (best is None or len(entry.path) > len(best.path)):
            best = entry
    return best
