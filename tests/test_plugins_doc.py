"""docs/plugins.md cannot drift, and the standard suite it teaches catches what it claims.

The doc's Python blocks, put together file by file as the doc says (a block's first
line names its file; a block without one continues the file before), are a plugin,
``amp_acme_crm``, and its tests. Both run here: pytest collects the doc's tests as this
module's, the standard suite ``TestAcmeCrm`` included. Then variants of the doc's
destination, each with one planted defect, show that the suite fails on every kind of
defect it checks for, in the check meant to catch it.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
from pathlib import Path

import httpx
import orjson
import pytest
from marshmallow import Schema, fields

import amp_destinations as amp

sys.path.insert(0, str(Path(__file__).parent))
from doc_support import blocks

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "plugins.md"
_HEADER = re.compile(r"# (\S+\.py)\b")


def tangle(text: str) -> dict[str, str]:
    """Each file's source, its blocks at the lines where the doc has them (the lines
    between left blank), so that a traceback points into docs/plugins.md."""
    lines: dict[str, list[str]] = {}
    current = None
    for number, block in enumerate(blocks(text), 1):
        header = _HEADER.match(block.code)
        if header:
            current = header.group(1)
        assert current, f"python block {number} of docs/plugins.md names no file"
        source = lines.setdefault(current, [])
        source.extend([""] * (block.line - 1 - len(source)))
        source.extend(block.code.splitlines())
    return {name: "\n".join(source) + "\n" for name, source in lines.items()}


def load(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(DOC)
    sys.modules[name] = module  # the tests import the plugin by its name
    exec(compile(source, str(DOC), "exec"), module.__dict__)
    return module


FILES = tangle(DOC.read_text())
acme = load("amp_acme_crm", FILES["amp_acme_crm/__init__.py"])
doc_tests = load("test_acme_crm", FILES["tests/test_acme_crm.py"])

# What pytest runs of the doc: the standard suite and the doc's own test functions.
TestAcmeCrm = doc_tests.TestAcmeCrm
DOC_TEST_FUNCTIONS = sorted(
    name for name, value in vars(doc_tests).items() if name.startswith("test_") and callable(value)
)
globals().update({name: getattr(doc_tests, name) for name in DOC_TEST_FUNCTIONS})


def test_the_doc_is_two_files_with_tests_of_each_kind():
    assert set(FILES) == {"amp_acme_crm/__init__.py", "tests/test_acme_crm.py"}
    assert len(DOC_TEST_FUNCTIONS) >= 4
    assert issubclass(TestAcmeCrm, amp.testing.DestinationTests)


# -- the suite on the doc's destination, and on planted defects -------------------------


def run_suite(suite: type) -> dict[str, str]:
    """Every check of a suite, run as pytest runs one (a fresh instance, setup and
    teardown): "passed", "skipped: why" or "failed: the assertion's message"."""
    outcomes = {}
    for name in sorted(n for n in dir(suite) if n.startswith("test_")):
        instance = suite()
        instance.setup_method(None)
        try:
            getattr(instance, name)()
        except AssertionError as exc:
            outcomes[name] = f"failed: {exc}"
        except pytest.skip.Exception as exc:
            outcomes[name] = f"skipped: {exc}"
        else:
            outcomes[name] = "passed"
        finally:
            instance.teardown_method(None)
    return outcomes


def test_the_doc_destination_passes_every_check_and_skips_none():
    outcomes = run_suite(TestAcmeCrm)
    assert len(outcomes) >= 18
    assert {name: o for name, o in outcomes.items() if o != "passed"} == {}


class QuotesTheValue(acme.AcmeCrm):
    def prepare(self, values, warnings):
        item = super().prepare(values, warnings)
        if item is self.EMAIL_INVALID:
            return amp.RecordError("email.invalid", "email", f"{values[1]!r} is not an address")
        return item


class PostsATestContact(acme.AcmeCrm):
    def test_connection(self, session):
        contact = {"id": "connection-test", "email": "test@example.com"}
        session.post(
            f"{self.base_url}/v1/contacts:batch",
            json={"list_id": self.list_id, "contacts": [contact]},
            headers=self.headers,
        )
        return super().test_connection(session)


class RejectsServerErrors(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        if outcome.kind == "retry" and not outcome.throttled:
            return amp.BatchOutcome.rejected("acme.unavailable", "Acme failed")
        return outcome


class MisspelledIdentifiers(acme.AcmeCrm):
    identifiers = {"email": ("email",)}  # ("email") is a string, not a tuple of columns


class PlainKeyFields(Schema):
    api_key = fields.String(required=True, metadata={"secret": True})  # not Secret()
    workspace = fields.String(load_default=None)


class PlainKey(acme.AcmeApiKey):
    schema = PlainKeyFields


class ChecksNothing(acme.AcmeCrm):
    def test_connection(self, session):
        return amp.ConnectionStatus([])


class RefusedKeyIsConfig(acme.AcmeCrm):
    def test_connection(self, session):
        checks = super().test_connection(session).checks
        return amp.ConnectionStatus(
            [c if c.ok else dataclasses.replace(c, failure=amp.FailureType.CONFIG) for c in checks]
        )


class UnguardedConnectionTest(acme.AcmeCrm):
    def test_connection(self, session):
        session.get(f"{self.base_url}/v1/lists/{self.list_id}", headers=self.headers)
        return super().test_connection(session)


class CaseSensitiveEmails(acme.AcmeCrm):
    def prepare(self, values, warnings):
        email = values[1]
        if email and email != email.lower():
            return self.EMAIL_INVALID
        return super().prepare(values, warnings)


class UndottedCode(acme.AcmeCrm):
    EMAIL_INVALID = amp.RecordError("InvalidEmail", "email", "email is not an address")


class UnclosedFrame(acme.AcmeCrm):
    def batch_frame(self, key):
        head, separator, _tail = super().batch_frame(key)
        return head, separator, b"]"


class ReencodesTheBody(acme.AcmeCrm):
    def deliver(self, batch, session):
        body = orjson.dumps({"source": "amp-destinations", **orjson.loads(batch.body)})
        return super().deliver(amp.Batch(batch.key, batch.rows, batch.ids, body, []), session)


class TransportErrorIsFatal(acme.AcmeCrm):
    def deliver(self, batch, session):
        try:
            return super().deliver(batch, session)
        except httpx.TransportError:
            return amp.BatchOutcome.fatal("Acme is unreachable", amp.FailureType.CONFIG)


class RateLimitNotThrottled(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        return dataclasses.replace(outcome, throttled=False, retry_after=None)


class RetriesARefusedKey(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        if outcome.failure is amp.FailureType.AUTH:
            return amp.BatchOutcome.retry("Acme refused the key")
        return outcome


class ShowsTheKey(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        if outcome.kind == "fatal":
            key = self.headers["Authorization"]
            return amp.BatchOutcome.fatal(f"Acme refused {key}", outcome.failure)
        return outcome


class HintMissesTheName(acme.AcmeCrm):
    def test_connection(self, session):
        hint = "set a valid key with `amp-dest credentials update --secret api_key`"
        checks = super().test_connection(session).checks
        return amp.ConnectionStatus(
            [c if c.ok else dataclasses.replace(c, hint=hint) for c in checks]
        )


class MisspelledCommand(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        if outcome.kind == "fatal":
            message = "Acme refused the key; run `amp-dest credential update acme`"
            return amp.BatchOutcome.fatal(message, outcome.failure)
        return outcome


class RefusedBatchIsFatal(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        if outcome.kind == "rejected":
            return amp.BatchOutcome.fatal(outcome.message, amp.FailureType.SYSTEM)
        return outcome


class IgnoresRefusedItems(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        return amp.BatchOutcome.delivered() if outcome.kind == "rejected_items" else outcome


class RowNumbersAsIndexes(acme.AcmeCrm):
    def deliver(self, batch, session):
        outcome = super().deliver(batch, session)
        if outcome.kind != "rejected_items":
            return outcome
        rejections = [
            dataclasses.replace(rejection, index=batch.rows[rejection.index])
            for rejection in outcome.rejections
        ]
        return amp.BatchOutcome.rejected_items(rejections)


# (variant, or the suite's attributes to change; the check that must fail; what it says)
DEFECTS = [
    (MisspelledIdentifiers, "test_declares_its_names_and_limits", "each alternative"),
    (
        {"credential_type_class": PlainKey},
        "test_settings_load_and_export_to_json_schema_with_secrets_marked",
        "not load_only",
    ),
    (ChecksNothing, "test_connection_passes_against_a_remote_system_that_accepts", "no checks"),
    (PostsATestContact, "test_connection_sends_no_record", "a connection test only reads"),
    (RefusedKeyIsConfig, "test_connection_reports_a_refused_credential_as_auth", "AUTH"),
    (
        UnguardedConnectionTest,
        "test_connection_reports_an_unreachable_remote_system_as_transient",
        "raised ConnectError",
    ),
    (CaseSensitiveEmails, "test_prepare_turns_good_rows_into_items", "good row 1 was rejected"),
    (UndottedCode, "test_prepare_rejects_bad_rows_with_stable_reason_codes", "dotted"),
    (QuotesTheValue, "test_prepare_messages_never_quote_a_raw_value", "'not-an-address'"),
    (UnclosedFrame, "test_batches_are_valid_bodies_within_the_limits", "not valid JSON"),
    (ReencodesTheBody, "test_deliver_reports_an_accepted_batch_as_delivered", "batch.body"),
    (TransportErrorIsFatal, "test_deliver_retries_after_a_transport_error", "ConnectError"),
    (RejectsServerErrors, "test_deliver_retries_a_server_error", "'rejected'"),
    (RateLimitNotThrottled, "test_deliver_retries_a_rate_limit_slowing_the_run", "throttled"),
    (RetriesARefusedKey, "test_deliver_stops_the_run_when_the_credential_is_refused", "AUTH"),
    (ShowsTheKey, "test_deliver_stops_the_run_when_the_credential_is_refused", "secret"),
    (HintMissesTheName, "test_connection_reports_a_refused_credential_as_auth", "Missing arg"),
    (MisspelledCommand, "test_deliver_stops_the_run_when_the_credential_is_refused", "refuses"),
    (RefusedBatchIsFatal, "test_deliver_reports_a_refused_batch_as_rejected", "not rejected"),
    (IgnoresRefusedItems, "test_deliver_reports_items_refused_one_by_one", "rejected_items"),
    (RowNumbersAsIndexes, "test_outcomes_add_up", "outside the batch"),
]


@pytest.mark.parametrize(
    ("defect", "check", "says"),
    DEFECTS,
    ids=[
        d.__name__ if isinstance(d, type) else next(iter(d.values())).__name__ for d, *_ in DEFECTS
    ],
)
def test_the_suite_fails_on_a_planted_defect(defect, check, says):
    changes = defect if isinstance(defect, dict) else {"destination_class": defect}
    # plugin=None: the suite registers the variant itself, as it does without a plugin.
    suite = type(f"Test{check}", (TestAcmeCrm,), {"plugin": None, **changes})
    outcome = run_suite(suite)[check]
    assert outcome.startswith("failed: "), f"{check} did not catch the defect: {outcome}"
    assert says in outcome


def test_every_check_of_the_suite_has_a_planted_defect():
    checks = {name for name in dir(amp.testing.DestinationTests) if name.startswith("test_")}
    assert checks == {check for _, check, _ in DEFECTS}
