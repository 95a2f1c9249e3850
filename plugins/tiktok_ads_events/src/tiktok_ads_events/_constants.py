"""Facts about TikTok's Events API that the plugin and the emulator both rely on."""

from __future__ import annotations

NAME = "tiktok-offline-events"
TITLE = "TikTok Ads Events"
PARTNER_NAME = "AmpDestinations"
DEFAULT_API_BASE_URL = "https://business-api.tiktok.com"
API_PREFIX = "/open_api/v1.3"

TRACK_PATH = f"{API_PREFIX}/event/track/"
OFFLINE_GET_PATH = f"{API_PREFIX}/offline/get/"
OFFLINE_UPDATE_PATH = f"{API_PREFIX}/offline/update/"
PIXEL_LIST_PATH = f"{API_PREFIX}/pixel/list/"
# TikTok's reference for reading CRM event sets is not reachable from here: the path and
# its answer (``data.crm_event_sets`` of ``event_set_id`` and ``name``, filtered by an
# ``event_set_ids`` JSON list as ``/offline/get/`` is) are our assumption, which the
# emulator serves and its README states.
CRM_LIST_PATH = f"{API_PREFIX}/crm/list/"
REFRESH_TOKEN_PATH = f"{API_PREFIX}/oauth2/refresh_token/"
ACCESS_TOKEN_PATH = f"{API_PREFIX}/oauth2/access_token/"
ADVERTISER_GET_PATH = f"{API_PREFIX}/oauth2/advertiser/get/"
# Where an ad account's Operator or Admin approves an app (on the API's host).
PORTAL_AUTH_PATH = "/portal/auth"
# The credential fact saying that its token is long-term (it came from an authorization),
# so it is sent as the Access-Token as it is, never through a refresh exchange.
LONG_TERM_FACT = "long_term_token"
# An authorization code is valid this long, and once.
AUTH_CODE_LIFETIME_SECONDS = 3600

# The permission scopes the destination needs, as this plugin and the emulator name
# them: reporting conversion events, reading and managing offline event sets, reading
# ad accounts. TikTok reports an authorization's scopes as numeric permission ids whose
# table is not published where we could read it; see the plugin README.
SCOPE_EVENTS = "event.report"
SCOPE_EVENT_SETS = "offline_event_set.manage"
SCOPE_AD_ACCOUNTS = "ad_account.read"
REQUIRED_SCOPES = {
    SCOPE_EVENTS: "report conversion events",
    SCOPE_EVENT_SETS: "read and manage offline event sets",
    SCOPE_AD_ACCOUNTS: "read ad accounts",
}

MAX_EVENTS_PER_REQUEST = 1000
# TikTok documents no byte limit; we cap request bodies well below what proxies refuse.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_EVENT_AGE_DAYS = 28
# The longest custom event name (CRM events) sent. TikTok documents no limit; this one
# keeps a column of free text mapped as the event by mistake from reaching it.
MAX_CUSTOM_EVENT_NAME_LENGTH = 100

# Standard event names. TikTok renamed some in 2025 and accepts both spellings.
STANDARD_EVENTS = frozenset(
    {
        "AddPaymentInfo",
        "AddToCart",
        "AddToWishlist",
        "ApplicationApproval",
        "ClickButton",
        "CompletePayment",
        "CompleteRegistration",
        "Contact",
        "CustomizeProduct",
        "Download",
        "FindLocation",
        "InitiateCheckout",
        "Lead",
        "PlaceAnOrder",
        "Purchase",
        "Schedule",
        "Search",
        "StartTrial",
        "SubmitApplication",
        "SubmitForm",
        "Subscribe",
        "ViewContent",
    }
)

EVENT_CHANNELS = frozenset({"email", "website", "phone_call", "in_store", "crm", "other"})
CONTENT_TYPES = frozenset({"product", "product_group"})

# Answer codes (HTTP 200 is normal even for errors: the body's code decides).
OK = 0
PARTIAL_SUCCESS = 20001
INVALID_PARAMETER = frozenset({40000, 40002})
PERMISSION = frozenset({40001, 40106, 40300, 40301})
# The part of PERMISSION that points at the advertiser id rather than the account's role.
ADVERTISER_NOT_MATCHED = frozenset({40300, 40301})
TOKEN_INVALID = frozenset({40102, 40103, 40104, 40105})
TOKEN_NOT_REFRESHABLE = 40107
RATE_LIMITED = frozenset({40016, 40100, 40132, 40133})
DUPLICATE_REQUEST = 40050
WRITE_CONFLICT = 40202
SERVER_ERROR = frozenset({50000, 50002, 51305, 60001})
# The code exchange's refusals, as peers' clients and developers' reports give them
# (TikTok's code table is not reachable from here): an app id and secret that do not
# match, a code that is not valid (unknown, or used already), a code that expired.
APP_NOT_MATCHED = 40101
AUTH_CODE_INVALID = 40110
AUTH_CODE_EXPIRED = 40131
