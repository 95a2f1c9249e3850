"""The TikTok emulator's read/update/refresh endpoints, authentication, HTTP behaviour,
admin endpoints and seed loading, through real sockets on 127.0.0.1."""

from __future__ import annotations

import socket

import httpx
import pytest

from tiktok_ads_events._constants import (
    MAX_REQUEST_BYTES,
    OFFLINE_GET_PATH,
    OFFLINE_UPDATE_PATH,
    PIXEL_LIST_PATH,
    REFRESH_TOKEN_PATH,
    TRACK_PATH,
)
from tiktok_ads_events.emulator import Emulator, EmulatorConfigError, load_seed

ADVERTISER = "7000000000000000001"
OTHER_ADVERTISER = "7000000000000000002"
EVENT_SET = "7100000000000000001"
SECOND_EVENT_SET = "7100000000000000003"
OTHER_EVENT_SET = "7100000000000000002"
PIXEL = "C0AMPDESTPIXEL000001"
APP_ID = "7200000000000000001"
APP_SECRET = "app-secret-not-for-messages"

SEED = {
    "access_tokens": [
        {"token": "good-token", "advertiser_ids": [ADVERTISER]},
        {"token": "analyst-token", "advertiser_ids": [ADVERTISER], "role": "analyst"},
        {"token": "expired-token", "status": "expired"},
        {"token": "revoked-token", "status": "revoked"},
    ],
    "apps": [
        {
            "app_id": APP_ID,
            "secret": APP_SECRET,
            "refresh_tokens": [{"token": "refresh-1", "advertiser_ids": [ADVERTISER]}],
        },
    ],
    "advertisers": [
        {
            "advertiser_id": ADVERTISER,
            "event_sets": [
                {"event_set_id": EVENT_SET, "name": "Store sales", "auto_tracking": False},
                {"event_set_id": SECOND_EVENT_SET, "name": "Call centre", "auto_tracking": True},
            ],
            "pixels": [
                {"code": PIXEL, "name": "Shop", "pixel_id": "7300000000000000001"},
                {"code": "C0AMPDESTPIXEL000009", "name": "Blog"},
            ],
        },
        {
            "advertiser_id": OTHER_ADVERTISER,
            "event_sets": [{"event_set_id": OTHER_EVENT_SET, "name": "Elsewhere"}],
        },
    ],
}


@pytest.fixture
def emu():
    with Emulator(SEED) as running:
        yield running


@pytest.fixture
def client(emu):
    with httpx.Client(base_url=emu.base_url, headers={"Access-Token": "good-token"}) as http:
        yield http


def offline_get(client, advertiser_id=ADVERTISER, ids=f'["{EVENT_SET}"]', **kwargs):
    params = {"advertiser_id": advertiser_id}
    if ids is not None:
        params["event_set_ids"] = ids
    return client.get(OFFLINE_GET_PATH, params=params, **kwargs).json()


def refresh(client, refresh_token, *, app_id=APP_ID, secret=APP_SECRET, grant_type="refresh_token"):
    body = {
        "app_id": app_id,
        "secret": secret,
        "refresh_token": refresh_token,
        "grant_type": grant_type,
    }
    return client.post(REFRESH_TOKEN_PATH, json=body).json()


# -- offline/get, pixel/list, offline/update --------------------------------------------


def test_offline_get_answers_in_tiktoks_envelope_with_the_requested_set(client):
    response = client.get(
        OFFLINE_GET_PATH, params={"advertiser_id": ADVERTISER, "event_set_ids": f'["{EVENT_SET}"]'}
    )
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"code", "message", "request_id", "data"}
    assert answer["code"] == 0 and answer["request_id"]
    assert answer["data"]["event_set_list"] == [
        {"event_set_id": EVENT_SET, "name": "Store sales", "auto_tracking": False}
    ]


def test_offline_get_without_ids_lists_every_set_of_the_advertiser(client):
    listed = offline_get(client, ids=None)["data"]["event_set_list"]
    assert [s["event_set_id"] for s in listed] == [EVENT_SET, SECOND_EVENT_SET]


