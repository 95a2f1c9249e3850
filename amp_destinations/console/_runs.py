"""The Runs screen: the history with its status and filters; a run's page with its
summary, rejects by reason, match-key coverage drawn as bars, warnings, the rejects
file to download, resume for a resumable run, the request bodies of a dry run, and,
while it runs, its progress (polled without a reload) and a Stop button."""

from __future__ import annotations

import os
import time
from pathlib import Path

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import _display as fmt
from .. import _match_keys as match_keys
from .._records import RunInfo, RunKind, RunStatus
from ._pages import console, posted, render
from ._send import _follow

__all__ = ["routes"]

_SHOWN_REQUESTS = 20  # request bodies of a dry run shown on its page
_SHOWN_BYTES = 20_000  # of each
_RESUMABLE = {RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.INCOMPLETE, RunStatus.STOPPED}


def runs(request: Request) -> Response:
    query = request.query_params
    destination = query.get("destination") or None
    kind = query.get("kind") or None
    status = query.get("status") or None
    if kind is not None and kind not in {k.value for k in RunKind}:
        raise HTTPException(400, f"kind: one of {', '.join(k.value for k in RunKind)}")
    with console(request).open_host() as host:
        listed = host.runs(destination, 200, kind=kind)
        names = [d.name for d in host.destinations()]
    if status:
        listed = [run for run in listed if run.status == status]
    return render(
        request,
        "runs.html",
        runs=listed,
        destinations=names,
        kinds=[k.value for k in RunKind],
        statuses=[s.value for s in RunStatus],
        chosen={"destination": destination or "", "kind": kind or "", "status": status or ""},
    )


def _rate(run: RunInfo) -> float:
    elapsed = (run.ended_at or time.time()) - run.started_at
    return run.rows_read / elapsed if elapsed > 0 else 0.0


def _requests(run: RunInfo) -> list[tuple[str, str]]:
    """The first request bodies a dry run wrote, each cut to a readable length."""
    if not run.output_path or not os.path.isdir(run.output_path):
        return []
    shown = []
    for path in sorted(Path(run.output_path).glob("request-*.json"))[:_SHOWN_REQUESTS]:
        with open(path, "rb") as handle:
            body = handle.read(_SHOWN_BYTES + 1)
        text = body[:_SHOWN_BYTES].decode("utf-8", "replace")
        shown.append((path.name, text + (" ..." if len(body) > _SHOWN_BYTES else "")))
    return shown


def _resume_refusal(run: RunInfo) -> str | None:
    """Why the run cannot be resumed from here, or None when it can."""
    if run.status not in _RESUMABLE:
        return "not resumable" if run.status is not RunStatus.RUNNING else "running"
    if run.kind is RunKind.VALIDATION:
        return "a validation run is not resumed: validate again"
    if run.input is None or not os.path.exists(run.input):
        return "its input is gone (an upload is deleted when its run ends): send it again"
    return None


def run_page(request: Request) -> Response:
    run_id = request.path_params["run"]
    with console(request).open_host() as host:
        run = host.run(run_id)
    job = console(request).jobs.for_run(run_id)
    summary = run.summary
    return render(
        request,
        "run.html",
        run=run,
        live=run.status is RunStatus.RUNNING,
        stoppable=job is not None and not job.done.is_set(),
        rate=_rate(run),
        job_error=job.error if job is not None and job.done.is_set() else None,
        rejects=bool(run.rejects_path and os.path.isfile(run.rejects_path)),
        resume_refusal=_resume_refusal(run),
        requests=_requests(run) if run.kind is RunKind.DRY_RUN else [],
        coverage=summary.get("identifier_coverage") or {},
        match_keys=summary.get("match_keys") or {},
        skipped_rows=fmt.ranges(run.already_sent_rows or ()),
        match_key_total=sum((summary.get("match_keys") or {}).values()),
        advice=match_keys.warning(summary),
        verdict=summary.get("verdict"),
    )


def progress(request: Request) -> Response:
    """The live figures of a run; once it has ended the page reloads to its summary."""
    run_id = request.path_params["run"]
    with console(request).open_host() as host:
        run = host.run(run_id)
    job = console(request).jobs.for_run(run_id)
    ended = run.status is not RunStatus.RUNNING and (job is None or job.done.is_set())
    response = render(request, "_progress.html", run=run, rate=_rate(run), live=not ended)
    if ended:
        response.headers["HX-Refresh"] = "true"
    return response


def stop(request: Request, form: FormData) -> Response:
    run_id = request.path_params["run"]
    job = console(request).jobs.for_run(run_id)
    if job is None:
        raise HTTPException(
            409, f"run {run_id} is not running in this console: stop it where it runs"
        )
    job.stop.set()
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def resume(request: Request, form: FormData) -> Response:
    run_id = request.path_params["run"]
    job = console(request).jobs.send("resume", f"resume run {run_id}", None, resume=run_id)
    return _follow(request, job)


def rejects(request: Request) -> Response:
    run_id = request.path_params["run"]
    with console(request).open_host() as host:
        run = host.run(run_id)
    if not run.rejects_path or not os.path.isfile(run.rejects_path):
        raise HTTPException(404, f"run {run_id} has no rejects file")
    return FileResponse(
        run.rejects_path, media_type="text/csv", filename=f"run-{run_id}-rejects.csv"
    )


routes = [
    Route("/runs", runs),
    Route("/runs/{run:int}", run_page),
    Route("/runs/{run:int}/progress", progress),
    Route("/runs/{run:int}/rejects", rejects),
    Route("/runs/{run:int}/stop", posted(stop), methods=["POST"]),
    Route("/runs/{run:int}/resume", posted(resume), methods=["POST"]),
]
