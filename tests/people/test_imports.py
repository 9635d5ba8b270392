"""Importing people from XLSX/CSV: per-row errors, all-or-nothing, the explicit valid-rows mode,
file limits, and the CLI."""

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cordon.cli import app as cli_app
from cordon.config import Settings
from tests.helpers import id_number, xlsx

Tokens = Callable[..., dict[str, str]]
ENGLISH = {"Accept-Language": "en"}  # the reasons below are asserted as the English says them
DUPLICATE = "this identity number cannot be registered here; search for the person"
HEADER = ["姓名", "身份证号", "性别", "手机号", "住址", "户号", "网格编码"]


def good_row(order: int) -> list[object]:
    return [
        "黄志明",
        id_number(order=order),
        None,
        "13812345678",
        "东郊1号",
        "H1",
        "450681100001001",
    ]


def upload(client: TestClient, headers: dict[str, str], name: str, data: bytes, **params: str):
    return client.post(
        "/api/v1/people/import",
        files={"file": (name, data, "application/octet-stream")},
        params=params,
        headers=headers,
    )


def total(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/api/v1/people", headers=headers).json()["total"])


def test_clean_xlsx_is_imported_with_households(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    rows = [
        HEADER,
        good_row(1),
        good_row(3),
        ["李娜", id_number(order=2), "女", None, "", "", "450681101201001"],
    ]
    report = upload(client, admin, "people.xlsx", xlsx(rows)).json()
    assert (report["rows"], report["written"], report["rejected"]) == (3, 3, 0)
    found = client.get("/api/v1/people", params={"name": "李娜"}, headers=admin).json()["people"]
    assert found[0]["division_code"] == "450681101201" and found[0]["sex"] == "F"


def test_a_bad_row_rejects_the_file_and_names_row_and_field(
    client: TestClient, token_for: Tokens
) -> None:
    admin = token_for("admin")
    bad_check = id_number(order=5)[:-1] + ("0" if id_number(order=5)[-1] != "0" else "1")
    rows = [
        HEADER,
        good_row(1),
        ["王五", bad_check, None, None, "", "", "450681100001001"],
        ["赵六", id_number(order=7), "女", None, "", "", "450681100001001"],
        good_row(1),
        ["钱七", id_number(order=9), None, "12", "", "", "999"],
    ]
    response = upload(client, {**admin, **ENGLISH}, "people.xlsx", xlsx(rows))
    assert response.status_code == 422
    report = response.json()
    assert report["written"] == 0 and report["rejected"] == 4 and report["skipped"] == 5
    assert report["error"] == "validation_failed"
    assert report["message"] == "4 of 5 rows rejected; nothing was written"
    assert report["problems"] == [{**e} for e in report["errors"]]
    errors = {(e["row"], e["field"]) for e in report["errors"]}
    assert errors == {
        (3, "id_number"),
        (4, "sex"),
        (5, "id_number"),
        (6, "phone"),
        (6, "grid_code"),
    }
    assert total(client, admin) == 0


def test_valid_rows_mode_writes_the_good_rows_only(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    rows = [HEADER, good_row(1), ["坏", "123", None, None, "", "", "450681100001001"], good_row(3)]
    answer = upload(client, {**admin, **ENGLISH}, "p.xlsx", xlsx(rows), mode="valid_rows")
    assert answer.status_code == 200
    report = answer.json()
    assert (report["written"], report["rejected"], report["skipped"]) == (2, 1, 1)
    assert report["errors"] == [
        {
            "row": 3,
            "field": "id_number",
            "message": "identity number length: must have 18 characters, has 3",
        }
    ]
    assert total(client, admin) == 2
    again = upload(client, {**admin, **ENGLISH}, "p.xlsx", xlsx([HEADER, good_row(1)]))
    assert again.status_code == 422
    assert again.json()["errors"][0]["message"] == DUPLICATE


def test_gb18030_csv_from_excel_is_read(client: TestClient, token_for: Tokens) -> None:
    admin = token_for("admin")
    text = "姓名,身份证号,网格编码\r\n黄志明," + id_number() + ",450681100001001\r\n"
    report = upload(client, admin, "p.csv", text.encode("gb18030")).json()
    assert report["written"] == 1


def test_rows_outside_the_jurisdiction_are_rejected(client: TestClient, token_for: Tokens) -> None:
    jiangping = token_for("jp", "grid_worker", "450681101")
    answer = upload(client, {**jiangping, **ENGLISH}, "p.xlsx", xlsx([HEADER, good_row(1)]))
    assert answer.status_code == 422
    report = answer.json()
    assert report["errors"][0]["field"] == "division_code"
    assert "outside your jurisdiction" in report["errors"][0]["message"]


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("p.txt", b"hello", "file"),
        ("p.xlsx", b"not a zip", "file"),
        ("p.csv", "名字,电话\n张三,1\n".encode(), "name"),
        ("p.csv", b"", "file"),
    ],
)
def test_unreadable_files_get_a_specific_error(
    client: TestClient, token_for: Tokens, name: str, data: bytes, field: str
) -> None:
    admin = token_for("admin")
    response = upload(client, admin, name, data)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == field


def test_oversized_upload_is_refused_before_parsing(
    client: TestClient, token_for: Tokens, settings: Settings
) -> None:
    admin = token_for("admin")
    response = upload(client, admin, "p.csv", b"x" * (settings.max_upload_bytes + 1))
    assert response.status_code == 413
    assert response.json()["problems"][0]["field"] == "file"


def test_cli_import_reports_rows_and_writes_nothing_on_error(
    client: TestClient,
    token_for: Tokens,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = token_for("admin")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([HEADER, good_row(1), ["坏", "123", None, None, "", "", ""]]))
    runner = CliRunner()
    args = ["people", "import", str(bad), "--user", "admin", "--data-dir", str(settings.data_dir)]
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 2
    assert "未写入任何数据" in result.output
    assert total(client, admin) == 0
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([HEADER, good_row(1)]))
    args[2] = str(good)
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert total(client, admin) == 1
    unknown = runner.invoke(cli_app, [*args[:4], "nobody", *args[5:]])
    assert unknown.exit_code == 2 and "没有用户 'nobody'" in unknown.output
