"""Creating and renewing a credential through its type's authorization flow.

``Host.authorize_credential`` and ``Host.reauthorize_credential`` are these functions:
the checks made before anyone types a secret or opens a browser (``preflight``), the
values the flow gets (its ``app_fields`` required, the fields the exchange will bring
left out), the code received (``_redirect``), the exchange, the checks on what it
returned (secrets only in secret fields, facts that are JSON and hold no secret), and
storing it: secrets to the keyring, fields and facts to the database, so that a failure
half-way leaves the credential as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from ._authorize import Authorization, AuthorizationFlow
from ._base import CredentialType
from ._errors import (
    AlreadyExistsError,
    AmpDestError,
    AuthorizationRefused,
    InvalidFieldsError,
    NotFoundError,
    PluginError,
    SecretStoreError,
)
from ._names import check_name, env_var_name
from ._records import AuthorizeResult
from ._redirect import Browser, receive_code
from ._schemas import load_with, provided

if TYPE_CHECKING:
    from ._host import Host

__all__ = ["authorize", "reauthorize", "preflight", "prompted_secrets"]

# Shorter secret values are not looked for in what a flow returns: they match by chance.
_SHORTEST_SECRET = 6


def preflight(
    host: Host, name: str, credential_type: type[CredentialType], *, new: bool
) -> type[AuthorizationFlow]:
    """The checks made before any prompt or browser: the name (free, for a new
    credential), the type's flow, and a secret store that can keep what comes back."""
    if new:
        check_name(name, "credential")
    flow = credential_type.authorization
    if flow is None:
        raise NotFoundError(
            f"credential type {credential_type.name!r} declares no authorization flow: "
            "its secrets are given as they are",
            "authorization flow",
            credential_type.name,
        )
    if new and host.store.exists("credentials", name):
        raise AlreadyExistsError(f"a credential named {name!r} exists", "credential", name)
    tokens = [field for field in credential_type.secret_fields() if field not in flow.app_fields]
    refusal = host.secrets.refusal(name, (tokens or credential_type.secret_fields() or [""])[0])
    if refusal:
        raise SecretStoreError(refusal)
    return flow


def prompted_secrets(
    host: Host, name: str, credential_type: type[CredentialType], *, new: bool
) -> tuple[str, ...]:
    """The secret app fields to ask the operator for: for a new credential those its
    environment does not give; a renewed one keeps its own unless asked."""
    flow = credential_type.authorization
    if flow is None or not new:
        return ()
    secret_names = credential_type.secret_fields()
    return tuple(
        field
        for field in flow.app_fields
        if field in secret_names and host.secrets.from_environment(name, field) is None
    )


def authorize(
    host: Host,
    name: str,
    type_name: str,
    fields: Mapping[str, Any] | None,
    secrets: Mapping[str, str] | None,
    *,
    redirect_uri: str | None,
    browser: Browser,
    read_redirect: Callable[[str], str] | None,
    timeout: float | None,
) -> AuthorizeResult:
    """``Host.authorize_credential``: see there."""
    credential_type = host.registry.credential_type(type_name)
    flow = preflight(host, name, credential_type, new=True)
    given, secrets = _given(host, credential_type, fields, secrets)
    values = {**given, **secrets, **host._env_secrets(name, credential_type, secrets)}
    authorization, loaded = _run_flow(
        host, name, credential_type, flow, values, redirect_uri, browser, read_redirect, timeout
    )
    stored = provided(credential_type.schema, loaded, [*given, *authorization.fields])
    undo = host.secrets.replace(name, {**secrets, **authorization.secrets})
    try:
        host.store.insert_credential(name, type_name, stored, dict(authorization.facts))
    except AmpDestError:
        undo()
        raise
    return AuthorizeResult(host.credential(name), _warnings(host, name, authorization))


def reauthorize(
    host: Host,
    name: str,
    fields: Mapping[str, Any] | None,
    secrets: Mapping[str, str] | None,
    *,
    redirect_uri: str | None,
    browser: Browser,
    read_redirect: Callable[[str], str] | None,
    timeout: float | None,
) -> AuthorizeResult:
    """``Host.reauthorize_credential``: see there."""
    record = host.store.credential(name)
    credential_type = host.registry.credential_type(record["type"])
    flow = preflight(host, name, credential_type, new=False)
    given, secrets = _given(host, credential_type, fields, secrets)
    # A field given as None is cleared; the others keep their stored values.
    kept = {**record["fields"], **dict(fields or {})}
    kept = {key: value for key, value in kept.items() if value is not None}
    values = {**kept, **host._current_secrets(name, credential_type), **secrets}
    authorization, loaded = _run_flow(
        host, name, credential_type, flow, values, redirect_uri, browser, read_redirect, timeout
    )
    stored = provided(credential_type.schema, loaded, [*kept, *authorization.fields])
    undo = host.secrets.replace(name, {**secrets, **authorization.secrets})
    try:
        host.store.update_credential(name, stored, dict(authorization.facts))
    except AmpDestError:
        undo()
        raise
    return AuthorizeResult(host.credential(name), _warnings(host, name, authorization))


