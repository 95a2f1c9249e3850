"""The delivery pipeline: read, prepare, batch, deliver concurrently, record.

    rows -> prepare (this thread) -> Batcher -> [SentGate] -> BatchSender (worker threads)
         -> RunRecorder

The gate, for a destination with a sent-events index (``_sent_index``), takes the items
an earlier run delivered out of each batch, settled as already sent.

The engine's thread reads and prepares (the hot path, plain Python), and is the only
one that writes the run record; workers only talk to the remote system. At most
``concurrency + 2`` batches are in flight (one per worker and two ready), so memory stays
flat whatever the input size.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ._base import Destination
from ._batching import Batcher
from ._defaults import DEFAULT_CONCURRENCY
from ._delivery import (
    BatchResult,
    BatchSender,
    RetryPolicy,
    Throttle,
    plugin_failure,
    raised_at,
)
from ._display import count, counted
from ._errors import InputError, StorageError
from ._local_failures import file_failure
from ._match_keys import buckets as match_key_buckets
from ._private_files import make_private_dirs, write_private_bytes
from ._records import RunKind, RunResult, RunStatus
from ._results import Batch, FailureType, RecordError
from ._row_plan import RowPlan, covered
from ._run import HEARTBEAT_SECONDS, RunRecorder, SettledRows
from ._sent_gate import SentGate, key_digester
from ._stop_signals import StopSignals
from ._store import Store
from ._validation import Sample

if TYPE_CHECKING:
    from ._sent_index import SentIndex

__all__ = ["SendOptions", "RunResult", "run_delivery"]

# Every 2048 rows read, the hot loop refreshes the bar and the run's record (at most
# once a heartbeat, see RunRecorder.heartbeat) and looks for a stop.
_CHECK_MASK = 2047


@dataclass
class SendOptions:
    dry_run: bool = False
    rejects_path: Path | None = None
    output_path: Path | None = None  # dry run: the folder that receives request bodies
    concurrency: int = DEFAULT_CONCURRENCY
    batch_size: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress: bool = False
    # What a resume must know of the input file (fingerprint, delimiter), kept in the
    # summary the run ends with.
    input_facts: dict[str, Any] = field(default_factory=dict)
    # How far through the input reading is (a Reader's ``progress``), or how many rows
    # there are when that is known before reading: the bar's percent and time left.
    input_progress: Callable[[], tuple[int, int] | None] | None = None
    input_rows: int | None = None
    # A validation run: every row prepared, then this many valid rows sent one per
    # request (the destination marks them as test events), and a verdict.
    sample: int | None = None
    # Send items the sent-events index has as delivered, instead of skipping them.
    resend: bool = False
    # A stop asked for by a front end that runs the send in a thread of its own, which
    # no signal reaches (the console's Stop button): the first Ctrl-C's way of stopping.
    stop: threading.Event | None = None

    @property
    def kind(self) -> RunKind:
        if self.sample:
            return RunKind.VALIDATION
        return RunKind.DRY_RUN if self.dry_run else RunKind.SEND


class _PluginFailed(Exception):
    """The plugin's prepare, batch_key or encode_item raised: the run ends, its record
    kept. The message says where, never the exception's text (it may quote a row)."""


