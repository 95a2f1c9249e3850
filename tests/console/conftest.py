"""Fixtures of the console's route tests: the app on the test's home, a client that
has signed in with the one-time token, and the CSRF token its forms carry."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the console needs the [console] extra")
from starlette.testclient import TestClient

from amp_destinations.console import create_app

sys.path.insert(0, str(Path(__file__).parents[1]))

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Console:
    """A TestClient on the console, with what the tests do again and again."""

    def __init__(self, client: TestClient):
        self.client = client
        self.app = client.app

    def sign_in(self) -> Console:
        answer = self.client.get(f"/?token={self.app.state.token}")
        assert answer.status_code == 303
        return self

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.client.get("/plugins").text)
        assert found, "no page carries a CSRF token"
        return found.group(1)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def wait_for(self, run_id: int, timeout: float = 30.0):
        """The run once the console's job for it has ended."""
        job = self.app.state.console.jobs.for_run(run_id)
        assert job is not None
        assert job.done.wait(timeout)
        with self.app.state.console.open_host() as host:
            return host.run(run_id)

    def run_id(self, answer) -> int:
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith("/runs/"), location
        return int(location.removeprefix("/runs/"))


@pytest.fixture
def make_console(home):
    made: list[TestClient] = []

    def make(registry, **options) -> Console:
        app = create_app(home, registry=registry, **options)
        client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        made.append(client)
        return Console(client)

    yield make
    for client in made:
        client.close()


@pytest.fixture
def console(make_console, registry, script):
    """The console with the recorder plugin, signed in."""
    return make_console(registry).sign_in()


@pytest.fixture
def larch_console(make_console, larch_registry, larch):
    """The console with Larch, the throw-away OAuth plugin, and its provider running."""
    return make_console(larch_registry).sign_in()