def _given(
    host: Host,
    credential_type: type[CredentialType],
    fields: Mapping[str, Any] | None,
    secrets: Mapping[str, str] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields and secrets the caller gave, each in its place; empty secrets dropped."""
    fields, secrets = dict(fields or {}), dict(secrets or {})
    host._reject_misplaced(credential_type, fields, secrets)
    given = {key: value for key, value in fields.items() if value is not None}
    return given, {key: value for key, value in secrets.items() if value}


def _run_flow(
    host: Host,
    name: str,
    credential_type: type[CredentialType],
    flow_cls: type[AuthorizationFlow],
    values: Mapping[str, Any],
    redirect_uri: str | None,
    browser: Browser,
    read_redirect: Callable[[str], str] | None,
    timeout: float | None,
) -> tuple[Authorization, dict[str, Any]]:
    """The authorization and the credential's values loaded with what it brought."""
    schema = credential_type.schema
    what = f"credential {name}"
    # Before authorizing, only the app fields are required: the rest may come back.
    missing = {
        field: [f"is required to authorize with {flow_cls.__name__}."]
        for field in flow_cls.app_fields
        if values.get(field) in (None, "")
    }
    if missing:
        raise InvalidFieldsError(what, missing)
    later = tuple(field for field in schema._declared_fields if field not in flow_cls.app_fields)
    before = load_with(schema, values, what, partial=later)
    secret_names = set(credential_type.secret_fields())
    known = tuple(str(v) for k, v in values.items() if k in secret_names and v)
    flow = flow_cls()
    code, uri = receive_code(
        flow,
        before,
        redirect_uri=redirect_uri,
        browser=browser,
        read_redirect=read_redirect,
        time_limit=flow_cls.time_limit if timeout is None else timeout,
        secret_values=known,
    )
    with host.session() as session:
        try:
            authorization = flow.exchange(code, before, uri, session)
        except AuthorizationRefused as exc:
            raise AuthorizationRefused(_redacted(str(exc), (*known, code))) from None
        except httpx.TransportError as exc:
            raise AuthorizationRefused(
                f"no answer from the provider to the code exchange ({type(exc).__name__}); "
                "start the authorization again"
            ) from None
    _check(flow_cls, credential_type, authorization, known)
    after = {**values, **authorization.fields, **authorization.secrets}
    return authorization, load_with(schema, after, what)


def _check(
    flow_cls: type[AuthorizationFlow],
    credential_type: type[CredentialType],
    authorization: object,
    known: tuple[str, ...],
) -> None:
    """What an exchange returned goes to the keyring and the database as it is, so it is
    held to the contract first: a broken flow is the plugin's error, stored nowhere."""
    where = f"{flow_cls.__name__}.exchange"
    if not isinstance(authorization, Authorization):
        raise PluginError(
            f"{where} returned {type(authorization).__name__}, not an Authorization; "
            "report this to the plugin's authors"
        )
    secret_names = set(credential_type.secret_fields())
    declared = set(credential_type.schema._declared_fields)
    wrong = sorted(
        [k for k, v in authorization.secrets.items() if k not in secret_names or not _text(v)]
        + [k for k in authorization.fields if k not in declared or k in secret_names]
    )
    if wrong:
        raise PluginError(
            f"{where} returned {', '.join(map(repr, wrong))} in the wrong place: secrets "
            f"must be secret fields of {credential_type.name} (as text), fields its other "
            "fields; report this to the plugin's authors"
        )
    try:
        stored = orjson.dumps({"fields": dict(authorization.fields), "facts": authorization.facts})
    except TypeError:
        raise PluginError(
            f"{where} returned facts or fields that are not JSON; report this to the "
            "plugin's authors"
        ) from None
    secrets = (*known, *authorization.secrets.values())
    if any(len(value) >= _SHORTEST_SECRET and value.encode() in stored for value in secrets):
        raise PluginError(
            f"{where} put a secret in its facts or fields, which are stored in the open; "
            "report this to the plugin's authors"
        )


def _warnings(host: Host, name: str, authorization: Authorization) -> list[str]:
    warnings = [str(warning) for warning in authorization.warnings]
    for field in authorization.secrets:
        if host.secrets.from_environment(name, field) is not None:
            warnings.append(
                f"{field} comes from the environment variable {env_var_name(name, field)}, "
                "which wins over the new value stored in the keyring: update or unset it"
            )
    return warnings


def _redacted(message: str, secrets: Iterable[str]) -> str:
    """A provider's refusal may quote what was sent; the operator sees it without."""
    for value in secrets:
        if len(value) >= _SHORTEST_SECRET:
            message = message.replace(value, "[secret]")
    return message


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)
