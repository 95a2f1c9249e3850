"""The settings an operator can pick from what the account reaches instead of copying
ids out of TikTok: ``advertiser_id`` and ``event_set_id`` (offline event sets, the
pixels of a web destination, the CRM event sets of a CRM one). Read-only.

Advertisers: the ids the authorization granted (the credential's ``advertiser_ids``
fact), named by ``/oauth2/advertiser/get/``, which takes the app id and secret, so a
credential with both and no facts lists what TikTok lists. Event sets: ``/offline/get/``
for the advertiser chosen; pixels: ``/pixel/list/``; CRM event sets: ``/crm/list/``
(the lists of the event source table in ``_sources``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
from marshmallow import ValidationError

from amp_destinations import AmpDestError, Choice, Credential, InvalidFieldsError

from ._client import Answer, Kind, TikTokClient, TokenError
from ._constants import ADVERTISER_GET_PATH, DEFAULT_API_BASE_URL
from ._problems import Target, answer_problem, token_problem, transport_problem
from ._settings import TikTokSettingsSchema
from ._sources import source_of

__all__ = ["CHOOSABLE", "list_choices"]

CHOOSABLE = ("advertiser_id", "event_set_id")
# TikTok pages its lists; a bound keeps a misbehaving answer from looping forever.
MAX_PAGES = 50


def list_choices(
    setting: str, credential: Credential | None, settings: Mapping[str, Any], session: httpx.Client
) -> list[Choice]:
    if setting not in CHOOSABLE:
        raise AmpDestError(
            f"TikTok lists no choices for {setting}; it lists {', '.join(CHOOSABLE)}"
        )
    if credential is None:
        raise AmpDestError(
            f"listing {setting} choices needs a credential: TikTok lists what it reaches"
        )
    given = _checked(settings)
    base_url = given.get("api_base_url") or credential.get("api_base_url", DEFAULT_API_BASE_URL)
    client = TikTokClient(base_url, credential)
    if setting == "advertiser_id":
        target = Target(base_url, credential.name)
        return _call(target, lambda: _advertisers(client, credential, session))
    advertiser_id = given.get("advertiser_id")
    if not advertiser_id:
        rule = "is needed first: event sets and pixels are listed for one advertiser."
        raise InvalidFieldsError("settings", {"advertiser_id": [rule]})
    source = source_of(given)
    target = Target(base_url, credential.name, advertiser_id, source.found_check, source.hint)
    pages = _pages(client, session, target, source.list_path, source.list_key)
    return _call(target, lambda: [_named(e, source.id_key, source.name_key) for e in pages()])


def _checked(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings given so far, held to the rules a save applies (an ``api_base_url``
    the token may travel to, above all); the ones not given yet are not required."""
    try:
        return TikTokSettingsSchema().load(dict(settings), partial=True)
    except ValidationError as exc:
        errors = {
            field: [str(rule) for rule in rules] if isinstance(rules, list) else [str(rules)]
            for field, rules in exc.normalized_messages().items()
        }
        raise InvalidFieldsError("settings", errors) from None


def _call(target: Target, listing: Callable[[], list[Choice | None]]) -> list[Choice]:
    """The choices ``listing`` makes, or one line saying why TikTok would not list them."""
    try:
        choices = listing()
    except TokenError as exc:
        raise AmpDestError(token_problem(exc).one_line()) from None
    except httpx.HTTPError as exc:
        raise AmpDestError(transport_problem(exc, target.base_url).one_line()) from None
    except _Refused as refused:
        raise AmpDestError(answer_problem(refused.answer, target).one_line()) from None
    return [choice for choice in choices if choice is not None]


class _Refused(Exception):
    def __init__(self, answer: Answer):
        self.answer = answer


def _answered(answer: Answer) -> Answer:
    if answer.kind is not Kind.OK:
        raise _Refused(answer)
    return answer


def _advertisers(
    client: TikTokClient, credential: Credential, session: httpx.Client
) -> list[Choice | None]:
    granted = credential.facts.get("advertiser_ids")
    app_id, app_secret = credential.get("app_id"), credential.get("app_secret")
    if not (app_id and app_secret):
        if not isinstance(granted, list):
            raise AmpDestError(
                f"credential {credential.name} has neither app_id and app_secret to ask TikTok "
                "for its advertisers nor an authorization that named them: authorize it, or "
                "give its app_id and app_secret"
            )
        return [Choice(str(advertiser_id), str(advertiser_id)) for advertiser_id in granted]
    _hide_secret_in_httpx_log()
    params = {"app_id": app_id, "secret": app_secret}
    listed = _answered(client.call(session, "GET", ADVERTISER_GET_PATH, params=params))
    entries = listed.data.get("list")
    names = {
        str(entry.get("advertiser_id")): entry.get("advertiser_name")
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    }
    ids = [str(advertiser_id) for advertiser_id in granted] if isinstance(granted, list) else names
    return [_labelled(advertiser_id, names.get(advertiser_id)) for advertiser_id in ids]


def _pages(
    client: TikTokClient, session: httpx.Client, target: Target, path: str, list_key: str
) -> Callable[[], Iterator[Any]]:
    """The entries of every page of one of TikTok's lists for the target advertiser."""

    def entries() -> Iterator[Any]:
        page = 1
        while True:
            params = {"advertiser_id": str(target.advertiser_id)}
            if page > 1:
                params["page"] = str(page)
            data = _answered(client.call(session, "GET", path, params=params)).data
            listed = data.get(list_key)
            yield from listed if isinstance(listed, list) else ()
            info = data.get("page_info")
            total = info.get("total_page") if isinstance(info, dict) else None
            if not isinstance(total, int) or page >= min(total, MAX_PAGES):
                return
            page += 1

    return entries


def _named(entry: Any, id_key: str, name_key: str) -> Choice | None:
    if not isinstance(entry, dict) or not entry.get(id_key):
        return None
    return _labelled(str(entry[id_key]), entry.get(name_key))


def _labelled(value: str, name: Any) -> Choice:
    return Choice(value, f"{name} ({value})" if isinstance(name, str) and name else value)


class _HideSecretQuery(logging.Filter):
    """httpx logs every request's URL at INFO, and ``/oauth2/advertiser/get/`` takes
    the app secret in its query (TikTok's design): the value is replaced in the log
    record before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_set_param("secret", "[redacted]")
                if isinstance(arg, httpx.URL) and "secret" in arg.params
                else arg
                for arg in record.args
            )
        return True


_HIDE_SECRET_QUERY = _HideSecretQuery()


def _hide_secret_in_httpx_log() -> None:
    logging.getLogger("httpx").addFilter(_HIDE_SECRET_QUERY)  # once: the same filter
