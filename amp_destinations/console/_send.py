"""The Send screen: a destination and an input (a path on this machine, or an upload);
a dry run, a validation or a send, started in the background (``_jobs``), whose page is
its run's, with live progress and a Stop button. Also the page of a job that has no run
yet: an authorization waiting for its approval, or a send still opening its input."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .._defaults import DEFAULT_SAMPLE, MAX_SAMPLE
from .._private_files import make_private_dirs, open_private
from ._jobs import Job
from ._pages import console, posted, render

__all__ = ["routes"]

_ACTIONS = {"dry_run": "dry run", "validation": "validation", "send": "send"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 1 << 20


def send_page(request: Request, status_code: int = 200, **context: object) -> Response:
    with console(request).open_host() as host:
        names = [d.name for d in host.destinations()]
    readers = sorted(console(request).registry.readers)
    return render(
        request,
        "send.html",
        status_code,
        destinations=names,
        readers=readers,
        chosen=context.pop("chosen", request.query_params.get("destination", "")),
        default_sample=DEFAULT_SAMPLE,
        max_sample=MAX_SAMPLE,
        max_upload=console(request).max_upload,
        **context,
    )


def send_form(request: Request) -> Response:
    return send_page(request)


def _keep_upload(request: Request, upload: UploadFile) -> tuple[Path, Path]:
    """Copy the upload (spooled by the form parser) into a private folder of its own
    under the home, in chunks; the run reads it there and the folder goes when the run
    ends. Its name keeps the suffix, which tells the reader."""
    folder = console(request).uploads / secrets.token_hex(8)
    make_private_dirs(folder)
    name = _UNSAFE.sub("_", (upload.filename or "upload").rsplit("/", 1)[-1]).lstrip(".")
    path = folder / (name or "upload")
    upload.file.seek(0)
    with open_private(path, "wb") as out:
        while chunk := upload.file.read(_CHUNK):
            out.write(chunk)
    return folder, path


def start_send(request: Request, form: FormData) -> Response:
    name = str(form.get("destination", ""))
    action = str(form.get("action", "send"))
    if action not in _ACTIONS:
        raise HTTPException(400, "action: must be dry_run, validation or send")
    path = str(form.get("input", "")).strip()
    upload = form.get("upload")
    arguments: dict[str, object] = {"name": name, "format": str(form.get("format", "")) or None}
    folder = None
    if isinstance(upload, UploadFile) and upload.filename:
        folder, kept = _keep_upload(request, upload)
        arguments["input"] = str(kept)
    elif path:
        arguments["input"] = path
    else:
        return send_page(request, 400, chosen=name, error="give an input: a path or an upload")
    if form.get("resend") == "true":
        arguments["resend"] = True
    if action == "dry_run":
        arguments["dry_run"] = True
    elif action == "validation":
        arguments["validate"] = True
        sample = str(form.get("sample", "")).strip()
        if sample:
            if not sample.isdigit():
                return send_page(request, 400, chosen=name, error="sample: a number of rows")
            arguments["sample"] = int(sample)
        arguments["test_event_code"] = str(form.get("test_event_code", "")).strip() or None
    job = console(request).jobs.send(action, f"{_ACTIONS[action]} to {name}", folder, **arguments)
    return _follow(request, job)


def _follow(request: Request, job: Job) -> Response:
    """The run's page once the job has a run; the send page with the error when it
    failed before one; the job's page while it is still opening."""
    console(request).jobs.wait_started(job)
    if job.run_id is not None:
        return RedirectResponse(f"/runs/{job.run_id}", status_code=303)
    if job.error is not None and job.kind != "resume":
        return send_page(request, 400, error=job.error)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _job(request: Request) -> Job:
    job = console(request).jobs.get(request.path_params["job"])
    if job is None:
        raise HTTPException(404, "no such job: it may belong to an earlier console")
    return job


def job_page(request: Request) -> Response:
    job = _job(request)
    if job.run_id is not None:
        return RedirectResponse(f"/runs/{job.run_id}", status_code=303)
    return render(request, "job.html", job=job)


def job_status(request: Request) -> Response:
    job = _job(request)
    response = render(request, "_job_status.html", job=job)
    if job.run_id is not None:
        response.headers["HX-Redirect"] = f"/runs/{job.run_id}"
    return response


def paste_redirect(request: Request, form: FormData) -> Response:
    """The address the browser was sent to (or the code), for an authorization whose
    redirect no listener receives."""
    job = _job(request)
    if not job.paste or job.done.is_set():
        raise HTTPException(409, "this authorization is not waiting for an address")
    job.pasted.put(str(form.get("redirect", "")))
    job.done.wait(10)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


routes = [
    Route("/send", send_form),
    Route("/send", posted(start_send), methods=["POST"]),
    Route("/jobs/{job}", job_page),
    Route("/jobs/{job}/status", job_status),
    Route("/jobs/{job}/redirect", posted(paste_redirect), methods=["POST"]),
]
