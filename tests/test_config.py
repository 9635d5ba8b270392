import stat
from pathlib import Path

import pytest

from cordon.config import Settings


def test_defaults_keep_everything_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CORDON_DATA_DIR", "CORDON_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.data_dir == Path("./var")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'var' / 'cordon.db'}"
    assert settings.default_language == "zh_CN"


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORDON_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("CORDON_DEFAULT_LANGUAGE", "en")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.default_language == "en"


def test_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key = settings.secret("field_key")
    assert len(key) == 32
    assert Settings(data_dir=tmp_path).secret("field_key") == key
    assert settings.secret("lookup_key") != key
    path = tmp_path / "secrets" / "field_key.hex"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_given_secrets_win(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, field_key="ab" * 32).secret("field_key") == b"\xab" * 32
    assert not (tmp_path / "secrets").exists()