class _Progress:
    """The bar on stderr. When the input's size is known it shows the percent done and
    the time left, measured by the reader (a file's bytes) or by the rows given; always
    the rows read, delivered and rejected so far, and rows a second."""

    def __init__(self, enabled: bool, recorder: RunRecorder, options: SendOptions):
        self.recorder = recorder
        self.bar = None
        self.position = options.input_progress
        self.rows = options.input_rows
        self.started = time.monotonic()
        if not enabled:
            return
        from tqdm import tqdm

        total = self._where()[1]
        self.bar = tqdm(
            total=total,
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.1,
            mininterval=0.5,
            # tqdm counts bytes or rows here; the rows, with separators, are in the postfix.
            bar_format="{elapsed}{postfix}"
            if total is None
            else "{percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}",
            postfix=self._counts(),
        )

    def _where(self) -> tuple[int, int | None]:
        """How far reading has come and of how much, in the bar's unit."""
        read = self.recorder.rows_read
        where = self.position() if self.position is not None else None
        if where is not None:
            return where
        return read, self.rows if self.rows and self.rows >= read else None

    def _counts(self) -> str:
        recorder = self.recorder
        rate = recorder.rows_read / max(time.monotonic() - self.started, 1e-9)
        # Rows the sent-events index skipped are shown once there are any: without
        # them, read would not add up to delivered and rejected on a repeated file.
        skipped = f", {count(recorder.already_sent)} already sent" if recorder.already_sent else ""
        return (
            f"{counted(recorder.rows_read, 'row')} read, {count(recorder.delivered)} "
            f"delivered, {count(recorder.rejected)} rejected{skipped}, "
            f"{count(round(rate))} rows/s"
        )

    def refresh(self) -> None:
        """Show how far reading has come, and the rows delivered and rejected so far."""
        if self.bar is not None:
            self.bar.set_postfix_str(self._counts(), refresh=False)
            self.bar.update(self._where()[0] - self.bar.n)  # shows it, at most twice a second

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Delivery:
    """One run's moving parts, driven by ``run_delivery``."""

    def __init__(
        self,
        destination: Destination,
        session: httpx.Client | None,
        recorder: RunRecorder,
        options: SendOptions,
        progress: _Progress,
        index: SentIndex | None,
    ):
        self.destination = destination
        self.recorder = recorder
        self.progress = progress
        self.options = options
        self.stop = options.stop if options.stop is not None else threading.Event()
        self.status: RunStatus | None = None
        self.error: str | None = None
        # Why a fatal outcome stopped the run (auth: the credential was refused).
        self.failure: FailureType | None = None
        self.requests_written = 0
        self.batcher = Batcher(destination, self.emit, options.batch_size)
        self.sample = Sample(options.sample, self.batcher) if options.sample else None
        self.gate = (
            SentGate(index, destination, recorder.skip, options.resend)
            if index is not None
            else None
        )
        self.inflight: set[Future] = set()
        self.max_inflight = max(1, options.concurrency) + 2
        self.executor: ThreadPoolExecutor | None = None
        self.sender: BatchSender | None = None
        if not options.dry_run:
            if session is None:
                raise ValueError("a run that sends needs an httpx session")
            self.executor = ThreadPoolExecutor(
                max(1, options.concurrency), thread_name_prefix="amp-dest-deliver"
            )
            self.throttle = Throttle(options.concurrency)
            self.sender = BatchSender(destination, session, options.retry, self.throttle, self.stop)

    def start(self) -> None:
        """Open what the run writes to, and bring the index up to date with every run
        before this one (a killed one too), before the first row is read."""
        if self.gate is not None:
            self.gate.start()
        self.recorder.open_rejects()
        if self.options.dry_run and self.options.output_path is not None:
            folder = self.options.output_path
            try:
                make_private_dirs(folder)
                # A resumed dry run numbers its requests on from the earlier attempts'.
                written = [
                    int(path.stem.removeprefix("request-"))
                    for path in folder.glob("request-*.json")
                    if path.stem.removeprefix("request-").isdigit()
                ]
            except OSError as exc:
                raise file_failure("the request folder", folder, exc) from None
            self.requests_written = max(written, default=0)

    def emit(self, made: Batch) -> None:
        batch = made if self.gate is None else self.gate.check(made)
        if batch is None:  # every item in it was delivered before
            return
        if self.options.dry_run:
            self.write_request(batch)
            result = BatchResult(delivered=list(batch.rows))
            if self.gate is not None:
                self.gate.settled(result)  # a dry run adds nothing to the index
            self.recorder.commit(result)
            return
        while len(self.inflight) >= self.max_inflight:
            self.drain(block=True)
        executor, sender = self.executor, self.sender
        assert executor is not None and sender is not None  # built for every run that sends
        self.inflight.add(executor.submit(sender.send, batch))
        self.drain(block=False)

    def write_request(self, batch: Batch) -> None:
        self.requests_written += 1
        if self.options.output_path is not None:
            path = self.options.output_path / f"request-{self.requests_written:06d}.json"
            try:
                write_private_bytes(path, batch.body)
            except OSError as exc:
                raise file_failure("the request file", path, exc) from None

    def drain(self, block: bool) -> None:
        if not self.inflight:
            return
        while True:
            done, _ = wait(
                self.inflight,
                timeout=HEARTBEAT_SECONDS if block else 0,
                return_when=FIRST_COMPLETED,
            )
            if done or not block:
                break
            # No answer for a while (a slow remote system, retries): the run's record
            # and the bar still show how far reading got.
            self.recorder.heartbeat()
            self.progress.refresh()
        for future in done:
            self.inflight.discard(future)
            self.settle(future.result())

    def too_large(self, row: int, record_id) -> None:
        if self.gate is not None:
            self.gate.digests.pop(row, None)
        self.recorder.reject_prepared(
            row,
            record_id,
            "record.too_large",
            None,
            "the encoded record alone exceeds the destination's request size limit",
        )

    def settle(self, result: BatchResult) -> None:
        if self.gate is not None:
            self.recorder.commit(result, *self.gate.settled(result))
        else:
            self.recorder.commit(result)
        if self.sample is not None:
            self.sample.record(result)
        self.progress.refresh()
        if result.fatal is not None and self.status is not RunStatus.FAILED:
            self.status, self.error = RunStatus.FAILED, result.fatal.message
            self.failure = result.fatal.failure
            self.stop.set()
        elif result.gave_up and self.status is None:
            self.status, self.error = RunStatus.INCOMPLETE, result.gave_up
            self.stop.set()

    def send_sample(self, sample: Sample) -> None:
        """Send the validation sample, one row per request so that each answer is that
        row's; the valid rows left out are settled as not sent."""
        chosen = sample.choose()
        self.recorder.held = sample.valid - len(chosen)
        one_each = Batcher(self.destination, self.emit, 1)
        for key, row, record_id, part in chosen:
            if self.stop.is_set():
                return
            one_each.add(key, row, record_id, part)

    def abort(self, status: RunStatus, error: str, *, wait: bool = True) -> None:
        """End the run early: nothing new is sent; with ``wait``, the batches in flight
        are answered and recorded (what cannot be recorded any more stays pending)."""
        self.stop.set()
        if self.status is not RunStatus.FAILED:
            self.status, self.error = status, error
        if wait:
            self.finish(after_failure=True)
        elif self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)

    def finish(self, after_failure: bool = False) -> None:
        if not self.stop.is_set():
            self.batcher.flush_all()
            if self.sample is not None:
                self.send_sample(self.sample)
        while self.inflight:
            try:
                self.drain(block=True)
            except StorageError:
                if not after_failure:
                    raise
        try:
            self.recorder.commit(None)
        except StorageError:
            if not after_failure:
                raise
        if self.executor is not None:
            self.executor.shutdown(wait=True)


