"""Playing the person at the browser, for tests and unattended scripts: open an
authorization URL on the emulator, press Authorize (or Deny), and get the URL the page
redirects the browser to, which is what ``--no-browser`` asks to have pasted.

Imports click only; httpx loads when a page is opened, so that listing the command
stays cheap.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import click

from .._constants import PORTAL_AUTH_PATH

_FORM_FIELDS = ("app_id", "state", "redirect_uri")
_MESSAGE = re.compile(r"<p>(.*?)</p>", re.S)


class ApprovalFailed(Exception):
    """The page refused the request; the message is the page's, in one line."""


def approve(
    authorization_url: str,
    *,
    deny: bool = False,
    advertiser_ids: Iterable[str] = (),
    timeout: float = 10.0,
) -> str:
    """Open ``authorization_url`` (an emulator's ``/portal/auth`` page), press
    Authorize, or Deny with ``deny``, and return the URL it redirects to. Without
    ``advertiser_ids`` every ad account listed on the page is authorized."""
    import httpx

    from amp_destinations import is_loopback_host

    parts = urlsplit(authorization_url)
    if parts.path != PORTAL_AUTH_PATH or not is_loopback_host(parts.hostname):
        raise ApprovalFailed(
            f"not the local emulator's authorization page (http://127.0.0.1:PORT{PORTAL_AUTH_PATH})"
        )
    form = [(name, value) for name, value in parse_qsl(parts.query) if name in _FORM_FIELDS]
    form.append(("action", "deny" if deny else "authorize"))
    form.extend(("advertiser_id", advertiser_id) for advertiser_id in advertiser_ids)
    with httpx.Client(timeout=timeout) as client:
        page = client.get(authorization_url)
        if page.status_code != 200:
            raise ApprovalFailed(_page_message(page.text))
        answer = client.post(
            urlunsplit(parts._replace(query="")),
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    if answer.status_code != 302:
        raise ApprovalFailed(_page_message(answer.text))
    return answer.headers["Location"]


def _page_message(text: str) -> str:
    found = _MESSAGE.search(text)
    message = html.unescape(found.group(1)) if found else text
    return " ".join(message.split()) or "the page gave no reason"


@click.command("approve")
@click.argument("authorization_url")
@click.option("--deny", is_flag=True, help="Press Deny instead of Authorize.")
@click.option(
    "--advertiser-id",
    "advertiser_ids",
    multiple=True,
    help="Authorize only this ad account (repeatable). Default: every one listed.",
)
def approve_command(authorization_url: str, deny: bool, advertiser_ids: tuple[str, ...]) -> None:
    """Approve an authorization URL in the local TikTok emulator, as the person at
    the browser would, and print the URL it redirects to (to paste where
    `--no-browser` asks for it)."""
    import httpx

    try:
        click.echo(approve(authorization_url, deny=deny, advertiser_ids=advertiser_ids))
    except ApprovalFailed as failed:
        raise click.ClickException(f"the authorization page refused: {failed}") from None
    except httpx.HTTPError as error:
        raise click.ClickException(
            f"could not open the authorization page ({type(error).__name__}): is the "
            "emulator running at that address?"
        ) from None
