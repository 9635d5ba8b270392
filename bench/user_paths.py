"""What a user waits for, end to end: `cordon --help`, and on a running `cordon demo` (a real
multi-worker server over HTTP) the case list, a case page, starting a trace from it, the
trace job until its contacts are stored, the contacts page and the traced contact's code.

The kernel's speed is in trace_speed; this times the whole path a person takes. Issue 13's
targets: `cordon --help` ≤ 0.5 s; the page answers at once when tracing starts (the trace was
14 s inside the request before it became a job). BENCH_PATH_PEOPLE (20000) sets the city.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = int(os.environ.get("BENCH_PATH_PEOPLE", "20000"))
# The demo's login and address lines, the same in every language the CLI speaks.
LOGIN = re.compile(r"username=(\S+) password=(\S+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 1)


def _help_seconds() -> list[float]:
    cordon = Path(sys.executable).with_name("cordon")
    times = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([str(cordon), "--help"], check=True, capture_output=True)
        times.append(round(time.perf_counter() - began, 3))
    return times


class Browser:
    """Cookies and forms over urllib, as a browser sends them (no redirects followed)."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect
        )

    def get(self, path: str) -> tuple[int, str, float]:
        began = time.perf_counter()
        with self.opener.open(self.base + path, timeout=120) as answer:
            return answer.status, answer.read().decode(), _ms(began)

    def post(
        self, path: str, form: dict[str, str] | list[tuple[str, str]]
    ) -> tuple[int, str, float]:
        data = urllib.parse.urlencode(form).encode()
        began = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=data, timeout=120) as answer:
                return answer.status, answer.headers.get("location", ""), _ms(began)
        except urllib.error.HTTPError as redirect:  # 303 is not followed
            return redirect.code, redirect.headers.get("location", ""), _ms(began)


def _demo(folder: Path) -> tuple[subprocess.Popen[str], str, str, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
    env["COLUMNS"] = "200"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("cordon")),
            "demo",
            "--port",
            str(port),
            "--people",
            str(PEOPLE),
            "--data-dir",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    found: dict[str, str] = {}
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if match := LOGIN.search(line):
                found["user"], found["password"] = match.groups()
            if f"http://127.0.0.1:{port}/" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(900):
        raise RuntimeError("the demo did not start")
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise RuntimeError("the demo never answered /healthz:\n" + "".join(lines))
    return process, base, found["user"], found["password"]


def run() -> dict[str, Any]:
    helps = _help_seconds()
    out: dict[str, Any] = {
        "cordon_help_seconds": {"runs": helps, "median": statistics.median(helps)},
        "targets": {"cordon_help_seconds": 0.5},
        "people": PEOPLE,
    }
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        process, base, user, password = _demo(Path(folder))
        out["demo_start_seconds"] = round(time.perf_counter() - started, 1)
        try:
            web = Browser(base)
            _status, form, _ = web.get("/login")
            token = CSRF.search(form).group(1)  # type: ignore[union-attr]
            web.post("/login", {"username": user, "password": password, "csrf_token": token})
            _status, cases, out["cases_page_ms"] = web.get("/cases")
            case_id = re.search(r'href="/cases/(\d+)"', cases).group(1)  # type: ignore[union-attr]
            _status, page, out["case_page_ms"] = web.get(f"/cases/{case_id}")
            token = CSRF.search(page).group(1)  # type: ignore[union-attr]
            _status, where, out["trace_start_ms"] = web.post(
                f"/trace/cases/{case_id}/run", {"csrf_token": token, "pack": "guangxi-2021-12"}
            )
            job = re.search(r"job=(\d+)", where).group(1)  # type: ignore[union-attr]
            began = time.perf_counter()
            while True:
                _s, progress, _ = web.get(f"/jobs/{job}/progress")
                if "job-done" in progress or "job-failed" in progress:
                    break
                time.sleep(0.2)
            out["trace_job_seconds"] = round(time.perf_counter() - began, 2)
            out["trace_job_status"] = "done" if "job-done" in progress else "failed"
            _s, panel, out["case_panel_ms"] = web.get(f"/trace/cases/{case_id}/panel")
            _s, _contacts, out["contacts_page_ms"] = web.get(f"/trace/contacts?case_id={case_id}")
            person = re.search(r'href="/people/(\d+)"', panel).group(1)  # type: ignore[union-attr]
            # Issue 14: the list's cost for tiers 1 and 2, then the commander pushes them, and
            # the riskiest contact's code is red (codes follow the pushed facts by themselves).
            token = CSRF.search(panel).group(1)  # type: ignore[union-attr]
            chosen = [("csrf_token", token), ("tiers", "1"), ("tiers", "2")]
            out["cost_preview_ms"] = web.post(f"/trace/cases/{case_id}/preview", chosen)[2]
            _s, _where, out["push_ms"] = web.post(f"/trace/cases/{case_id}/push", chosen)
            began = time.perf_counter()
            while "code-red" not in web.get(f"/codes/people/{person}")[1]:
                if time.perf_counter() - began > 120:
                    raise RuntimeError(f"person {person}'s code is not red 120 s after the push")
                time.sleep(0.2)
            out["push_to_red_code_ms"] = _ms(began)
            _s, _code, out["contact_code_page_ms"] = web.get(f"/codes/people/{person}")
            _s, _person, out["person_page_ms"] = web.get(f"/people/{person}")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    return out
