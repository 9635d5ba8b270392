"""API error messages in the client's language: Chinese by default, English when asked for;
the machine-readable error code and fields stay the same."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.helpers import id_number, person


def test_api_errors_are_chinese_by_default_and_english_on_request(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    admin = token_for("admin")
    bad = id_number()[:-1] + ("1" if id_number()[-1] != "1" else "2")
    answers = {
        lang: client.post(
            "/api/v1/people",
            json=person(id_number=bad),
            headers={**admin, **({"Accept-Language": lang} if lang else {})},
        )
        for lang in ("", "zh-CN,zh;q=0.9", "en-GB,en;q=0.8")
    }
    default, chinese, english = (answers[k].json() for k in answers)
    assert default == chinese
    assert {a.status_code for a in answers.values()} == {422}
    assert default["error"] == english["error"] == "validation_failed"
    assert [p["field"] for p in default["problems"]] == [p["field"] for p in english["problems"]]
    checksum = next(p["message"] for p in default["problems"] if p["field"] == "id_number")
    assert "校验码" in checksum
    assert any("checksum" in p["message"] for p in english["problems"])

    missing = client.get("/api/v1/cases/999999", headers=admin)
    assert missing.status_code == 404 and missing.json()["message"] == "没有编号为 999999 的病例"
    asked = client.get("/api/v1/cases/999999", headers={**admin, "Accept-Language": "en"})
    assert asked.json()["message"] == "no case 999999"
    typed = client.get("/api/v1/cases/abc", headers=admin)
    assert typed.status_code == 422 and "应为整数" in typed.json()["message"]
