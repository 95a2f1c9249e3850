"""Who may use the console and what its pages may load: the one-time token and the
session cookie on every request, CSRF on every form post, the security headers, the
upload bound."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from amp_destinations.console._security import CONTENT_SECURITY_POLICY


def post_routes(app) -> list[str]:
    paths = []
    for route in app.routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            paths.append(
                route.path.replace("{name}", "x")
                .replace("{setting}", "x")
                .replace("{run:int}", "1")
            )
    return paths


def test_every_page_and_file_is_refused_without_the_token(make_console, registry):
    console = make_console(registry)
    for path in ("/", "/plugins", "/credentials", "/runs", "/static/htmx.min.js"):
        answer = console.get(path)
        assert answer.status_code == 403, path
        assert "one-time token" in answer.text
    assert console.get("/?token=wrong").status_code == 403


def test_the_token_gives_a_cookie_once_and_leaves_the_address(make_console, registry):
    console = make_console(registry)
    token = console.app.state.token
    answer = console.get(f"/runs?kind=send&token={token}")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/runs?kind=send"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert token not in cookie
    assert console.get("/runs").status_code == 200
    assert console.get("/static/htmx.min.js").status_code == 200
    # Used once: another browser (no cookie) cannot use it again.
    console.client.cookies.clear()
    assert console.get(f"/?token={token}").status_code == 403


def test_every_answer_carries_a_strict_policy(console):
    for path in ("/plugins", "/runs", "/static/htmx.min.js", "/runs/999"):
        headers = console.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_pages_load_nothing_from_another_site(console):
    page = console.get("/send").text
    assert 'src="/static/htmx.min.js"' in page
    assert "http://" not in page and "https://" not in page
    assert "<script>" not in page and "style=" not in page


def test_every_form_post_is_refused_without_the_csrf_token(console):
    paths = post_routes(console.app)
    assert len(paths) >= 12
    for path in paths:
        answer = console.client.post(path, data={"name": "x"})
        assert answer.status_code == 403, path
        assert "CSRF" in answer.text
        answer = console.client.post(path, data={"csrf_token": "forged"})
        assert answer.status_code == 403, path


def test_a_post_from_another_site_is_refused_even_with_the_token(console):
    answer = console.post(
        "/credentials/new", {"type": "echo-token"}, headers={"Origin": "http://evil.example"}
    )
    assert answer.status_code == 403
    assert "another site" in answer.text


def test_the_csrf_token_may_come_as_htmx_sends_it(console, ready_host):
    answer = console.client.post("/destinations/rec/test", headers={"X-CSRF-Token": console.csrf})
    assert answer.status_code == 200
    assert "token accepted" in answer.text


@pytest.mark.parametrize("declared", [True, False])
def test_an_upload_over_the_bound_is_refused(make_console, registry, script, declared):
    console = make_console(registry, max_upload=4096).sign_in()
    body = b"id,email\n" + b"E1,a@example.com\n" * 1000
    if declared:
        answer = console.client.post(
            "/send",
            data={"csrf_token": console.csrf, "destination": "rec"},
            files={"upload": ("big.csv", body, "text/csv")},
        )
    else:  # a chunked body declares no length
        answer = console.client.post(
            "/send",
            content=iter([body[i : i + 1000] for i in range(0, len(body), 1000)]),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
    assert answer.status_code == 413
    assert "4,096 bytes" in answer.text


def test_the_vendored_htmx_is_the_release_its_record_names():
    import hashlib
    import re
    from pathlib import Path

    import amp_destinations.console as console_package

    static = Path(console_package.__file__).parent / "static"
    record = (static / "VENDORED.txt").read_text()
    script = (static / "htmx.min.js").read_bytes()
    version = re.search(r"htmx (\d+\.\d+\.\d+)", record).group(1)
    assert f'version:"{version}"'.encode() in script
    assert hashlib.sha256(script).hexdigest() in record.replace("\n", "")
    assert "Zero-Clause BSD" in (static / "htmx-LICENSE.txt").read_text()
