"""Babel's extractor for our Python sources (babel.cfg names it), built on the ``ast`` module.

Babel's own Python extractor loses a call's message when another keyword call sits inside
it, as in ``NotFound("no case %(case_id)s", problems=[Problem("case_id", "unknown case")])``,
which is how services raise errors; reading the syntax tree finds both.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import IO, Any


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def extract(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str | tuple[str | None, ...], list[str]]]:
    """Each call to a keyword function with its positional arguments (None where one is not
    a string literal); Babel picks the message out of them by the keyword's spec."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name is None or name not in keywords or not node.args:
            continue
        values = tuple(_literal(arg) for arg in node.args)
        if len(values) == 1 and values[0] is not None:
            yield node.lineno, name, values[0], []
        elif len(values) > 1 and any(value is not None for value in values):
            yield node.lineno, name, values, []
