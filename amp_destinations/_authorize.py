"""OAuth 2.0 authorization-code flows: the provider's part, which a plugin writes, and
the contract between it and the host, which runs the generic part.

A credential type declares a flow by setting ``authorization`` to an
``AuthorizationFlow`` subclass. The host then offers ``Host.authorize_credential`` and
``Host.reauthorize_credential`` (``amp-dest credentials authorize`` / ``reauthorize``):
it checks the fields the flow needs (``app_fields``), makes a one-time ``state``, asks
the flow for the authorization URL, opens the browser (or prints the URL), receives the
redirect on a loopback listener at a free port of 127.0.0.1 (or reads back the URL the
browser was sent to, or the bare code, when there is no browser or the app's registered
redirect is elsewhere), checks the state, and hands the code to ``exchange``. What
``exchange`` returns goes straight to the secret store and the database; nothing secret
is printed, logged or put in argv.

The host's part is built on this contract (issue 12); this module holds the contract.
No ``from __future__ import annotations``: as in ``_base``, the annotations are real
objects, so that ``typing.get_type_hints`` resolves them on the public classes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ._public import public

if TYPE_CHECKING:
    import httpx

__all__ = ["Authorization", "AuthorizationFlow", "Choice"]


@public
@dataclass(frozen=True)
class Authorization:
    """What a flow's ``exchange`` returns: what to store, and what the account is.

    ``secrets`` are secret fields of the credential type (they go to the keyring);
    ``fields`` are its other fields to store; ``facts`` describe the account the token
    may act for (TikTok: ``advertiser_ids`` and ``scopes``), kept with the credential
    in the database, shown by ``credentials show`` and readable by destinations as
    ``Credential.facts``: never put a secret there. ``warnings`` are one line each for
    the operator (a scope the destination needs that was not granted, say).
    """

    secrets: Mapping[str, str]
    fields: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
    warnings: Sequence[str] = ()


@public
class AuthorizationFlow:
    """A provider's OAuth 2.0 authorization-code flow. Subclass it and set it as the
    ``authorization`` of your ``CredentialType``.

    ``values`` below are the credential's fields and secrets as loaded by its schema
    (app id, app secret, an API base URL...), never argv.
    """

    # Credential fields (secret or not) that must be given before authorizing, e.g.
    # ("app_id", "app_secret"): the host asks for them as it asks for secrets.
    app_fields: ClassVar[tuple[str, ...]] = ()
    # The query parameters of the redirect: the code, the state, and an error.
    code_parameter: ClassVar[str] = "code"
    state_parameter: ClassVar[str] = "state"
    error_parameter: ClassVar[str] = "error"
    # Whether the provider accepts a loopback redirect URI (http://127.0.0.1:PORT/...)
    # registered for the app; when False, or when the operator names a redirect URI
    # elsewhere, the host reads back the redirected URL or the bare code instead.
    loopback_redirect: ClassVar[bool] = True
    # Seconds a person has to approve before the host gives up (and how long a code
    # stays valid, when the provider says).
    time_limit: ClassVar[float] = 600.0

    def authorization_url(self, values: Mapping[str, Any], redirect_uri: str, state: str) -> str:
        """The page where the person approves, with client id, redirect URI, state and
        scopes in it."""
        raise NotImplementedError

    def exchange(
        self,
        code: str,
        values: Mapping[str, Any],
        redirect_uri: str,
        session: "httpx.Client",
    ) -> Authorization:
        """Trade the code for secrets and account facts, or raise
        ``amp_destinations.AuthorizationRefused`` saying why (expired, reused, wrong
        app secret...)."""
        raise NotImplementedError


@public
@dataclass(frozen=True)
class Choice:
    """One value a setting may take, as the remote system lists it: the value to
    store, and the name a person recognizes ("Store sales (7100000000000000001)")."""

    value: str
    label: str