def run_delivery(
    store: Store,
    run_id: int,
    attempt: int,
    destination: Destination,
    rows: Iterable[Mapping[str, Any] | RecordError],
    session: httpx.Client | None,
    options: SendOptions,
    settled: SettledRows | None = None,
    resumed: bool = False,
    *,
    name: str,
    index: SentIndex | None = None,
) -> RunResult:
    """Send ``rows`` through ``destination``, the configured destination ``name``, as
    attempt ``attempt`` of run ``run_id``; with ``index``, skipping the items it has as
    delivered (a dry run counts them, and adds nothing to it)."""
    journal = index if not options.dry_run else None
    recorder = RunRecorder(store, run_id, attempt, options.rejects_path, resumed, journal)
    progress = _Progress(options.progress, recorder, options)
    delivery = _Delivery(destination, session, recorder, options, progress, index)
    unexpected: Exception | None = None
    with StopSignals(delivery.stop) as signals:
        try:
            delivery.start()
            _pump(rows, destination, delivery, recorder, progress, settled)
            delivery.finish()
        except KeyboardInterrupt:  # a second Ctrl-C: stop without waiting
            delivery.abort(RunStatus.INTERRUPTED, "interrupted by the operator", wait=False)
        except (InputError, StorageError, _PluginFailed) as exc:
            delivery.abort(RunStatus.FAILED, str(exc))
        except Exception as exc:  # the caller's rows iterable, or a bug: raised again below
            unexpected = exc
            delivery.abort(RunStatus.FAILED, _stopped_by(exc))
        finally:
            progress.refresh()
            progress.close()
            recorder.close()

    status = delivery.status
    if status is None and signals.received is not None and recorder.pending:
        status = RunStatus.INTERRUPTED
        delivery.error = (
            "interrupted by the operator"
            if signals.received == signal.SIGINT
            else f"stopped by {signals.received.name}"
        )
    requested = options.stop is not None and options.stop.is_set()
    if status is None and signals.received is None and requested:
        # Rows may be left unread, pending or not: the run ends resumable.
        status = RunStatus.INTERRUPTED
        delivery.error = "stopped by the operator"
    if status is None:
        status = RunStatus.SUCCEEDED if recorder.pending == 0 else RunStatus.INCOMPLETE
    extra: dict[str, Any] = {"dry_run": options.dry_run, **options.input_facts}
    if signals.received is not None:
        extra["stopped_by"] = signals.received.name
    if delivery.failure is not None:
        extra["failure"] = delivery.failure.value
    if options.resend:
        extra["resend"] = True  # a resume resends too
    if options.dry_run:
        extra["requests_written"] = delivery.requests_written
    else:
        extra["rate_limit_pauses"] = delivery.throttle.pauses
        extra["lowest_concurrency"] = delivery.throttle.lowest
    if delivery.sample is not None:
        extra["not_sent"] = recorder.held
        extra["verdict"] = delivery.sample.verdict(
            recorder.rejected_by_code, status is RunStatus.SUCCEEDED
        )
    summary = recorder.summary(destination.identifiers, extra)
    rejects = str(options.rejects_path) if options.rejects_path else None
    output = str(options.output_path) if options.output_path else None

    def record_end() -> None:
        with store.transaction():
            store.update_run(
                run_id,
                status=status.value,
                ended_at=time.time(),
                rows_read=recorder.rows_read,
                delivered=recorder.delivered,
                rejected=recorder.rejected,
                pending=recorder.pending,
                error=delivery.error,
                summary=summary,
            )
            recorder.end_attempt(status.value, delivery.error)

    try:
        store.despite_full_disk(record_end)
    except StorageError:
        pass  # the run shows as stopped once this process ends, and resumes as well
    if journal is not None:
        try:
            journal.merge()
        except StorageError:
            pass  # the journal stays, and the next run's start merges it
    if unexpected is not None:
        raise unexpected
    return RunResult(run_id, name, status, summary, rejects, output, delivery.error, options.kind)


