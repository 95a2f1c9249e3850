#!/usr/bin/env bash
# The main job end to end, on a fresh machine, against the local TikTok emulator:
# set up, start the emulator, add a credential and a destination (its connection is
# tested on save), test it, send examples/events.csv, show the run, stop the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${AMP_DEST_VENV:-.venv}"
if [ ! -x "$VENV/bin/amp-dest" ] || [ ! -x "$VENV/bin/python" ]; then
    echo "== setting up $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[parquet]" -e plugins/tiktok_ads_events
fi
PY="$VENV/bin/python"
AMP="$VENV/bin/amp-dest"

# A fresh home for this demo: its own database and run files, nothing else touched.
export AMP_DEST_HOME="${AMP_DEST_HOME:-$(mktemp -d "${TMPDIR:-/tmp}/amp-dest-demo.XXXXXX")}"
echo "== state in $AMP_DEST_HOME"

echo "== starting the TikTok emulator"
READY="$AMP_DEST_HOME/emulator.url"
"$PY" -m tiktok_ads_events.emulator --port 0 --ready-file "$READY" > "$AMP_DEST_HOME/emulator.log" 2>&1 &
EMULATOR_PID=$!
trap 'kill -TERM "$EMULATOR_PID" 2>/dev/null && wait "$EMULATOR_PID" 2>/dev/null; echo "== emulator stopped"' EXIT
for _ in $(seq 1 100); do [ -s "$READY" ] && break; sleep 0.1; done
[ -s "$READY" ] || { echo "the emulator did not start; see $AMP_DEST_HOME/emulator.log" >&2; exit 1; }
BASE_URL="$(cat "$READY")"
echo "   listening on $BASE_URL"

# Headless machines have no keyring daemon: the secret comes from the environment
# (AMP_DEST_SECRET_<CREDENTIAL>_<FIELD>), never from argv or a file.
export AMP_DEST_SECRET_TIKTOK_DEMO_REFRESH_TOKEN="emulator-token"

echo "== amp-dest credentials add tiktok-demo"
"$AMP" credentials add tiktok-demo --type tiktok-offline-events

echo "== amp-dest destinations add tiktok-store-sales (tests the connection first)"
"$AMP" destinations add tiktok-store-sales --type tiktok-offline-events \
    --credential tiktok-demo \
    --set advertiser_id=7000000000000000001 \
    --set event_set_id=7100000000000000001 \
    --set "event_set_name=Store sales" \
    --set auto_tracking=true \
    --set "api_base_url=$BASE_URL"

echo "== amp-dest destinations test tiktok-store-sales"
"$AMP" destinations test tiktok-store-sales

# TikTok takes events from the last 28 days: send the shipped rows with their
# timestamps shifted to end now (every other byte unchanged).
"$PY" examples/make_events.py --refresh examples/events.csv --out "$AMP_DEST_HOME/events.csv"

echo "== amp-dest send tiktok-store-sales --input examples/events.csv"
"$AMP" send tiktok-store-sales --input "$AMP_DEST_HOME/events.csv"

echo "== amp-dest runs list"
"$AMP" runs list