def test_offline_get_leaves_out_sets_that_are_not_seeded_or_belong_elsewhere(client):
    answer = offline_get(client, ids=f'["7199999999999999999", "{OTHER_EVENT_SET}"]')
    assert answer["code"] == 0
    assert answer["data"]["event_set_list"] == []


@pytest.mark.parametrize("ids", ["not json", '["abc"]', f"[{EVENT_SET}]", f'"{EVENT_SET}"'])
def test_offline_get_rejects_event_set_ids_that_are_not_a_json_list_of_id_strings(client, ids):
    answer = offline_get(client, ids=ids)
    assert answer["code"] == 40002
    assert answer["message"].startswith("event_set_ids:")


@pytest.mark.parametrize("path", [OFFLINE_GET_PATH, PIXEL_LIST_PATH])
@pytest.mark.parametrize(
    "advertiser_id, rule", [(None, "required"), ("70000abc", "must be a string of digits")]
)
def test_reads_need_a_numeric_advertiser_id(client, path, advertiser_id, rule):
    params = {} if advertiser_id is None else {"advertiser_id": advertiser_id}
    answer = client.get(path, params=params).json()
    assert (answer["code"], answer["message"]) == (40002, f"advertiser_id: {rule}")


def test_an_advertiser_that_is_not_seeded_is_no_permission_40001(client):
    unknown = "7099999999999999999"
    assert offline_get(client, advertiser_id=unknown)["code"] == 40001
    assert client.get(PIXEL_LIST_PATH, params={"advertiser_id": unknown}).json()["code"] == 40001
    update = {"advertiser_id": unknown, "event_set_id": EVENT_SET, "auto_tracking": True}
    assert client.post(OFFLINE_UPDATE_PATH, json=update).json()["code"] == 40001


def test_an_advertiser_the_token_is_not_authorised_for_is_40300(client):
    answer = offline_get(client, advertiser_id=OTHER_ADVERTISER)
    assert answer["code"] == 40300
    assert answer["message"].startswith("advertiser_id:")


def test_pixel_list_answers_the_pixel_asked_for(client):
    answer = client.get(PIXEL_LIST_PATH, params={"advertiser_id": ADVERTISER, "code": PIXEL}).json()
    assert answer["code"] == 0
    assert answer["data"]["pixels"] == [
        {"pixel_id": "7300000000000000001", "pixel_code": PIXEL, "pixel_name": "Shop"}
    ]


def test_pixel_list_without_code_lists_all_and_an_unknown_code_finds_none(client):
    everything = client.get(PIXEL_LIST_PATH, params={"advertiser_id": ADVERTISER}).json()
    codes = [p["pixel_code"] for p in everything["data"]["pixels"]]
    assert codes == [PIXEL, "C0AMPDESTPIXEL000009"]
    assert all(p["pixel_id"].isdigit() for p in everything["data"]["pixels"])
    params = {"advertiser_id": ADVERTISER, "code": "C0NOSUCHPIXEL"}
    unknown = client.get(PIXEL_LIST_PATH, params=params).json()
    assert (unknown["code"], unknown["data"]["pixels"]) == (0, [])


def test_offline_update_applies_auto_tracking_and_name(client, emu):
    body = {
        "advertiser_id": ADVERTISER,
        "event_set_id": EVENT_SET,
        "auto_tracking": True,
        "name": "Stores",
    }
    assert client.post(OFFLINE_UPDATE_PATH, json=body).json()["code"] == 0
    assert offline_get(client)["data"]["event_set_list"] == [
        {"event_set_id": EVENT_SET, "name": "Stores", "auto_tracking": True}
    ]
    assert emu.state.event_set(EVENT_SET).auto_tracking is True


