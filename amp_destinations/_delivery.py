"""Getting one batch to its fate: retries with backoff, a shared throttle, and splitting
a batch that was refused as a whole until the bad items stand alone.

This runs in worker threads; it only reads shared state (the throttle, the stop event)
and returns a ``BatchResult`` for the engine's thread to record.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ._base import Destination
from ._display import counted
from ._public import public
from ._results import Batch, BatchOutcome, FailureType, ItemRejection, OutcomeKind

__all__ = ["RetryPolicy", "Throttle", "BatchResult", "BatchSender", "plugin_failure", "raised_at"]


def raised_at(exc: BaseException) -> str:
    """``ValueError at file.py:12``: where an unexpected exception came from, never
    its text, which may quote a record's values (and this is stored with the run)."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"


def plugin_failure(destination: Destination, doing: str, exc: BaseException) -> str:
    """One line for a plugin's unexpected exception."""
    return (
        f"the {destination.name} plugin failed while {doing} ({raised_at(exc)}); "
        "report this to the plugin's authors"
    )


@public
@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8  # sends of one batch, the first included
    max_elapsed: float = 300.0  # seconds one batch may spend retrying
    base_delay: float = 0.5
    max_delay: float = 60.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Exponential backoff with full jitter: uniform in [d/2, d] with d doubling."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return ceiling * (0.5 + 0.5 * jitter)


class Throttle:
    """How fast the whole run may send, shared by the workers.

    A rate-limited answer holds back every worker's next send until the remote
    system's delay has passed, and halves the sends allowed in flight; each run of
    successes as long as the current limit lets one more back in (additive increase,
    multiplicative decrease), so a run settles just under the remote system's limit
    instead of every batch discovering it on its own.
    """

    def __init__(self, concurrency: int):
        self._condition = threading.Condition()
        self._not_before = 0.0
        self._most = max(1, concurrency)
        self.limit = self._most
        self.lowest = self._most
        self._active = 0
        self._streak = 0
        self.pauses = 0

    def acquire(self, stop: threading.Event) -> None:
        """Wait for a free place in flight and for the end of any pause."""
        with self._condition:
            while self._active >= self.limit and not stop.is_set():
                self._condition.wait(0.1)
            self._active += 1
        delay = self._not_before - time.monotonic()
        if delay > 0:
            stop.wait(delay)

    def release(self, throttled: bool = False, delay: float = 0.0, succeeded: bool = True) -> None:
        with self._condition:
            self._active -= 1
            if throttled:
                self.limit = max(1, self.limit // 2)
                self.lowest = min(self.lowest, self.limit)
                self._streak = 0
                until = time.monotonic() + delay
                if until > self._not_before:
                    self._not_before = until
                    self.pauses += 1
            elif succeeded:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self._most:
                    self.limit += 1
                    self._streak = 0
            self._condition.notify_all()


@dataclass
class BatchResult:
    delivered: list[int] = field(default_factory=list)
    # (row, record id, reason code, message) for items the remote system refused
    rejected: list[tuple[int, object, str, str]] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    retries: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    fatal: BatchOutcome | None = None
    gave_up: str | None = None  # why a batch stayed pending after its retries


class BatchSender:
    def __init__(
        self,
        destination: Destination,
        session: httpx.Client,
        policy: RetryPolicy,
        throttle: Throttle,
        stop: threading.Event,
        jitter: Callable[[], float] = random.random,
    ):
        self.destination = destination
        self.session = session
        self.policy = policy
        self.throttle = throttle
        self.stop = stop
        self.jitter = jitter

    def send(self, batch: Batch) -> BatchResult:
        result = BatchResult()
        self._send(batch, result)
        return result

    def _attempt(self, batch: Batch) -> BatchOutcome:
        try:
            return self.destination.deliver(batch, self.session)
        except httpx.TransportError as exc:
            # The outcome is unknown; resending is safe where the remote deduplicates.
            return BatchOutcome.retry(f"{type(exc).__name__} talking to {self.destination.name}")
        except Exception as exc:  # a plugin bug must end the run, not hang it
            return BatchOutcome.fatal(
                plugin_failure(self.destination, "delivering", exc), FailureType.SYSTEM
            )

    def _send(self, batch: Batch, result: BatchResult) -> None:
        policy = self.policy
        started = time.monotonic()
        attempt = 0
        while True:
            if self.stop.is_set() or result.fatal or result.gave_up:
                result.pending.extend(batch.rows)
                return
            self.throttle.acquire(self.stop)
            if self.stop.is_set():  # the run stopped while this batch waited its turn
                self.throttle.release(succeeded=False)
                result.pending.extend(batch.rows)
                return
            outcome = self._attempt(batch)
            kind = outcome.kind
            if kind is not OutcomeKind.RETRY:
                self.throttle.release()
            result.requests += 1
            if kind is OutcomeKind.DELIVERED:
                result.delivered.extend(batch.rows)
                if outcome.note:
                    result.notes.append(outcome.note)
                return
            if kind is OutcomeKind.REJECTED_ITEMS:
                self._record_item_rejections(batch, outcome, result)
                return
            if kind is OutcomeKind.REJECTED:
                if len(batch) > 1:
                    self._split(batch, result)
                else:
                    result.rejected.append(
                        (
                            batch.rows[0],
                            batch.ids[0],
                            outcome.code or "remote.rejected",
                            outcome.message,
                        )
                    )
                return
            if kind is OutcomeKind.FATAL:
                result.fatal = outcome
                result.pending.extend(batch.rows)
                return
            attempt += 1
            result.retries += 1
            delay = policy.backoff(attempt, self.jitter())
            if outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
            self.throttle.release(outcome.throttled, delay, succeeded=False)
            elapsed = time.monotonic() - started
            if attempt >= policy.max_attempts or elapsed + delay > policy.max_elapsed:
                result.gave_up = (
                    f"{self.destination.name} kept answering '{outcome.message}' "
                    f"after {counted(attempt, 'attempt')} over {elapsed:.0f}s"
                )
                result.pending.extend(batch.rows)
                return
            self.stop.wait(delay)

    def _split(self, batch: Batch, result: BatchResult) -> None:
        middle = len(batch) // 2
        parts = batch.parts
        for lo, hi in ((0, middle), (middle, len(batch))):
            half = Batch.from_parts(
                self.destination, batch.key, parts[lo:hi], batch.rows[lo:hi], batch.ids[lo:hi]
            )
            self._send(half, result)

    def _record_item_rejections(
        self, batch: Batch, outcome: BatchOutcome, result: BatchResult
    ) -> None:
        refused: dict[int, ItemRejection] = {}
        for rejection in outcome.rejections:
            if 0 <= rejection.index < len(batch):
                refused[rejection.index] = rejection
        for index, row in enumerate(batch.rows):
            refusal = refused.get(index)
            if refusal is None:
                result.delivered.append(row)
            else:
                result.rejected.append((row, batch.ids[index], refusal.code, refusal.message))
        if outcome.note:
            result.notes.append(outcome.note)
