"""The OAuth endpoints: the code exchange (``/oauth2/access_token/``) and the list of
ad accounts an authorization reaches (``/oauth2/advertiser/get/``).

Both check the app id and secret (40101 when they do not match). A code is redeemed
once, within its hour: a used or unknown code is 40110, an expired one 40131. The token
issued is long-term, as TikTok issues advertiser accounts, and works on every endpoint.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from .._constants import APP_NOT_MATCHED, AUTH_CODE_EXPIRED, AUTH_CODE_INVALID, OK
from ._envelope import NO_PERMISSION, ApiError, envelope
from ._grants import Redeemed
from ._messages import Request, Response
from ._parsing import first, string_fields
from ._seed import SeedApp
from ._state import AccessToken, EmulatorState
from ._validate import InvalidRequest

_REFUSED_CODES = {
    Redeemed.UNKNOWN: (AUTH_CODE_INVALID, "Auth code is invalid."),
    Redeemed.USED: (AUTH_CODE_INVALID, "Auth code has been used."),
    Redeemed.EXPIRED: (AUTH_CODE_EXPIRED, "Authorization code is expired."),
}


class OAuthEndpoints:
    def __init__(self, state: EmulatorState):
        self.state = state

    def access_token(self, request: Request, token: None) -> Response:
        body = string_fields(request, ("app_id", "secret", "auth_code"))
        app = self._app(body["app_id"], body["secret"])
        outcome, grant = self.state.auth_codes.redeem(body["auth_code"], app.app_id)
        if grant is None:
            raise ApiError(*_REFUSED_CODES[outcome])
        data = {
            "access_token": self.state.issue_access_token(grant),
            "advertiser_ids": sorted(grant.advertiser_ids),
            "scope": list(grant.scopes),
        }
        return envelope(OK, "OK", data)

    def advertiser_get(self, request: Request, token: AccessToken) -> Response:
        params = parse_qs(request.query, keep_blank_values=True)
        app_id, secret = first(params, "app_id"), first(params, "secret")
        for name, value in (("app_id", app_id), ("secret", secret)):
            if not value:
                raise InvalidRequest(name, "required")
        assert app_id is not None and secret is not None  # checked just above
        app = self._app(app_id, secret)
        if token.app_id is not None and token.app_id != app.app_id:
            raise ApiError(NO_PERMISSION, "access token: not issued to this app")
        name_of = self.state.advertiser_name
        listed = [
            {"advertiser_id": advertiser_id, "advertiser_name": name_of(advertiser_id)}
            for advertiser_id in sorted(token.advertiser_ids)
        ]
        return envelope(OK, "OK", {"list": listed})

    def _app(self, app_id: str, secret: str) -> SeedApp:
        app = self.state.check_app(app_id, secret)
        if app is None:
            raise ApiError(APP_NOT_MATCHED, "app_id and secret: no app with this id and secret")
        return app