def test_offline_update_without_name_keeps_the_name(client):
    body = {"advertiser_id": ADVERTISER, "event_set_id": EVENT_SET, "auto_tracking": True}
    assert client.post(OFFLINE_UPDATE_PATH, json=body).json()["code"] == 0
    assert offline_get(client)["data"]["event_set_list"][0]["name"] == "Store sales"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"auto_tracking": None}, "auto_tracking: required"),
        ({"auto_tracking": "yes"}, "auto_tracking: must be true or false"),
        ({"name": ""}, "name: must be a non-empty string"),
        ({"event_set_id": None}, "event_set_id: required"),
        (
            {"event_set_id": OTHER_EVENT_SET},
            "event_set_id: no offline event set with this id under this advertiser",
        ),
        (
            {"event_set_id": "7199999999999999999"},
            "event_set_id: no offline event set with this id under this advertiser",
        ),
        ({"colour": "blue"}, "colour: unknown field"),
    ],
)
def test_offline_update_rejects_bad_fields_naming_them(client, emu, change, message):
    body = {"advertiser_id": ADVERTISER, "event_set_id": EVENT_SET, "auto_tracking": True, **change}
    body = {key: value for key, value in body.items() if value is not None}
    answer = client.post(OFFLINE_UPDATE_PATH, json=body).json()
    assert (answer["code"], answer["message"]) == (40002, message)
    assert emu.state.event_set(EVENT_SET).auto_tracking is False


def test_the_analyst_role_can_read_but_not_update_or_send_40106(client):
    analyst = {"Access-Token": "analyst-token"}
    assert offline_get(client, headers=analyst)["code"] == 0
    update = {"advertiser_id": ADVERTISER, "event_set_id": EVENT_SET, "auto_tracking": True}
    assert client.post(OFFLINE_UPDATE_PATH, json=update, headers=analyst).json()["code"] == 40106
    track = {"event_source": "offline", "event_source_id": EVENT_SET, "data": [{}]}
    assert client.post(TRACK_PATH, json=track, headers=analyst).json()["code"] == 40106


# -- event/track/ beyond event validation (see test_emulator_track.py) -------------------


def test_track_for_an_event_set_that_is_not_seeded_is_40002_naming_event_source_id(client):
    body = {"event_source": "offline", "event_source_id": "7199999999999999999", "data": [{}]}
    answer = client.post(TRACK_PATH, json=body).json()
    assert (answer["code"], answer["message"]) == (
        40002,
        "event_source_id: no offline event set with this id exists",
    )


def test_track_web_needs_a_seeded_pixel_code_not_an_event_set_id(client):
    body = {"event_source": "web", "event_source_id": EVENT_SET, "data": [{}]}
    answer = client.post(TRACK_PATH, json=body).json()
    assert (answer["code"], answer["message"]) == (
        40002,
        "event_source_id: no pixel with this id exists",
    )


def test_track_to_an_event_set_of_another_advertiser_is_40300(client):
    body = {"event_source": "offline", "event_source_id": OTHER_EVENT_SET, "data": [{}]}
    assert client.post(TRACK_PATH, json=body).json()["code"] == 40300


def test_post_endpoints_need_a_json_content_type_and_a_json_body(client):
    not_json = client.post(TRACK_PATH, content=b"{}", headers={"Content-Type": "text/plain"}).json()
    assert (not_json["code"], not_json["message"]) == (
        40002,
        "Content-Type: must be application/json",
    )
    broken = client.post(
        TRACK_PATH, content=b"{not json", headers={"Content-Type": "application/json"}
    ).json()
    assert (broken["code"], broken["message"]) == (40002, "request body: must be valid JSON")


# -- authentication ----------------------------------------------------------------------

READS_AND_WRITES = [
    ("GET", OFFLINE_GET_PATH, {"params": {"advertiser_id": ADVERTISER}}),
    ("GET", PIXEL_LIST_PATH, {"params": {"advertiser_id": ADVERTISER}}),
    (
        "POST",
        OFFLINE_UPDATE_PATH,
        {"json": {"advertiser_id": ADVERTISER, "event_set_id": EVENT_SET, "auto_tracking": True}},
    ),
    (
        "POST",
        TRACK_PATH,
        {"json": {"event_source": "offline", "event_source_id": EVENT_SET, "data": [{}]}},
    ),
]


