"""The Destinations screen: the list with each one's last run; add and edit through a
form drawn from the settings' JSON Schema, with values listed from the remote system
where the destination offers them (``Host.choices``); the connection tested on save as
the CLI tests it, each check shown with its status and hint; a test on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .._base import Destination
from .._errors import AmpDestError, ConnectionTestFailed, InvalidFieldsError, NotFoundError
from .._records import DestinationInfo
from .._results import ConnectionStatus
from ._forms import FormField, changed, fields_from_schema, read_values, with_choices
from ._pages import console, posted, render

__all__ = ["routes"]


def _form_fields(
    request: Request,
    destination_cls: type[Destination],
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
) -> list[FormField]:
    with console(request).open_host() as host:
        schema = host.schema(destination_cls.name)["settings"]
    return fields_from_schema(schema, values, choosable=destination_cls.choosable, errors=errors)


def _credentials_for(request: Request, destination_cls: type[Destination]) -> list[str]:
    with console(request).open_host() as host:
        return [c.name for c in host.credentials() if c.type == destination_cls.credential_type]


def destinations(request: Request) -> Response:
    with console(request).open_host() as host:
        listed = [(d, next(iter(host.runs(d.name, 1)), None)) for d in host.destinations()]
    types = sorted(console(request).registry.destinations.values(), key=lambda t: t.name)
    return render(
        request,
        "destinations.html",
        destinations=listed,
        types=types,
        notice=request.query_params.get("notice"),
    )


def _new_page(request: Request, type_name: str, status_code: int = 200, **context: Any) -> Response:
    destination_cls = console(request).registry.destination(type_name)
    return render(
        request,
        "destination_new.html",
        status_code,
        destination_type=destination_cls,
        credentials=_credentials_for(request, destination_cls),
        fields=_form_fields(
            request, destination_cls, context.pop("values", {}), context.pop("errors", None)
        ),
        name=context.pop("name", ""),
        credential=context.pop("credential", request.query_params.get("credential", "")),
        **context,
    )


def new_destination(request: Request) -> Response:
    return _new_page(request, request.query_params.get("type", ""))


def _settings_names(destination_cls: type[Destination]) -> list[str]:
    return list(destination_cls.settings_schema._declared_fields)


def add_destination(request: Request, form: FormData) -> Response:
    name = str(form.get("name", "")).strip()
    type_name = str(form.get("type", ""))
    credential = str(form.get("credential", "")) or None
    destination_cls = console(request).registry.destination(type_name)
    shown = {key: value for key, value in form.items() if key in _settings_names(destination_cls)}
    context: dict[str, Any] = {"name": name, "credential": credential or "", "values": shown}
    try:
        settings = read_values(
            destination_cls.settings_schema,
            form,
            changed(form, _form_fields(request, destination_cls, {})),
            f"settings for {name}",
            new=True,
        )
        with console(request).open_host() as host:
            saved = host.add_destination(
                name, type_name, credential, settings, test=not form.get("skip_test")
            )
    except ConnectionTestFailed as exc:
        return _new_page(request, type_name, 422, error=str(exc), status=exc.status, **context)
    except InvalidFieldsError as exc:
        return _new_page(request, type_name, 422, error=str(exc), errors=exc.errors, **context)
    except AmpDestError as exc:
        return _new_page(request, type_name, 400, error=str(exc), **context)
    return _destination_page(
        request, saved.name, status=saved.status, applied=saved.messages, saved=True
    )


def choices(request: Request, form: FormData) -> Response:
    """The field ``setting`` as a select of what the remote system lists, for the
    credential and the settings set so far on the form (those left at their defaults
    are not given, as the CLI gives only its ``--set`` ones)."""
    type_name = str(form.get("type", ""))
    setting = request.path_params["setting"]
    destination_cls = console(request).registry.destination(type_name)
    defaults = _form_fields(request, destination_cls, {})
    chosen = [name for name in changed(form, defaults) if name != setting]
    field = next(f for f in defaults if f.name == setting)
    field.value = str(form.get(setting, "")).strip()
    try:
        typed = read_values(destination_cls.settings_schema, form, chosen, "settings", new=True)
        credential = str(form.get("credential", "")) or None
        with console(request).open_host() as host:
            listed = host.choices(type_name, setting, credential, typed)
    except AmpDestError as exc:
        field.errors = [str(exc)]
        return render(request, "_field.html", field=field)
    if not listed:
        field.errors = ["the remote system lists no values for this setting"]
        return render(request, "_field.html", field=field)
    return render(request, "_field.html", field=with_choices(field, listed))


def _stored(request: Request, name: str) -> DestinationInfo:
    """The destination ``name`` with its settings as stored (what an edit starts from:
    the defaults it does not set stay defaults)."""
    with console(request).open_host() as host:
        for info in host.destinations():
            if info.name == name:
                return info
    raise NotFoundError(f"no destination named {name!r}", "destination", name)


def _destination_page(
    request: Request, name: str, status_code: int = 200, **context: Any
) -> Response:
    info = _stored(request, name)
    destination_cls = console(request).registry.destinations.get(info.type)
    with console(request).open_host() as host:
        runs = host.runs(name, 5)
    credentials = _credentials_for(request, destination_cls) if destination_cls is not None else []
    fields = (
        _form_fields(request, destination_cls, info.settings, context.pop("errors", None))
        if destination_cls is not None
        else []
    )
    return render(
        request,
        "destination.html",
        status_code,
        destination=info,
        destination_type=destination_cls,
        fields=fields,
        credentials=credentials,
        runs=runs,
        notice=request.query_params.get("notice"),
        **context,
    )


def show_destination(request: Request) -> Response:
    return _destination_page(request, request.path_params["name"])


def update_destination(request: Request, form: FormData) -> Response:
    name = request.path_params["name"]
    info = _stored(request, name)
    destination_cls = console(request).registry.destination(info.type)
    shown = _form_fields(request, destination_cls, info.settings)
    credential = str(form.get("credential", "")) or None
    try:
        settings = read_values(
            destination_cls.settings_schema,
            form,
            changed(form, shown),
            f"settings of {name}",
            new=False,
        )
        with console(request).open_host() as host:
            saved = host.update_destination(
                name, settings, credential=credential, test=not form.get("skip_test")
            )
    except ConnectionTestFailed as exc:
        return _destination_page(request, name, 422, error=str(exc), status=exc.status)
    except InvalidFieldsError as exc:
        return _destination_page(request, name, 422, error=str(exc), errors=exc.errors)
    except AmpDestError as exc:
        return _destination_page(request, name, 400, error=str(exc))
    return _destination_page(request, name, status=saved.status, applied=saved.messages, saved=True)


def test_destination(request: Request, form: FormData) -> Response:
    name = request.path_params["name"]
    status: ConnectionStatus | None = None
    error = None
    try:
        with console(request).open_host() as host:
            status = host.test_destination(name)
    except AmpDestError as exc:
        error = str(exc)
    return render(request, "_checks.html", status=status, error=error, tested=True)


def remove_destination(request: Request, form: FormData) -> Response:
    name = request.path_params["name"]
    with console(request).open_host() as host:
        host.remove_destination(name)
    return RedirectResponse("/destinations?notice=removed", status_code=303)


routes = [
    Route("/destinations", destinations),
    Route("/destinations/new", new_destination),
    Route("/destinations/new", posted(add_destination), methods=["POST"]),
    Route("/destinations/choices/{setting}", posted(choices), methods=["POST"]),
    Route("/destinations/{name}", show_destination),
    Route("/destinations/{name}", posted(update_destination), methods=["POST"]),
    Route("/destinations/{name}/test", posted(test_destination), methods=["POST"]),
    Route("/destinations/{name}/remove", posted(remove_destination), methods=["POST"]),
]
