"""What the console runs in the background: sends and authorizations.

A page must answer at once while a send goes on for minutes or an authorization waits
for a person to approve, so each runs in a thread of its own with a Host of its own
(a SQLite connection is not shared between threads that write). A send's figures are
read back from its run's record, which the engine keeps current (``heartbeat``); its
Stop button sets the event ``Host.send(stop=...)`` takes, the engine's own way of
stopping on the first Ctrl-C. An authorization's page address is kept for the
operator's browser to open, and the flow's loopback listener receives the redirect.

An upload is the input of one run: it is deleted when that run ends, whatever the end.
"""

from __future__ import annotations

import logging
import queue
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import AmpDestError

if TYPE_CHECKING:
    from .._host import Host
    from .._records import AuthorizeResult, RunResult

__all__ = ["Job", "Jobs"]

log = logging.getLogger("amp_destinations.console")

# How long an authorization waits for a pasted address (the provider's code expires
# sooner; the host refuses one pasted after the flow's time limit).
_PASTE_SECONDS = 1800.0


@dataclass
class Job:
    """One background task, as its page shows it."""

    id: str
    kind: str  # "send", "dry_run", "validation", "resume", "authorize", "reauthorize"
    title: str
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    run_id: int | None = None
    error: str | None = None
    result: RunResult | None = None
    authorized: AuthorizeResult | None = None
    auth_url: str | None = None
    # An authorization whose redirect no listener receives: the operator pastes the
    # address the browser was sent to (or the bare code) on the job's page.
    paste: bool = False
    pasted: queue.Queue[str] = field(default_factory=queue.Queue)
    upload: Path | None = None  # the folder of an uploaded input, deleted at the end


class Jobs:
    """The console's background tasks, by id, for as long as the console runs."""

    def __init__(self, open_host: Callable[[], Host]):
        self._open_host = open_host
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def for_run(self, run_id: int) -> Job | None:
        """The job of this console sending (or resuming) the run ``run_id``, if any."""
        with self._lock:
            found = [job for job in self._jobs.values() if job.run_id == run_id]
        return found[-1] if found else None

    def _new(self, kind: str, title: str) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, title)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def send(self, kind: str, title: str, upload: Path | None = None, **arguments: Any) -> Job:
        """Start ``Host.send(**arguments)``; the job knows its run once it is recorded."""
        job = self._new(kind, title)
        job.upload = upload

        def started(run_id: int) -> None:
            job.run_id = run_id
            job.started.set()

        def work(host: Host) -> None:
            job.result = host.send(stop=job.stop, started=started, **arguments)

        self._start(job, work)
        return job

    def authorize(
        self, title: str, call: Callable[[Host, Callable[[str], None], Callable[[str], str]], Any]
    ) -> Job:
        """Start an authorization: ``call(host, show, read)`` calls
        ``Host.authorize_credential`` (or ``reauthorize_credential``) with
        ``browser=show``, which keeps the page's address for the operator's browser, and
        ``read_redirect=read``, which waits for the address the operator pastes when no
        listener can receive the redirect."""
        job = self._new("authorize", title)

        def show(url: str) -> None:
            job.auth_url = url
            job.started.set()

        def read(url: str) -> str:
            job.auth_url = url
            job.paste = True
            job.started.set()
            try:
                return job.pasted.get(timeout=_PASTE_SECONDS)
            except queue.Empty:
                return ""  # the host says nothing was pasted
            finally:
                job.paste = False

        def work(host: Host) -> None:
            job.authorized = call(host, show, read)

        self._start(job, work)
        return job

    def _start(self, job: Job, work: Callable[[Host], None]) -> None:
        def target() -> None:
            try:
                with self._open_host() as host:
                    work(host)
            except AmpDestError as exc:
                job.error = str(exc)
            except Exception as exc:  # a bug: its text may quote a row, so only its type
                log.error("console: %s failed on %s", job.kind, type(exc).__name__)
                job.error = f"internal error ({type(exc).__name__}); report it"
            finally:
                if job.upload is not None:
                    shutil.rmtree(job.upload, ignore_errors=True)
                job.started.set()
                job.done.set()

        threading.Thread(target=target, name=f"amp-console-{job.kind}", daemon=True).start()

    def wait_started(self, job: Job, timeout: float = 10.0) -> None:
        """Wait until the job has a run (or a page to open), or has ended."""
        job.started.wait(timeout)

    def stop_all(self, timeout: float) -> bool:
        """Stop every send still going and wait up to ``timeout`` seconds for them to
        record their end; whether there were any."""
        with self._lock:
            going = [job for job in self._jobs.values() if not job.done.is_set()]
        sends = [job for job in going if job.kind != "authorize"]
        for job in sends:
            job.stop.set()
        for job in sends:
            job.done.wait(timeout)
        return bool(sends)