@pytest.mark.parametrize("method, path, request_kwargs", READS_AND_WRITES)
@pytest.mark.parametrize(
    "token, code",
    [
        (None, 40104),
        ("", 40104),
        ("no-such-token", 40105),
        ("revoked-token", 40105),
        ("expired-token", 40102),
    ],
)
def test_every_endpoint_needs_a_known_live_access_token(
    emu, method, path, request_kwargs, token, code
):
    headers = {} if token is None else {"Access-Token": token}
    with httpx.Client(base_url=emu.base_url) as http:
        answer = http.request(method, path, headers=headers, **request_kwargs).json()
    assert answer["code"] == code
    assert not token or token not in answer["message"]


# -- oauth2/refresh_token/ ---------------------------------------------------------------


def test_refresh_issues_a_working_access_token_and_rotates_the_refresh_token(client):
    first = refresh(client, "refresh-1")
    assert first["code"] == 0
    data = first["data"]
    assert data["access_token"] and data["refresh_token"] != "refresh-1"
    assert data["access_token_expire_in"] > 0 and data["refresh_token_expire_in"] > 0
    assert offline_get(client, headers={"Access-Token": data["access_token"]})["code"] == 0

    assert refresh(client, "refresh-1")["code"] == 40105  # rotated away
    second = refresh(client, data["refresh_token"])
    assert second["code"] == 0
    assert second["data"]["access_token"] != data["access_token"]


def test_refreshing_a_long_term_access_token_is_40107(client):
    answer = refresh(client, "good-token")
    assert answer["code"] == 40107
    assert offline_get(client)["code"] == 0  # still usable as it is


@pytest.mark.parametrize("change", [{"secret": "wrong-secret"}, {"app_id": "7299999999999999999"}])
def test_refresh_with_a_wrong_app_or_secret_is_40002_without_echoing_them(client, change):
    answer = refresh(client, "refresh-1", **change)
    assert (answer["code"], answer["message"]) == (
        40002,
        "app_id/secret: no app with this id and secret",
    )
    assert refresh(client, "refresh-1")["code"] == 0  # the refresh token was not used up


def test_refresh_with_an_unknown_refresh_token_is_40105(client):
    assert refresh(client, "no-such-refresh-token")["code"] == 40105


def test_refresh_checks_its_fields(client):
    assert (
        refresh(client, "refresh-1", grant_type="authorization_code")["message"]
        == "grant_type: must be refresh_token"
    )
    missing = client.post(
        REFRESH_TOKEN_PATH,
        json={"app_id": APP_ID, "secret": APP_SECRET, "grant_type": "refresh_token"},
    ).json()
    assert (missing["code"], missing["message"]) == (40002, "refresh_token: required")


# -- HTTP --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [TRACK_PATH, OFFLINE_GET_PATH, OFFLINE_UPDATE_PATH, PIXEL_LIST_PATH, REFRESH_TOKEN_PATH]
)
def test_a_path_without_its_trailing_slash_is_http_404(client, path):
    assert client.request("POST", path.rstrip("/"), json={}).status_code == 404
    assert client.get(path.rstrip("/")).status_code == 404


def test_unknown_paths_are_404_and_wrong_methods_405(client):
    assert client.get("/open_api/v1.3/advertiser/info/").status_code == 404
    wrong = client.get(TRACK_PATH)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")


def test_keep_alive_serves_several_requests_on_one_connection(emu):
    request = (
        f"GET {OFFLINE_GET_PATH}?advertiser_id={ADVERTISER} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAccess-Token: good-token\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", _port(emu)), timeout=10) as raw:
        for _ in range(3):
            raw.sendall(request)
            head = _read_response_head(raw)
            assert head.startswith(b"HTTP/1.1 200 OK")
            assert b"Connection: close" not in head


