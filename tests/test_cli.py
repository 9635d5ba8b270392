"""The root commands: ``cordon db upgrade`` on an empty database, and running it again."""

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from cordon.cli import app
from cordon.db import make_engine
from cordon.models import Base

runner = CliRunner()


def test_db_upgrade_creates_the_schema_and_loads_divisions(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        Base.metadata.drop_all(engine)
    monkeypatch.setenv("CORDON_DATABASE_URL", database_url)
    try:
        first = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
        assert first.exit_code == 0, first.output
        assert "171 divisions added" in first.output
        assert {"people", "users", "audit_entries", "alembic_version"} <= set(
            inspect(engine).get_table_names()
        )
        again = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
        assert again.exit_code == 0 and "0 divisions added" in again.output
    finally:
        if engine.dialect.name == "postgresql":  # hand the shared schema back as it was
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            Base.metadata.create_all(engine)
        engine.dispose()
