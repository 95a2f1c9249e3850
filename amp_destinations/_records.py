"""What the Host API returns: the result of a send, and what it knows of stored things
(credentials, destinations, runs and the attempts of a run), each an object with
documented fields, frozen but for the result; and the status of a run as an enum.

``to_dict()`` gives each as the JSON the CLI prints with ``--json``; its keys are
stable. Times are seconds since the epoch (``time.time()``), None while unknown.

This module does not use ``from __future__ import annotations``: the dataclasses'
annotations are real objects, so ``typing.get_type_hints`` resolves them whatever
module the classes say they live in (``amp_destinations``).
"""

import dataclasses
from enum import StrEnum
from typing import Any

from ._public import public

__all__ = [
    "SPARK_FORMAT",
    "RunStatus",
    "RunResult",
    "CredentialInfo",
    "AuthorizeResult",
    "DestinationInfo",
    "RunInfo",
    "AttemptInfo",
]


def _fields_dict(record: Any) -> dict[str, Any]:
    """A record's fields by name, in their declared order, a status as its plain string."""
    values = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    return {
        name: value.value if isinstance(value, StrEnum) else value for name, value in values.items()
    }


# The input format a run sent from Spark records (amp_destinations.spark): such a run is
# re-run from its Spark job, never resumed by a process that cannot read its DataFrame.
SPARK_FORMAT = "spark"


@public
class RunStatus(StrEnum):
    """How a run (or one attempt of it) stands. A ``str``: each member equals its value
    (``status == "succeeded"``) and prints as it."""

    RUNNING = "running"  # sending now, in a process that is alive
    SUCCEEDED = "succeeded"  # every row was delivered or rejected with a reason
    FAILED = "failed"  # stopped by an error: the remote system's, the input's or the disk's
    INCOMPLETE = "incomplete"  # rows are left pending after their retries
    INTERRUPTED = "interrupted"  # stopped by Ctrl-C or SIGTERM
    STOPPED = "stopped"  # its process ended without recording an end (kill -9, power loss)


@public
class RunKind(StrEnum):
    """What a run was for. A ``str``, like ``RunStatus``."""

    SEND = "send"  # the rows sent for real
    DRY_RUN = "dry_run"  # everything but the network: the request bodies written out
    VALIDATION = "validation"  # prepared locally, a sample sent as test events, a verdict


@public
@dataclasses.dataclass
class RunResult:
    """What ``Host.send`` returns: how the run ended and its figures.

    ``id``          the run's id (``Host.run(id)``, ``Host.send(resume=id)``)
    ``destination`` the configured destination's name
    ``status``      a ``RunStatus``: succeeded, failed, incomplete or interrupted
    ``summary``     the run's figures: rows_read, delivered, rejected, already_sent
                    (skipped: delivered by an earlier run, see ``Host.send``), resent
                    (delivered again with ``resend``), pending, rejected_by_code,
                    warnings_by_code, retries, batches, requests, attempts,
                    elapsed_seconds, rows_per_second, identifier_coverage,
                    match_keys (rows prepared by how many identifiers each carries,
                    bucketed "0", "1", "2", "3+"; empty when the destination declares
                    none), remote_notes, dry_run and, as they apply, requests_written,
                    rate_limit_pauses, lowest_concurrency, stopped_by, resend, and failure:
                    the ``FailureType`` value of the fatal outcome that stopped the
                    run ("auth" when the remote system refused the credential)
    ``rejects_path`` the rejects file; ``output_path`` the dry run's request folder
    ``error``       why it did not succeed, or None
    ``kind``        a ``RunKind``: a send, a dry run or a validation run, whose
                    summary also has ``not_sent`` (valid rows left out of the sample)
                    and ``verdict`` (see ``Host.send``)
    """

    id: int
    destination: str
    status: RunStatus
    summary: dict[str, Any]
    rejects_path: str | None = None
    output_path: str | None = None
    error: str | None = None
    kind: RunKind = RunKind.SEND

    @property
    def ok(self) -> bool:
        """Whether the run succeeded: every row delivered or rejected with a reason."""
        return self.status == RunStatus.SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "destination": self.destination,
            "status": str(self.status),
            "kind": str(self.kind),
            "error": self.error,
            "rejects_path": self.rejects_path,
            "output_path": self.output_path,
            **self.summary,
        }


@public
@dataclasses.dataclass(frozen=True)
class CredentialInfo:
    """A stored credential, never its secret values.

    ``name``        the credential's name
    ``type``        its credential type, as a plugin registered it
    ``fields``      the non-secret fields as stored (user info in a URL redacted)
    ``secrets``     each secret field of the type, with where its value comes from:
                    "keyring", "environment", or None when it is not set
    ``missing_secrets``  the secret fields the type requires that are not set: the
                    credential cannot be used until they are (an optional secret
                    left unset is not missing)
    ``created_at``, ``updated_at``  seconds since the epoch
    ``facts``       what an authorization said about the account the credential acts
                    for (``Authorization.facts``: advertiser ids, granted scopes...);
                    empty for a credential added with its secrets
    """

    name: str
    type: str
    fields: dict[str, Any]
    secrets: dict[str, str | None]
    missing_secrets: tuple[str, ...]
    created_at: float
    updated_at: float
    facts: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@public
