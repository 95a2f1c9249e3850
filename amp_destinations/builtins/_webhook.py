"""The ``webhook`` destination: POSTs each batch as a JSON array of records to a URL,
with a bearer token from the ``bearer-token`` credential type.

The receiver should deduplicate: a batch whose answer never arrived (a timeout) is
sent again, so it may arrive twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from marshmallow import Schema, fields, validate

from amp_destinations import (
    Batch,
    BatchOutcome,
    Check,
    ConnectionStatus,
    Credential,
    CredentialType,
    Destination,
    FailureType,
    RecordWarning,
    Secret,
    SecureUrl,
    retry_after_seconds,
)

__all__ = ["BearerToken", "WebhookDestination", "WebhookSettings"]

# The URL is wrong: every later batch would fail the same way.
_WRONG_URL_STATUSES = {404, 405, 410}


class BearerTokenFields(Schema):
    token = Secret(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Sent as `Authorization: Bearer <token>`."},
    )


class BearerToken(CredentialType):
    name = "bearer-token"
    title = "Bearer token"
    schema = BearerTokenFields


class WebhookSettings(Schema):
    url = SecureUrl(required=True, metadata={"description": "Where batches are POSTed."})
    test_url = SecureUrl(
        load_default=None,
        metadata={
            "description": "A read-only URL that the connection test GETs; "
            "without it, the test sends HEAD to url."
        },
    )
    timeout = fields.Float(
        load_default=30.0,
        validate=validate.Range(min=0, max=600, min_inclusive=False),
        metadata={"description": "Seconds to wait for each answer."},
    )
    max_batch_size = fields.Integer(
        load_default=500,
        validate=validate.Range(min=1, max=10_000),
        metadata={"description": "Records per request."},
    )


class WebhookDestination(Destination):
    """Sends records as JSON to an HTTPS endpoint that you run."""

    name = "webhook"
    title = "Webhook (JSON POST)"
    credential_type = "bearer-token"
    settings_schema = WebhookSettings

    def __init__(self, settings: Mapping[str, Any], credential: Credential | None = None):
        super().__init__(settings, credential)
        self.url = self.settings["url"]
        self.host = urlsplit(self.url).hostname
        self.timeout = self.settings.get("timeout", 30.0)
        # The host reads the batch size from the instance, so each webhook may differ.
        self.max_batch_size = self.settings.get("max_batch_size", 500)

    def _token_credential(self) -> Credential:
        # The host always gives one: credential_type names it.
        if self.credential is None:
            raise ValueError(
                f"the {self.name} destination needs a {self.credential_type} credential"
            )
        return self.credential

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token_credential()['token']}"}

    def _credential_hint(self) -> str:
        name = self._token_credential().name
        return f"update it with `amp-dest credentials update {name} --secret token`"

    # -- connection test ----------------------------------------------------------

    def test_connection(self, session: httpx.Client) -> ConnectionStatus:
        # Never a POST: a test must not deliver anything.
        test_url = self.settings.get("test_url")
        method, url = ("GET", test_url) if test_url else ("HEAD", self.url)
        try:
            response = session.request(method, url, headers=self._headers(), timeout=self.timeout)
        except httpx.TransportError as exc:
            return ConnectionStatus(
                [
                    Check.failed(
                        "url reachable",
                        f"no answer from {self.host} ({type(exc).__name__})",
                        f"check that {self.host} is up and reachable from this machine "
                        "(DNS, firewall, proxy)",
                        FailureType.TRANSIENT,
                    )
                ]
            )
        status = response.status_code
        reachable = _reachability_problem(status, method, self.host)
        if reachable:
            return ConnectionStatus([reachable])
        checks = [Check.passed("url reachable", f"{method} answered HTTP {status}")]
        if status in (401, 403):
            checks.append(
                Check.failed(
                    "token accepted",
                    f"the webhook refused the token (HTTP {status})",
                    self._credential_hint(),
                    FailureType.AUTH,
                )
            )
        elif 200 <= status < 300:
            checks.append(Check.passed("token accepted", f"HTTP {status}"))
        else:
            checks.append(
                Check.passed(
                    "token accepted",
                    f"not refused, though {method} answered HTTP {status}; "
                    "set test_url to a URL that checks the token for a stronger test",
                )
            )
        return ConnectionStatus(checks)

    # -- sending ------------------------------------------------------------------

    def prepare(self, row: Mapping[str, Any], warnings: list[RecordWarning]) -> dict:
        return {key: value for key, value in row.items() if value is not None and value != ""}

    def encode_item(self, item: dict) -> bytes:
        # Parquet can hand over Decimal and bytes, which JSON lacks: send their text.
        return orjson.dumps(item, default=str)

    def deliver(self, batch: Batch, session: httpx.Client) -> BatchOutcome:
        headers = {**self._headers(), "Content-Type": "application/json"}
        try:
            response = session.post(
                self.url, content=batch.body, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException:
            return BatchOutcome.retry(f"{self.host} did not answer within {self.timeout:g} s")
        except httpx.TransportError as exc:
            return BatchOutcome.retry(f"could not reach {self.host} ({type(exc).__name__})")
        return self._classify(response)

    def _classify(self, response: httpx.Response) -> BatchOutcome:
        status = response.status_code
        if 200 <= status < 300:
            return BatchOutcome.delivered()
        if status == 429:
            return BatchOutcome.retry(
                "the webhook is rate limiting (HTTP 429)",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                throttled=True,
            )
        if status >= 500 or status == 408:
            return BatchOutcome.retry(
                f"the webhook failed (HTTP {status})",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            return BatchOutcome.fatal(
                f"the webhook refused the token (HTTP {status}); {self._credential_hint()}",
                FailureType.AUTH,
            )
        if status in _WRONG_URL_STATUSES or 300 <= status < 400:
            return BatchOutcome.fatal(
                f"the webhook URL answered HTTP {status}: check the url setting",
                FailureType.CONFIG,
            )
        # The answer's text is not quoted: receivers echo record values (PII) and
        # headers back, and this message lands in the rejects file.
        return BatchOutcome.rejected(
            "webhook.rejected", f"the webhook refused the batch (HTTP {status})"
        )


def _reachability_problem(status: int, method: str, host: str | None) -> Check | None:
    """The failed "url reachable" check for an answer that shows the URL is wrong or
    the service is down; None when the URL answered as a webhook can."""
    if status == 404 or status == 410:
        return Check.failed(
            "url reachable",
            f"{method} answered HTTP {status}: there is nothing at this URL",
            "check the URL",
            FailureType.CONFIG,
        )
    if 300 <= status < 400:
        return Check.failed(
            "url reachable",
            f"{method} answered HTTP {status}: the URL redirects",
            "set the URL it redirects to",
            FailureType.CONFIG,
        )
    if status >= 500:
        return Check.failed(
            "url reachable",
            f"{host} failed (HTTP {status})",
            "try again later, or ask whoever runs the webhook",
            FailureType.TRANSIENT,
        )
    return None
