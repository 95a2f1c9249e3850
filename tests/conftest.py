"""Shared fixtures: an isolated home, an in-memory keyring, and a scriptable plugin.

The ``recorder`` destination is a real plugin registered through the hooks; its
``deliver`` follows a script (retry N times, reject batches holding a poisoned email,
fail fatally) so that the engine's behaviour can be asserted without a network.
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
from pathlib import Path

import keyring
import orjson
import pytest
from click.testing import CliRunner
from marshmallow import Schema, fields

import amp_destinations as amp
from amp_destinations._cli import build_cli
from amp_destinations.testing import MemoryKeyring


class EchoTokenSchema(Schema):
    token = amp.Secret(required=True, metadata={"description": "Any token; 'good' passes tests."})
    account = fields.String(metadata={"description": "An account label."})


class EchoToken(amp.CredentialType):
    name = "echo-token"
    title = "Echo token"
    schema = EchoTokenSchema


class RecorderSettings(Schema):
    label = fields.String(required=True, metadata={"description": "A label."})
    poison = fields.List(
        fields.String(),
        load_default=list,
        metadata={"description": "Emails whose batch is rejected whole."},
    )
    retries = fields.Integer(load_default=0, metadata={"description": "Answer retry this often."})
    fatal_after = fields.Integer(
        load_default=-1, metadata={"description": "Stop the run after N batches."}
    )
    enabled = fields.Boolean(load_default=True, metadata={"description": "A bool setting."})
    throttle_once = fields.Float(
        load_default=0.0,
        metadata={
            "description": "Answer the first batch 'rate limited, retry after this many seconds'."
        },
    )
    delay = fields.Float(load_default=0.0, metadata={"description": "Seconds each answer takes."})
    crash = fields.Boolean(
        load_default=False, metadata={"description": "Raise from deliver, quoting a record."}
    )


class Script:
    """What the recorder received and how it should answer; reset for every test."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[dict] = []
        self.calls = 0
        self.bodies: list[bytes] = []
        self.starts: list[float] = []  # time.monotonic() at the start of each deliver
        self.throttled_at: float | None = None


class Recorder(amp.Destination):
    name = "recorder"
    title = "Recorder (tests)"
    credential_type = "echo-token"
    settings_schema = RecorderSettings
    max_batch_size = 10
    id_field = "id"
    identifiers = {"email": (("email",),), "phone with id": (("phone", "id"),)}
    script = Script()

    def test_connection(self, session):
        if self.credential["token"] == "good":
            return amp.ConnectionStatus([amp.Check.passed("token accepted")])
        return amp.ConnectionStatus(
            [
                amp.Check.failed(
                    "token accepted",
                    "the token was refused",
                    f"update it with `amp-dest credentials update {self.credential.name} "
                    "--secret token`",
                    amp.FailureType.AUTH,
                )
            ]
        )

    def on_save(self, session, previous):
        if previous is None or previous.get("label") != self.settings["label"]:
            return [f"label set to {self.settings['label']}"]
        return []

    def prepare(self, row, warnings):
        email = row.get("email")
        if not email:
            return amp.RecordError("email.missing", "email", "email is required")
        if row.get("crash"):
            raise KeyError(f"no plan for {email}")
        if row.get("extra"):
            warnings.append(amp.RecordWarning("extra.ignored", "extra", "extra is not sent"))
        return {"id": row.get("id"), "email": email}

    def deliver(self, batch, session):
        script = self.script
        with script.lock:
            script.calls += 1
            calls = script.calls
            script.starts.append(time.monotonic())
        time.sleep(self.settings["delay"])
        if calls == 1 and self.settings["throttle_once"]:
            script.throttled_at = time.monotonic()
            return amp.BatchOutcome.retry(
                "slow down", retry_after=self.settings["throttle_once"], throttled=True
            )
        if calls <= self.settings["retries"]:
            return amp.BatchOutcome.retry("busy", retry_after=0)
        if 0 <= self.settings["fatal_after"] < calls:
            return amp.BatchOutcome.fatal("the account was suspended", amp.FailureType.AUTH)
        items = orjson.loads(batch.body)
        if self.settings["crash"]:
            raise ValueError(f"cannot handle {items[0]['email']}")
        if any(item["email"] in self.settings["poison"] for item in items):
            return amp.BatchOutcome.rejected("recorder.poisoned", "a poisoned email")
        with script.lock:
            script.received.extend(items)
            script.bodies.append(batch.body)
        return amp.BatchOutcome.delivered()