def test_a_chunked_body_is_accepted(client):
    def chunks():
        yield b'{"advertiser_id": "' + ADVERTISER.encode() + b'", "event_set_id": "'
        yield EVENT_SET.encode() + b'", "auto_tracking": true}'

    answer = client.post(
        OFFLINE_UPDATE_PATH, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.json()["code"] == 0


def test_a_body_over_the_size_cap_is_http_413(client):
    answer = client.post(
        TRACK_PATH,
        content=b" " * (MAX_REQUEST_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413


def test_stop_closes_idle_keep_alive_connections_and_can_be_called_twice():
    emu = Emulator(SEED).start()
    with socket.create_connection(("127.0.0.1", _port(emu)), timeout=30) as idle:
        idle.sendall(
            f"GET {PIXEL_LIST_PATH}?advertiser_id={ADVERTISER} HTTP/1.1\r\nHost: x\r\n"
            f"Access-Token: good-token\r\n\r\n".encode()
        )
        _read_response_head(idle)
        emu.stop()
        emu.stop()
        assert _read_until_closed(idle) == b""
    with pytest.raises(RuntimeError):
        _ = emu.base_url


def test_the_emulator_refuses_to_listen_beyond_loopback():
    with pytest.raises(ValueError, match="loopback"):
        Emulator(SEED, host="0.0.0.0")


# -- admin endpoints ---------------------------------------------------------------------


def test_stats_count_requests_per_path(client, emu):
    offline_get(client)
    offline_get(client)
    client.get(OFFLINE_GET_PATH.rstrip("/"))
    stats = client.get("/_emulator/stats").json()
    assert stats["requests"][OFFLINE_GET_PATH] == 2
    assert stats["requests"][OFFLINE_GET_PATH.rstrip("/")] == 1
    assert emu.state.request_count(OFFLINE_GET_PATH) == 2
    assert "/_emulator/stats" not in stats["requests"]


def test_reset_returns_to_the_seed(client, emu):
    client.post(
        OFFLINE_UPDATE_PATH,
        json={"advertiser_id": ADVERTISER, "event_set_id": EVENT_SET, "auto_tracking": True},
    )
    rotated = refresh(client, "refresh-1")["data"]
    assert client.post("/_emulator/reset").json() == {"reset": True}
    assert emu.state.event_set(EVENT_SET).auto_tracking is False
    assert emu.state.request_count(OFFLINE_UPDATE_PATH) == 0
    assert offline_get(client, headers={"Access-Token": rotated["access_token"]})["code"] == 40105
    assert refresh(client, "refresh-1")["code"] == 0


def test_faults_can_be_read_and_replaced_over_http(client):
    armed = client.post("/_emulator/faults", json={"rate_limit": {"count": 2}}).json()
    assert armed["rate_limit"]["count"] == 2
    assert client.get("/_emulator/faults").json()["rate_limit"]["count"] == 2
    cleared = client.post("/_emulator/faults", json={}).json()
    assert "rate_limit" not in cleared


@pytest.mark.parametrize(
    "config, error",
    [
        (
            {"rate_limit": {"count": -1}},
            "faults.rate_limit.count: must be an integer of at least 0",
        ),
        ({"slow": {"count": 1}}, "faults.slow.seconds: required"),
        ({"http_error": {"count": 1, "status": 404}}, "faults.http_error.status: must be one of"),
        (
            {"rate_limit": {"count": 1, "paths": ["nope/"]}},
            "faults.rate_limit.paths[0]: must be one of",
        ),
        ({"meteor": {}}, "faults.meteor: unknown field"),
    ],
)
def test_a_bad_fault_configuration_is_http_400_naming_the_field(client, config, error):
    answer = client.post("/_emulator/faults", json=config)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)


@pytest.mark.parametrize("config", [{}, {"paths": "*"}, {"count": None, "fraction": None}])
def test_a_fault_with_neither_count_nor_fraction_is_refused_saying_how_to_arm_it(client, config):
    client.post("/_emulator/faults", json={"server_error": {"count": 1}})
    answer = client.post("/_emulator/faults", json={"rate_limit": config})
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "faults.rate_limit: needs count (the next N matching requests), fraction (the "
        "chance that each matching request is hit; 1 for every one) or both, "
        'e.g. {"count": 1}'
    )
    # Nothing changed: the fault armed before is still armed.
    assert client.get("/_emulator/faults").json()["server_error"]["count"] == 1


def test_the_echo_of_an_armed_fault_shows_every_field_and_can_be_posted_back(client):
    armed = client.post(
        "/_emulator/faults",
        json={"http_error": {"count": 2}, "slow": {"fraction": 0.5, "seconds": 0.01}},
    ).json()
    assert armed == {
        "http_error": {
            "count": 2,
            "fraction": 1.0,
            "paths": ["event/track/"],
            "status": 503,
            "retry_after": None,
        },
        "slow": {"count": None, "fraction": 0.5, "paths": ["event/track/"], "seconds": 0.01},
        "seed": 0,
    }
    assert client.post("/_emulator/faults", json=armed).json() == armed
    assert client.get("/_emulator/faults").json() == armed


def test_unknown_admin_paths_are_404(client):
    assert client.get("/_emulator/nothing").status_code == 404
    assert client.post("/_emulator/stats").status_code == 405


# -- seeds -------------------------------------------------------------------------------


def test_the_default_seed_holds_the_documented_account():
    seed = load_seed()
    assert [t.token for t in seed.access_tokens] == ["emulator-token"]
    advertiser = seed.advertisers[0]
    assert advertiser.advertiser_id == "7000000000000000001"
    assert (
        advertiser.event_sets[0].event_set_id,
        advertiser.event_sets[0].name,
        advertiser.event_sets[0].auto_tracking,
    ) == ("7100000000000000001", "Store sales", False)
    assert advertiser.pixels[0].code == "C0AMPDESTPIXEL000001"


def test_a_seed_file_is_read_from_a_path(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text('{"access_tokens": [{"token": "file-token"}]}', encoding="utf-8")
    assert load_seed(path).access_tokens[0].token == "file-token"


@pytest.mark.parametrize(
    "seed, error",
    [
        ({"tokens": []}, "seed.tokens: unknown field"),
        (
            {"advertisers": [{"advertiser_id": 7000}]},
            "seed.advertisers[0].advertiser_id: must be a non-empty string",
        ),
        (
            {
                "advertisers": [
                    {"advertiser_id": "1", "event_sets": [{"event_set_id": "2", "name": "a"}]},
                    {"advertiser_id": "3", "event_sets": [{"event_set_id": "2", "name": "b"}]},
                ]
            },
            "seed.advertisers: event_set_id appears twice",
        ),
        (
            {"access_tokens": [{"token": "t", "role": "owner"}]},
            "seed.access_tokens[0].role: must be one of",
        ),
        (
            {"faults": {"drop": {"after_accept": True}}},
            "seed.faults.drop: needs count (the next N matching requests), fraction",
        ),
    ],
)
def test_a_bad_seed_is_refused_naming_the_field(seed, error):
    with pytest.raises(EmulatorConfigError) as raised:
        Emulator(seed)
    assert str(raised.value).startswith(error)


def test_a_seed_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(EmulatorConfigError, match="is not valid JSON"):
        load_seed(path)


def _port(emu: Emulator) -> int:
    return int(emu.base_url.rsplit(":", 1)[1])


def _read_response_head(raw: socket.socket) -> bytes:
    """Read one whole response (head and Content-Length body); return the head."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += raw.recv(65536)
    head, _, body = buffer.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += raw.recv(65536)
    return head


def _read_until_closed(raw: socket.socket) -> bytes:
    received = b""
    while chunk := raw.recv(65536):
        received += chunk
    return received
