#!/usr/bin/env bash
# The operator console against the local TikTok emulator, for a demo: set up, start the
# emulator, write a copy of examples/events.csv dated to end now, and start
# `amp-dest console`, which opens your browser (pass --no-browser to only print its
# address). Then, in the browser: Credentials > TikTok > Authorize with the app below,
# approve on the emulator's page; Destinations > add one, listing the advertiser and
# the event set from the account; Send the events file; read the run. Ctrl-C stops
# the console and the emulator.
# All state stays in AMP_DEST_HOME (a fresh folder unless you set one).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${AMP_DEST_VENV:-.venv}"
if ! "$VENV/bin/python" -c "import starlette, uvicorn, keyrings.alt" 2> /dev/null; then
    echo "== setting up $VENV"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[console]" -e plugins/tiktok_ads_events \
        "keyrings.alt>=5"
fi
PY="$VENV/bin/python"
AMP="$VENV/bin/amp-dest"

export AMP_DEST_HOME="${AMP_DEST_HOME:-$(mktemp -d "${TMPDIR:-/tmp}/amp-dest-console.XXXXXX")}"
mkdir -p -m 700 "$AMP_DEST_HOME"
# The demo's own keyring: a file in its home (keyrings.alt's, readable: allowed by the
# opt-in, for the emulator's token only), so that it runs on a headless machine and
# never touches yours.
export PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring
export AMP_DEST_ALLOW_INSECURE_KEYRING=1
export XDG_DATA_HOME="$AMP_DEST_HOME/keyring"

echo "== starting the TikTok emulator"
READY="$AMP_DEST_HOME/emulator.url"
rm -f "$READY"
"$PY" -m tiktok_ads_events.emulator --port 0 --ready-file "$READY" > "$AMP_DEST_HOME/emulator.log" 2>&1 &
EMULATOR_PID=$!
trap 'kill -TERM "$EMULATOR_PID" 2> /dev/null; wait "$EMULATOR_PID" 2> /dev/null; echo "== emulator stopped; the state stays in $AMP_DEST_HOME"' EXIT
for _ in $(seq 1 100); do [ -s "$READY" ] && break; sleep 0.1; done
[ -s "$READY" ] || { echo "the emulator did not start; see $AMP_DEST_HOME/emulator.log" >&2; exit 1; }
BASE_URL="$(cat "$READY")"

"$PY" examples/make_events.py --refresh examples/events.csv --out "$AMP_DEST_HOME/events.csv"

cat << INFO
== in the console
   Credentials > TikTok Ads Events > Next, then "Authorize in a browser" with
     app_id        7200000000000000001
     app_secret    emulator-secret
     api_base_url  $BASE_URL
   Destinations > add one: list advertiser_id and event_set_id from the account, and set
     api_base_url  $BASE_URL
   Send: the input file $AMP_DEST_HOME/events.csv (validate first, then send)
INFO
"$AMP" console "$@"
