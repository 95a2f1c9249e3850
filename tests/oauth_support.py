"""A throw-away plugin with an OAuth provider of its own, for the tests of the host's
authorization and listed-choices contracts.

**Larch** is made up and shaped unlike TikTok on purpose: the standard OAuth 2.0 names
(``code``, ``state``, ``error``), a form-encoded token request with ``client_id`` and
``client_secret``, a Bearer token, accounts and their lists. ``LarchProvider`` is a real
HTTP server on a free port of 127.0.0.1 (started and stopped by the ``larch`` fixture):
an authorization page, a decision endpoint that redirects as a provider does, the token
endpoint (single-use codes bound to their redirect URI), the accounts API, and an admin
endpoint that revokes a token. ``Browser`` plays the person at the browser with httpx.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from marshmallow import Schema, fields

import amp_destinations as amp

CLIENT_ID = "larch-app-1"
CLIENT_SECRET = "larch-client-secret-5e1f0c9b"
ACCOUNTS = {"acc-1": "Birch Stores", "acc-2": "Cedar Online"}
LISTS = {"acc-1": {"L-10": "Newsletter", "L-11": "Loyalty"}, "acc-2": {"L-20": "Buyers"}}
GRANTED = ["events:write", "accounts:read"]


class LarchProvider:
    """The provider: ``tokens`` it issued (token -> accounts), ``revoked`` ones,
    ``events`` received, and knobs a test turns (``scopes`` to grant)."""

    def __init__(self):
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, list[str]] = {}
        self.revoked: set[str] = set()
        self.events: list[dict] = []
        self.exchanges: list[dict] = []  # every token request, as sent
        self.scopes = list(GRANTED)
        self.lock = threading.Lock()
        provider = self

        class Handler(_Handler):
            def do_GET(self):
                provider.answer(self, "GET")

            def do_POST(self):
                provider.answer(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LarchProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def revoke_all(self) -> None:
        with self.lock:
            self.revoked.update(self.tokens)

    # -- the endpoints --------------------------------------------------------------

    def answer(self, request: _Handler, method: str) -> None:
        url = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        route = (method, url.path)
        if route == ("GET", "/oauth/authorize"):
            # The page a person sees; the test goes straight to the decision instead.
            request.reply(200, f"<form action='/oauth/decide?{url.query}'>Approve?</form>")
        elif route == ("GET", "/oauth/decide"):
            self.decide(request, query)
        elif route == ("POST", "/oauth/token"):
            self.token(request, parse_qs(request.body().decode()))
        elif route == ("GET", "/v2/accounts"):
            accounts = self.accounts_of(request)
            if accounts is not None:
                request.json(200, {"accounts": [{"id": a, "name": ACCOUNTS[a]} for a in accounts]})
        elif method == "GET" and url.path.startswith("/v2/accounts/"):
            if self.accounts_of(request) is not None:
                account = url.path.split("/")[3]
                lists = LISTS.get(account, {})
                request.json(200, {"lists": [{"id": k, "title": v} for k, v in lists.items()]})
        elif method == "POST" and url.path.startswith("/v2/accounts/"):
            if self.accounts_of(request) is not None:
                with self.lock:
                    self.events.extend(json.loads(request.body()))
                request.json(200, {"ok": True})
        else:
            request.json(404, {"error": "not_found"})

    def decide(self, request: _Handler, query: dict) -> None:
        if query.get("client_id") != CLIENT_ID or "redirect_uri" not in query:
            request.json(400, {"error": "invalid_request"})
            return
        answer = {"state": query.get("state", "")}
        if query.get("decision") == "approve":
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = {"redirect_uri": query["redirect_uri"]}
            answer["code"] = code
        else:
            answer.update(error="access_denied", error_description="The user said no")
        request.redirect(f"{query['redirect_uri']}?{urlencode(answer)}")

    def token(self, request: _Handler, form: dict) -> None:
        form = {key: values[0] for key, values in form.items()}
        self.exchanges.append(form)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            request.json(401, {"error": "invalid_client"})
            return
        with self.lock:
            issued = self.codes.pop(form.get("code", ""), None)  # a code is used once
        if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
            request.json(400, {"error": "invalid_grant"})
            return
        token = "larch-at-" + secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[token] = list(ACCOUNTS)
        request.json(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": " ".join(self.scopes),
                "account_ids": list(ACCOUNTS),
            },
        )

    def accounts_of(self, request: _Handler) -> list[str] | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self.lock:
            accounts = self.tokens.get(token) if token not in self.revoked else None
        if accounts is None:
            request.json(401, {"error": "invalid_token"})
        return accounts


class _Handler(BaseHTTPRequestHandler):
    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, text: str, content_type: str = "text/html") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def json(self, status: int, body: dict) -> None:
        self.reply(status, json.dumps(body), "application/json")

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


class Browser:
    """The person at the browser: opens the authorization page, decides, and follows
    the provider's redirect wherever it goes (the host's listener, say). ``opened``
    holds each URL it was given; ``landed`` the status of the page it landed on."""

    def __init__(self, decision: str = "approve", state: str | None = None):
        self.decision = decision
        self.state = state  # a forged state replaces the real one
        self.opened: list[str] = []
        self.redirected_to: str | None = None
        self.landed: int | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        with httpx.Client() as client:
            self.landed = client.get(self.approve(url, client)).status_code
        return True

    def visit(self, url: str) -> None:
        """Open the page and decide, without following the redirect: where nothing
        listens, the browser shows an error page with that address in its bar."""
        self.opened.append(url)
        self.approve(url)

    def approve(self, url: str, client: httpx.Client | None = None) -> str:
        """Decide on the page at ``url``; the address the provider redirects to."""
        if client is None:
            with httpx.Client() as client:
                return self.approve(url, client)
        assert client.get(url).status_code == 200  # the page a person would see
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        query["decision"] = self.decision
        if self.state is not None:
            query["state"] = self.state
        base = url.split("/oauth/authorize")[0]
        answer = client.get(f"{base}/oauth/decide?{urlencode(query)}")
        assert answer.status_code == 302, answer.text
        self.redirected_to = answer.headers["Location"]
        return self.redirected_to


# -- the plugin ------------------------------------------------------------------------


class LarchFlow(amp.AuthorizationFlow):
    app_fields = ("client_id", "client_secret")
    time_limit = 120.0

    def authorization_url(self, values, redirect_uri, state):
        query = urlencode(
            {
                "client_id": values["client_id"],
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": " ".join(GRANTED),
                "response_type": "code",
            }
        )
        return f"{values['base_url']}/oauth/authorize?{query}"

    def exchange(self, code, values, redirect_uri, session):
        response = session.post(
            f"{values['base_url']}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": values["client_id"],
                "client_secret": values["client_secret"],
            },
        )
        body = response.json()
        if response.status_code == 401:
            raise amp.AuthorizationRefused("Larch refused the app's client id or secret")
        if response.status_code != 200:
            raise amp.AuthorizationRefused(
                f"Larch refused the code ({body.get('error')}): it expired or was used; start again"
            )
        scopes = body["scope"].split()
        missing = [scope for scope in GRANTED if scope not in scopes]
        warnings = [f"Larch did not grant {', '.join(missing)}"] if missing else []
        return amp.Authorization(
            secrets={"access_token": body["access_token"]},
            facts={"account_ids": body["account_ids"], "scopes": scopes},
            warnings=warnings,
        )


class LarchFields(Schema):
    # Not required by the schema: a token pasted by hand needs no app; authorizing does.
    client_id = fields.String(load_default=None, metadata={"description": "The client id."})
    client_secret = amp.Secret(required=True, metadata={"description": "The app's secret."})
    access_token = amp.Secret(required=True, metadata={"description": "From authorizing."})
    base_url = fields.String(load_default="https://larch.invalid", metadata={"description": "API"})


class LarchOAuth(amp.CredentialType):
    name = "larch-oauth"
    title = "Larch (OAuth)"
    schema = LarchFields
    authorization = LarchFlow


class LarchSettings(Schema):
    account_id = fields.String(required=True, metadata={"description": "The account."})
    list_id = fields.String(required=True, metadata={"description": "A list of the account."})
    label = fields.String(load_default="", metadata={"description": "Not listed."})


class LarchEvents(amp.Destination):
    name = "larch-events"
    title = "Larch events"
    credential_type = "larch-oauth"
    settings_schema = LarchSettings
    choosable = ("account_id", "list_id")

    def __init__(self, settings, credential=None):
        super().__init__(settings, credential)
        self.base = credential["base_url"]
        self.headers = {"Authorization": f"Bearer {credential['access_token']}"}

    @classmethod
    def choices(cls, setting, credential, settings, session):
        headers = {"Authorization": f"Bearer {credential['access_token']}"}
        base = credential["base_url"]
        if setting == "account_id":
            answer = session.get(f"{base}/v2/accounts", headers=headers).json()
            return [
                amp.Choice(a["id"], f"{a['name']} ({a['id']})")
                for a in answer["accounts"]
                if a["id"] in credential.facts.get("account_ids", [])
            ]
        answer = session.get(f"{base}/v2/accounts/{settings['account_id']}/lists", headers=headers)
        return [amp.Choice(item["id"], item["title"]) for item in answer.json()["lists"]]

    def test_connection(self, session):
        response = session.get(f"{self.base}/v2/accounts", headers=self.headers)
        if response.status_code == 401:
            failed = amp.Check.failed(
                "token accepted", "Larch refused the token", "authorize again", amp.FailureType.AUTH
            )
            return amp.ConnectionStatus([failed])
        return amp.ConnectionStatus([amp.Check.passed("token accepted")])

    def prepare(self, row, warnings):
        return {"id": row.get("id")}

    def deliver(self, batch, session):
        url = f"{self.base}/v2/accounts/{self.settings['account_id']}/events"
        response = session.post(url, content=batch.body, headers=self.headers)
        if response.status_code == 401:
            return amp.BatchOutcome.fatal("Larch refused the token", amp.FailureType.AUTH)
        return amp.BatchOutcome.delivered()


class LarchPlugin:
    __name__ = "larch-plugin"

    @amp.hookimpl
    def register_credential_types(self, register):
        register(LarchOAuth)

    @amp.hookimpl
    def register_destinations(self, register):
        register(LarchEvents)


def app_fields(provider: LarchProvider) -> dict[str, str]:
    return {"client_id": CLIENT_ID, "base_url": provider.url}
