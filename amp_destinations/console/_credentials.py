"""The Credentials screen: the list (which secrets are set, never their values); add
through a form drawn from the credential type's schema; authorize and reauthorize
through the type's authorization flow; update; remove."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .._base import CredentialType
from .._errors import AmpDestError, InvalidFieldsError
from .._schemas import json_schema
from ._forms import fields_from_schema, read_secrets, read_values
from ._pages import console, posted, render

__all__ = ["routes"]


def _flow_fields(credential_type: type[CredentialType]) -> list[str]:
    """What an authorization asks for first: every field but the secrets the code
    exchange brings (the app's own secrets, its ``app_fields``, are asked for)."""
    flow = credential_type.authorization
    app_fields = set(flow.app_fields) if flow else set()
    secret = set(credential_type.secret_fields())
    return [
        name
        for name in credential_type.schema._declared_fields
        if name not in secret or name in app_fields
    ]


def _new_page(request: Request, type_name: str, status_code: int = 200, **context: Any) -> Response:
    credential_type = console(request).registry.credential_type(type_name)
    schema = json_schema(credential_type.schema, credential_type.title)
    values = context.pop("values", {})
    errors = context.pop("errors", {})
    mode = context.pop("mode", None)
    return render(
        request,
        "credential_new.html",
        status_code,
        credential_type=credential_type,
        name=context.pop("name", ""),
        fields=fields_from_schema(schema, values, errors=errors if mode == "add" else None),
        flow_fields=fields_from_schema(
            schema,
            values,
            errors=errors if mode == "authorize" else None,
            only=_flow_fields(credential_type) if credential_type.authorization else (),
        ),
        **context,
    )


def credentials(request: Request) -> Response:
    with console(request).open_host() as host:
        listed = host.credentials()
    types = sorted(console(request).registry.credential_types.values(), key=lambda t: t.name)
    return render(
        request,
        "credentials.html",
        credentials=listed,
        types=types,
        notice=request.query_params.get("notice"),
    )


def new_credential(request: Request) -> Response:
    type_name = request.query_params.get("type", "")
    return _new_page(request, type_name)


def add_credential(request: Request, form: FormData) -> Response:
    name = str(form.get("name", "")).strip()
    type_name = str(form.get("type", ""))
    mode = "authorize" if form.get("mode") == "authorize" else "add"
    the_console = console(request)
    credential_type = the_console.registry.credential_type(type_name)
    secret_names = credential_type.secret_fields()
    names = (
        _flow_fields(credential_type)
        if mode == "authorize"
        else credential_type.schema._declared_fields
    )
    plain = [field for field in names if field not in secret_names]
    shown = {key: value for key, value in form.items() if key in plain}
    try:
        values = read_values(credential_type.schema, form, plain, f"credential {name}", new=True)
        secrets = read_secrets(form, [field for field in names if field in secret_names])
        if mode == "authorize":
            redirect_uri = str(form.get("redirect_uri", "")).strip() or None
            job = the_console.jobs.authorize(
                f"authorize credential {name}",
                lambda host, show, read: host.authorize_credential(
                    name,
                    type_name,
                    values,
                    secrets,
                    redirect_uri=redirect_uri,
                    browser=show,
                    read_redirect=read,
                ),
            )
            return RedirectResponse(f"/jobs/{job.id}", status_code=303)
        with the_console.open_host() as host:
            host.add_credential(name, type_name, values, secrets)
    except InvalidFieldsError as exc:
        return _new_page(
            request,
            type_name,
            422,
            name=name,
            values=shown,
            errors=exc.errors,
            mode=mode,
            error=str(exc),
        )
    except AmpDestError as exc:
        return _new_page(request, type_name, 400, name=name, values=shown, error=str(exc))
    return RedirectResponse(f"/credentials/{quote(name)}?notice=added", status_code=303)


def _credential_page(
    request: Request, name: str, status_code: int = 200, **context: Any
) -> Response:
    with console(request).open_host() as host:
        info = host.credential(name)
        used_by = [d.name for d in host.destinations() if d.credential == name]
    credential_type = console(request).registry.credential_types.get(info.type)
    fields = []
    renew_fields = []
    if credential_type is not None:
        schema = json_schema(credential_type.schema, credential_type.title)
        fields = fields_from_schema(
            schema, info.fields, secrets=info.secrets, errors=context.pop("errors", None)
        )
        flow = credential_type.authorization
        renew_fields = [
            field
            for field in fields_from_schema(schema, secrets=info.secrets)
            if flow is not None and field.name in flow.app_fields and field.widget == "password"
        ]
    return render(
        request,
        "credential.html",
        status_code,
        credential=info,
        credential_type=credential_type,
        fields=fields,
        renew_fields=renew_fields,
        used_by=used_by,
        notice=request.query_params.get("notice"),
        **context,
    )


def show_credential(request: Request) -> Response:
    return _credential_page(request, request.path_params["name"])


def update_credential(request: Request, form: FormData) -> Response:
    name = request.path_params["name"]
    the_console = console(request)
    with the_console.open_host() as host:
        record_type = host.credential(name).type
        credential_type = the_console.registry.credential_type(record_type)
        secret_names = credential_type.secret_fields()
        plain = [f for f in credential_type.schema._declared_fields if f not in secret_names]
        current = host.credential(name).fields
        try:
            values = read_values(
                credential_type.schema, form, plain, f"credential {name}", new=False
            )
            # Unchanged fields stay out: an update names what it changes.
            values = {k: v for k, v in values.items() if not (v is None and k not in current)}
            host.update_credential(name, values, read_secrets(form, secret_names))
        except InvalidFieldsError as exc:
            return _credential_page(request, name, 422, errors=exc.errors, error=str(exc))
        except AmpDestError as exc:
            return _credential_page(request, name, 400, error=str(exc))
    return RedirectResponse(f"/credentials/{quote(name)}?notice=updated", status_code=303)


def reauthorize_credential(request: Request, form: FormData) -> Response:
    """Renew the credential through its flow; app secrets typed (rotated) replace the
    kept ones, the others stay."""
    name = request.path_params["name"]
    with console(request).open_host() as host:
        credential_type = console(request).registry.credential_type(host.credential(name).type)
    flow = credential_type.authorization
    app_secrets = [
        f for f in (flow.app_fields if flow else ()) if f in credential_type.secret_fields()
    ]
    secrets = read_secrets(form, app_secrets)
    redirect_uri = str(form.get("redirect_uri", "")).strip() or None
    job = console(request).jobs.authorize(
        f"reauthorize credential {name}",
        lambda host, show, read: host.reauthorize_credential(
            name, secrets=secrets, redirect_uri=redirect_uri, browser=show, read_redirect=read
        ),
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def remove_credential(request: Request, form: FormData) -> Response:
    name = request.path_params["name"]
    try:
        with console(request).open_host() as host:
            host.remove_credential(name)
    except AmpDestError as exc:
        return _credential_page(request, name, 400, error=str(exc))
    return RedirectResponse("/credentials?notice=removed", status_code=303)


routes = [
    Route("/credentials", credentials),
    Route("/credentials/new", new_credential),
    Route("/credentials/new", posted(add_credential), methods=["POST"]),
    Route("/credentials/{name}", show_credential),
    Route("/credentials/{name}", posted(update_credential), methods=["POST"]),
    Route("/credentials/{name}/reauthorize", posted(reauthorize_credential), methods=["POST"]),
    Route("/credentials/{name}/remove", posted(remove_credential), methods=["POST"]),
]
