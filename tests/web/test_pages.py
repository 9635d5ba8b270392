"""The page shell: login redirect, language, navigation by role, CSRF, error pages, assets."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from cordon.web.deps import LANG_COOKIE
from cordon.web.templating import environment
from tests.conftest import UserMaker
from tests.helpers import make_actor, person
from tests.page_helpers import login, page_token

STATIC = Path(__file__).resolve().parents[2] / "src" / "cordon" / "web" / "static"


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(0)) if nav else []


def test_pages_ask_for_login_first(client: TestClient) -> None:
    response = client.get("/people", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/people"


def test_chinese_is_the_default(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    page = client.get("/").text
    assert '<html lang="zh-CN">' in page
    assert nav_labels(page) == [
        "总览",
        "人员",
        "导入人员",
        "病例",
        "接触者",
        "传播关系网络",
        "健康码",
        "规则推演",
        "核酸筛查",
        "复核与隔离任务",
        "混采方案测算",
        "审计日志",
        "后台任务",
        "用户管理",
    ]
    assert "退出" in page


def test_english_switch_is_remembered(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    switched = client.get("/?lang=en")
    assert '<html lang="en">' in switched.text
    assert nav_labels(switched.text) == [
        "Overview",
        "People",
        "Import",
        "Cases",
        "Contacts",
        "Network",
        "Health codes",
        "What-if",
        "Screening",
        "Tasks",
        "Planner",
        "Audit",
        "Jobs",
        "Users",
    ]
    assert client.cookies[LANG_COOKIE] == "en"
    later = client.get("/people").text
    assert '<html lang="en">' in later and "Log out" in later
    back = client.get("/people?lang=zh_CN").text
    assert '<html lang="zh-CN">' in back and "人员" in back


def test_login_page_follows_the_language_too(client: TestClient) -> None:
    assert "用户名" in client.get("/login").text
    english = client.get("/login?lang=en").text
    assert '<html lang="en">' in english and "Username" in english


def test_navigation_shows_only_what_the_role_may_open(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("ana", "analyst", "450681")
    login(client, "ana")
    page = client.get("/").text
    assert nav_labels(page) == [
        "总览",
        "健康码",
        "核酸筛查",
        "复核与隔离任务",
        "混采方案测算",
        "后台任务",
    ]
    assert client.get("/people").status_code == 403
    make_user("gw", "grid_worker", "450681100")
    login(client, "gw")
    assert nav_labels(client.get("/").text) == [
        "总览",
        "人员",
        "导入人员",
        "健康码",
        "核酸筛查",
        "复核与隔离任务",
        "混采方案测算",
        "后台任务",
    ]


def test_forms_and_htmx_carry_the_session_csrf_token(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    login(client, "wang")
    page = client.get("/people/new").text
    token = page_token(client, "/people/new")
    assert f'<input type="hidden" name="csrf_token" value="{token}">' in page
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page


def test_post_without_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, make_user: UserMaker, session_factory: sessionmaker[Session]
) -> None:
    make_user("wang")
    login(client, "wang")
    forged = client.post("/people/new", data={k: v for k, v in person().items() if v})
    assert forged.status_code == 403
    assert "无权操作" in forged.text and "<html" in forged.text
    wrong = client.post("/people/new", data={**person(), "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    header = client.post("/people/new", data=person(), headers={"X-CSRF-Token": "nope"})
    assert header.status_code == 403
    assert "没有找到人员" in client.get("/people").text


def test_htmx_header_token_is_accepted(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    token = page_token(client)
    created = client.post(
        "/people/new", data=person(), headers={"X-CSRF-Token": token}, follow_redirects=False
    )
    assert created.status_code == 303


def test_error_pages_are_html_in_the_users_language(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("wang")
    login(client, "wang")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in missing.text and "未找到" in missing.text
    assert "总览" in missing.text  # the shell (navigation) is still there
    english = client.get("/people/424242?lang=en")
    assert english.status_code == 404 and "Not found" in english.text


def test_times_are_shown_in_shanghai_time() -> None:
    template = environment.from_string("{{ at|local_time }}")
    midnight_utc = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert template.render(at=midnight_utc, timezone="Asia/Shanghai") == "2026-01-01 08:00"


def test_person_change_time_is_local(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    with session_factory() as s, s.begin():
        made = people_service.create_person(
            session=s, actor=make_actor(), cipher=cipher, data=PersonIn(**person())
        )
    make_user("wang")
    login(client, "wang")
    page = client.get(f"/people/{made.id}").text
    local = made.updated_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert local.strftime("%Y-%m-%d %H:%M") in page


def test_vendored_libraries_are_served_and_match_their_record(client: TestClient) -> None:
    record = (STATIC / "VENDOR.md").read_text(encoding="utf-8")
    hashes = dict(
        (path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", record, re.M)
    )
    assert set(hashes) == {
        "vendor/echarts/echarts.min.js",
        "vendor/htmx/htmx.min.js",
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "vendor/swagger-ui/swagger-ui.css",
    }
    for path, digest in hashes.items():
        assert hashlib.sha256((STATIC / path).read_bytes()).hexdigest() == digest
        assert client.get(f"/static/{path}").status_code == 200
    echarts = (STATIC / "vendor/echarts/echarts.min.js").read_text(encoding="utf-8")
    htmx = (STATIC / "vendor/htmx/htmx.min.js").read_text(encoding="utf-8")
    assert 'version="5.6.0"' in echarts and "| Apache ECharts | 5.6.0 |" in record
    assert 'version:"2.0.11"' in htmx and "| htmx | 2.0.11 |" in record
    swagger = (STATIC / "vendor/swagger-ui/swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert '"5.35.0"' in swagger and "| Swagger UI | 5.35.0 |" in record
    for licence in ("echarts/LICENSE", "echarts/NOTICE", "htmx/LICENSE", "swagger-ui/LICENSE"):
        assert (STATIC / "vendor" / licence).stat().st_size > 0


def test_bad_page_parameters_get_an_html_page(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    response = client.get("/people/abc")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "人员" in response.text and "应为整数" in response.text  # the field and why, in Chinese


def test_oversized_page_upload_gets_an_html_page(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    too_big = client.app.state.settings.max_upload_bytes + 1  # type: ignore[attr-defined]
    response = client.post(
        "/people/import",
        files={"file": ("p.csv", b"x" * too_big, "text/csv")},
        data={"csrf_token": page_token(client, "/people/import")},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "File too large" in response.text