@dataclasses.dataclass(frozen=True)
class AuthorizeResult:
    """What ``Host.authorize_credential`` and ``reauthorize_credential`` did.

    ``credential``  the credential as stored, facts included
    ``warnings``    one line each for the operator: a permission the provider did not
                    grant, a secret that an environment variable overrides...
    """

    credential: CredentialInfo
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"credential": self.credential.to_dict(), "warnings": list(self.warnings)}


@public
@dataclasses.dataclass(frozen=True)
class DestinationInfo:
    """A configured destination.

    ``name``        the destination's name
    ``type``        its destination type, as a plugin registered it
    ``credential``  the name of the credential it uses, None when its type needs none
    ``settings``    from ``Host.destinations()``: the settings as stored (user info in
                    a URL redacted); from ``Host.destination_info(name)``: as the
                    settings schema loads them, defaults included
    ``created_at``, ``updated_at``  seconds since the epoch
    """

    name: str
    type: str
    credential: str | None
    settings: dict[str, Any]
    created_at: float
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@public
@dataclasses.dataclass(frozen=True)
class AttemptInfo:
    """One attempt of a run: the first send, or a resume. Its figures are this
    attempt's alone; the run's add them up.

    ``run_id``, ``attempt``  the run, and this attempt's number in it (from 1)
    ``pid``         the process that made it
    ``status``      a ``RunStatus``: how the attempt ended, ``running`` while its
                    process is alive, ``stopped`` when that process died unrecorded
    ``error``       why it stopped, or None
    ``started_at``, ``ended_at``  seconds since the epoch (``ended_at`` None while it
                    runs; for a stopped attempt, when it last recorded a batch)
    ``last_seen_at``  when it last recorded a batch
    ``rows_read``, ``delivered``, ``rejected``, ``already_sent``  rows this attempt
                    read and settled (already sent: skipped, delivered by an earlier run)
    ``resent``      rows it delivered although an earlier run had (``resend``)
    ``prepared``    rows it prepared that no earlier attempt had counted (recorded when
                    it ends; a row prepared but left unsettled counts in the attempt
                    that first prepared it, and the figures below with it)
    ``batches``, ``requests``, ``retries``  batches it sent, requests it made, retries
    ``warnings``    warnings by reason code, for the rows it settled
    ``coverage``    identifier coverage: rows carrying each identifier, by label
    ``match_keys``  prepared rows by how many identifiers each carries: "0", "1", "2", "3+"
    """

    run_id: int
    attempt: int
    pid: int | None
    started_at: float
    last_seen_at: float
    ended_at: float | None
    status: RunStatus
    error: str | None
    rows_read: int
    delivered: int
    rejected: int
    already_sent: int
    resent: int
    batches: int
    requests: int
    retries: int
    warnings: dict[str, int]
    prepared: int
    coverage: dict[str, int]
    match_keys: dict[str, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@public
@dataclasses.dataclass(frozen=True)
class RunInfo:
    """A recorded run: what it sent, where to, how it stands and its figures.

    ``id``          the run's id, for ``Host.run(id)`` and ``Host.send(resume=id)``
    ``destination``, ``destination_type``  the configured destination and its type
    ``input``       the input file's absolute path; None for rows from Python
    ``format``      the input format (a reader's name), None for rows from Python
    ``dry_run``     whether it was a dry run (nothing sent, request bodies written)
    ``kind``        a ``RunKind``: send, dry run or validation
    ``status``      a ``RunStatus``
    ``started_at``, ``ended_at``  seconds since the epoch (``ended_at`` None until it ends)
    ``rows_read``, ``delivered``, ``rejected``, ``already_sent``, ``pending``  its
                    rows so far, over all attempts: read = delivered + rejected +
                    already_sent + pending (already sent: skipped, because an earlier
                    run delivered their items; see ``Host.send``)
    ``rejects_path``  the rejects file; ``output_path`` the dry run's request folder
    ``error``       why it did not succeed, or None
    ``pid``         the process of its latest attempt
    ``summary``     the run summary, as ``RunResult.summary`` (empty until it ends)
    ``attempts``    its attempts, first first, from ``Host.run(id)``; None from
                    ``Host.runs()``, which does not read them
    ``already_sent_rows``  the rows skipped as already sent, as (first, last) ranges,
                    from ``Host.run(id)``; None from ``Host.runs()``
    """

    id: int
    destination: str
    destination_type: str
    input: str | None
    format: str | None
    dry_run: bool
    kind: RunKind
    status: RunStatus
    started_at: float
    ended_at: float | None
    rows_read: int
    delivered: int
    rejected: int
    already_sent: int
    pending: int
    rejects_path: str | None
    output_path: str | None
    error: str | None
    pid: int | None
    summary: dict[str, Any]
    attempts: tuple[AttemptInfo, ...] | None = None
    already_sent_rows: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))
        object.__setattr__(self, "kind", RunKind(self.kind))

    def to_dict(self) -> dict[str, Any]:
        data = _fields_dict(self)
        attempts = data.pop("attempts")
        skipped = data.pop("already_sent_rows")
        # Host.runs() reads neither: its JSON has no such keys.
        if attempts is not None:
            data["attempts"] = [attempt.to_dict() for attempt in attempts]
        if skipped is not None:
            data["already_sent_rows"] = [list(rows) for rows in skipped]
        return data