class RecorderPlugin:
    __name__ = "recorder-plugin"

    @amp.hookimpl
    def register_credential_types(self, register):
        register(EchoToken)

    @amp.hookimpl
    def register_destinations(self, register):
        register(Recorder)


# The keyed recorder's window: an hour, so that a test can age keys past it.
KEYED_WINDOW = 3600


class KeyedRecorder(Recorder):
    """The recorder, with its items' ids as idempotency keys and test events."""

    name = "keyed-recorder"
    title = "Recorder with idempotency keys (tests)"
    idempotency_window = KEYED_WINDOW

    def idempotency_key(self, item):
        return None if item["id"] is None else ("events", item["id"])

    def start_test_events(self, test_event_code):
        self.test_events = True


class KeyedPlugin:
    __name__ = "keyed-recorder-plugin"

    @amp.hookimpl
    def register_destinations(self, register):
        register(KeyedRecorder)


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    monkeypatch.setenv("AMP_DEST_HOME", str(path))
    for name in ("AMP_DEST_STRICT_PLUGINS", "AMP_DEST_TRACE_HOOKS", "AMP_DEST_PLUGINS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def script():
    Recorder.script = Script()
    return Recorder.script


@pytest.fixture
def registry():
    return amp.load_plugins(entry_points=False, extra=[RecorderPlugin()])


@pytest.fixture
def host(home, registry, script):
    with amp.Host(home, registry=registry) as host:
        yield host


@pytest.fixture
def cli(registry):
    return build_cli(registry)


@pytest.fixture
def write(tmp_path):
    """Write ``data`` to ``name`` in a temporary directory, gzipped when it ends in .gz;
    returns the path, for the reader tests."""

    def write(name: str, data: bytes | str) -> str:
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return str(path)

    return write


@pytest.fixture
def run(cli):
    """``amp-dest ARGS...`` through click's CliRunner, as an operator types it; ``env``
    adds environment variables for that one command."""
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def configure(run):
    """Add the credential ``cred`` and the recorder destination ``rec`` through the CLI,
    in the home ``env`` names (the test's home by default); returns ``run``."""

    def configure_home(env=None):
        added = run(
            "credentials",
            "add",
            "cred",
            "--type",
            "echo-token",
            "--set",
            "account=acme",
            "--secrets-stdin",
            input='{"token": "good"}',
            env=env,
        )
        assert added.exit_code == 0, added.output
        added = run(
            "destinations",
            "add",
            "rec",
            "--type",
            "recorder",
            "--credential",
            "cred",
            "--set",
            "label=one",
            env=env,
        )
        assert added.exit_code == 0, added.output
        return run

    return configure_home


@pytest.fixture
def configured(configure):
    """``run`` in a home set up by ``configure``."""
    return configure()


@pytest.fixture
def ready_host(host):
    """A host with a good credential and a saved recorder destination."""
    host.add_credential("cred", "echo-token", {"account": "acme"}, {"token": "good"})
    host.add_destination("rec", "recorder", "cred", {"label": "one"})
    return host


# -- Larch: a throw-away plugin with an OAuth provider of its own (oauth_support) ------


def _oauth_support():
    sys.path.insert(0, str(Path(__file__).parent))
    import oauth_support

    return oauth_support


@pytest.fixture
def larch():
    """Larch's provider, serving on a free port of 127.0.0.1 for this test."""
    provider = _oauth_support().LarchProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def larch_registry():
    return amp.load_plugins(entry_points=False, extra=[_oauth_support().LarchPlugin()])


@pytest.fixture
def larch_host(home, larch_registry):
    with amp.Host(home, registry=larch_registry) as host:
        yield host
