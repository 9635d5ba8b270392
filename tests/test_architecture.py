"""Keeps the layout rules of the architecture spec true (shared/spec/architecture.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cordon"
TESTS = Path(__file__).resolve().parent
# Packages with their own domain; they reach each other only through these modules.
PUBLIC = {"service", "schemas", "flows"}
# Pure, shared modules inside a package that any slice may import directly.
SHARED_MODULES = {("geo", "cells"), ("facts", "rules")}
# Packages everyone may use: the shell, geometry-free infrastructure, and the migrations.
SHARED = {"web", "security", "migrations", "lake", "protocols"}
IO_LIBRARIES = {
    "sqlalchemy",
    "fastapi",
    "starlette",
    "duckdb",
    "psycopg",
    "jinja2",
    "typer",
    "uvicorn",
    "alembic",
    "httpx",
    "requests",
    "pyspark",
    "openpyxl",
}
FRAMEWORK_FREE = {"models": {"fastapi", "starlette", "jinja2", "typer"}}


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def slice_of(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


def slices() -> list[str]:
    return sorted(
        p.name
        for p in SRC.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in SHARED
    )


def is_pure(path: Path) -> bool:
    parts = path.relative_to(SRC).parts
    return path.stem == "rules" or "rules" in parts[:-1] or parts == ("security", "masking.py")


@pytest.mark.parametrize("path", [p for p in modules() if is_pure(p)], ids=str)
def test_pure_rules_import_no_io(path: Path) -> None:
    for name in imports_of(path):
        top = name.split(".")[0]
        assert top not in IO_LIBRARIES, f"{path} imports {name}"
        if top == "cordon":
            module = name.split(".")
            assert len(module) < 3 or module[2] == "rules" or module[1] == "errors", (
                f"pure module {path} imports {name}"
            )


@pytest.mark.parametrize("path", [p for p in modules() if slice_of(p) in slices()], ids=str)
def test_slices_meet_only_through_service_schemas_flows(path: Path) -> None:
    own = slice_of(path)
    for name in imports_of(path):
        parts = name.split(".")
        if parts[0] != "cordon" or len(parts) < 3 or parts[1] not in slices():
            continue
        if parts[1] != own and (parts[1], parts[2]) not in SHARED_MODULES:
            assert parts[2] in PUBLIC, f"{path} reaches into {name}"


@pytest.mark.parametrize(
    "path", [p for p in modules() if p.stem in {"api", "pages", "cli"}], ids=str
)
def test_routes_and_commands_stay_thin(path: Path) -> None:
    for name in imports_of(path):
        parts = name.split(".")
        assert "models" not in parts, f"{path} imports {name}: go through the service"
        assert parts[0] != "sqlalchemy" or name in {"sqlalchemy.orm", "sqlalchemy.orm.Session"}, (
            f"{path} builds queries ({name}); that belongs in service.py"
        )


@pytest.mark.parametrize(
    "path", [p for p in modules() if p.stem == "models" and slice_of(p)], ids=str
)
def test_models_depend_only_on_db(path: Path) -> None:
    for name in imports_of(path):
        parts = name.split(".")
        assert parts[0] not in FRAMEWORK_FREE["models"], f"{path} imports {name}"
        if parts[0] == "cordon":
            assert parts[1] == "db", f"{path} imports {name}"


def test_services_flush_and_never_commit() -> None:
    offenders = [
        str(p)
        for p in modules()
        if p.stem == "service" and re.search(r"\.commit\(\)", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_assert_in_application_code() -> None:
    offenders = [
        f"{p}:{n.lineno}"
        for p in modules()
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(n, ast.Assert)
    ]
    assert offenders == []


def test_files_stay_small() -> None:
    big = [str(p) for p in modules() if len(p.read_text(encoding="utf-8").splitlines()) > 800]
    assert big == []


def test_product_never_reads_the_shared_folder() -> None:
    for path in SRC.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".html", ".toml", ".cfg", ".yaml"}:
            assert "../shared" not in path.read_text(encoding="utf-8"), path


def test_tests_mirror_the_package() -> None:
    missing = [
        name for name in [*slices(), "security", "web"] if not any((TESTS / name).glob("test_*.py"))
    ]
    assert missing == []


def _calls_of_the_wall_clock(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (name, node.func.attr) in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("datetime", "today"),
                ("date", "today"),
                ("time", "time"),
            }:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_nothing_but_the_clock_reads_the_wall_clock() -> None:
    """Domain time comes from ``cordon.clock`` (a demo's scenario time); durations are measured
    with ``time.perf_counter``/``monotonic``, which this allows."""
    offenders = [
        call
        for path in modules()
        if path.relative_to(SRC).parts[0] != "clock"
        for call in _calls_of_the_wall_clock(path)
    ]
    assert offenders == []