def _stopped_by(exc: Exception) -> str:
    return f"the run stopped on {raised_at(exc)}; the rows not yet settled are pending for a resume"


def _pump(
    rows,
    destination: Destination,
    delivery: _Delivery,
    recorder: RunRecorder,
    progress: _Progress,
    settled: SettledRows | None,
) -> None:
    """The hot loop. Locals are bound once; each row costs a prepare, an encode and a
    few list appends."""
    plan = RowPlan(destination, rows)
    # Rows' key digests, for the gate to look their batch up: None without an index.
    digests = delivery.gate.digests if delivery.gate is not None else None
    idempotency = destination.idempotency_key
    key_digest = key_digester()
    too_large = delivery.too_large
    prepare = destination.prepare
    encode = destination.encode_item
    keyed = type(destination).batch_key is not Destination.batch_key
    batch_key = destination.batch_key
    fetch, refer, pad = plan.fetch, plan.refer, plan.pad
    id_index, single, combined = plan.id_index, plan.single, plan.combined
    add = delivery.batcher.add if delivery.sample is None else delivery.sample.add
    reject = recorder.reject_prepared
    warned = recorder.warned
    heartbeat = recorder.heartbeat
    counted = recorder.coverage
    carrying = [0] * (len(single) + len(combined) + 1)  # prepared rows by keys carried
    counted_upto = recorder.counted_upto  # rows an earlier attempt counted already
    stop = delivery.stop
    warnings: list = []
    row_no = 0
    prepared = 0
    skip = settled if settled else None
    try:
        for row in plan.source:
            row_no += 1
            recorder.rows_read = row_no
            if not row_no & _CHECK_MASK:
                progress.refresh()
                heartbeat()
                if stop.is_set():
                    return
            if skip is not None and row_no in skip:
                continue
            if isinstance(row, RecordError):
                reject(row_no, None, row.code, row.field, row.message)
                continue
            if pad:
                row.append(None)
            data = row if fetch is None else fetch(row)
            try:
                item = prepare(data, warnings)
                refused = isinstance(item, RecordError)
                if not refused:
                    key = batch_key(item) if keyed else None
                    part = encode(item)
                    if digests is not None:
                        # Digested here, inside the plugin's try: a key that is not
                        # JSON (a set, an object) is the plugin's failure, not the host's.
                        same_as = idempotency(item)
                        digest = None if same_as is None else key_digest(same_as)
            except Exception as exc:
                raise _PluginFailed(
                    plugin_failure(destination, f"preparing row {row_no}", exc)
                ) from exc
            if warnings:
                warned(row_no, [warning.code for warning in warnings])
                warnings.clear()
            if refer is not None:
                data = refer(row)
            record_id = data[id_index] if id_index is not None else None
            if refused:
                reject(row_no, record_id, item.code, item.field, item.message)
                continue
            if row_no > counted_upto:
                prepared += 1
                keys = 0  # the match keys this row carries, counted with the coverage
                for label, position in single:
                    value = data[position]
                    if value is not None and value != "":
                        counted[label] += 1
                        keys += 1
                for label, alternatives in combined:
                    if covered(data, alternatives):
                        counted[label] += 1
                        keys += 1
                carrying[keys] += 1
            if digests is not None and digest is not None:
                digests[row_no] = digest
            if not add(key, row_no, record_id, part):
                too_large(row_no, record_id)
    finally:
        recorder.prepared = prepared
        recorder.match_keys = match_key_buckets(carrying)
