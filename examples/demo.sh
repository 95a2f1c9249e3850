#!/usr/bin/env bash
# The main job end to end, on a fresh machine, against the local TikTok emulator:
# set up, start the emulator, add a credential and a destination (its connection is
# tested on save), test it, send examples/events.csv, show the run, stop the emulator.
# Each command is printed, after "$ ", as it runs, so that any of them can be pasted;
# all state stays in AMP_DEST_HOME, which the last line says how to look at.
set -euo pipefail
cd "$(dirname "$0")/.."
printf '$ cd %q\n' "$PWD"  # the commands below run from here

VENV="${AMP_DEST_VENV:-.venv}"
if [ ! -x "$VENV/bin/amp-dest" ] || [ ! -x "$VENV/bin/python" ]; then
    echo "== setting up $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[parquet]" -e plugins/tiktok_ads_events
fi
PY="$VENV/bin/python"
AMP="$VENV/bin/amp-dest"
AMP_ANYWHERE="$(cd "$VENV/bin" && pwd)/amp-dest"  # for the last line, pasted from any folder

# Print a command as a shell would take it (quoted where it must be), then run it.
run() {
    printf '$'
    printf ' %q' "$@"
    printf '\n'
    "$@"
}

# A fresh home for this demo unless AMP_DEST_HOME names one: its own database, run
# files, events and emulator log, nothing else touched.
run export AMP_DEST_HOME="${AMP_DEST_HOME:-$(mktemp -d "${TMPDIR:-/tmp}/amp-dest-demo.XXXXXX")}"
mkdir -p -m 700 "$AMP_DEST_HOME"  # private, as the host makes the folders it creates

echo "== starting the TikTok emulator"
READY="$AMP_DEST_HOME/emulator.url"
LOG="$AMP_DEST_HOME/emulator.log"
rm -f "$READY"
printf '$ %q -m tiktok_ads_events.emulator --port 0 --ready-file %q > %q 2>&1 &\n' "$PY" "$READY" "$LOG"
"$PY" -m tiktok_ads_events.emulator --port 0 --ready-file "$READY" > "$LOG" 2>&1 &
EMULATOR_PID=$!
finish() {
    kill -TERM "$EMULATOR_PID" 2>/dev/null && wait "$EMULATOR_PID" 2>/dev/null
    echo "== emulator stopped"
    echo "== the demo's state stays in $AMP_DEST_HOME (database, runs/, events.csv, emulator.log); to look at it:"
    printf 'AMP_DEST_HOME=%q %q runs list\n' "$AMP_DEST_HOME" "$AMP_ANYWHERE"
}
trap finish EXIT
for _ in $(seq 1 100); do [ -s "$READY" ] && break; sleep 0.1; done
[ -s "$READY" ] || { echo "the emulator did not start; see $LOG" >&2; exit 1; }
BASE_URL="$(cat "$READY")"
echo "   listening on $BASE_URL"

# Headless machines have no keyring daemon: the secret comes from the environment
# (AMP_DEST_SECRET_<CREDENTIAL>_<FIELD>), never from argv or a file.
run export AMP_DEST_SECRET_TIKTOK_DEMO_REFRESH_TOKEN=emulator-token

SETTINGS=(--set advertiser_id=7000000000000000001 --set event_set_id=7100000000000000001
    --set "event_set_name=Store sales" --set auto_tracking=true --set "api_base_url=$BASE_URL")
# A home kept from an earlier demo holds them already: the destination then only needs
# this emulator's address.
echo "== adding a credential and a destination (its connection is tested first)"
if ! "$AMP" credentials show tiktok-demo > /dev/null 2>&1; then
    run "$AMP" credentials add tiktok-demo --type tiktok-offline-events
fi
if "$AMP" destinations show tiktok-store-sales > /dev/null 2>&1; then
    echo "   $AMP_DEST_HOME holds them from an earlier demo: pointing the destination at this emulator"
    run "$AMP" destinations update tiktok-store-sales "${SETTINGS[@]}"
else
    run "$AMP" destinations add tiktok-store-sales --type tiktok-offline-events \
        --credential tiktok-demo "${SETTINGS[@]}"
fi

echo "== testing the connection"
run "$AMP" destinations test tiktok-store-sales

echo "== sending examples/events.csv"
# TikTok takes events from the last 28 days: send the shipped rows with their
# timestamps shifted to end now (every other byte unchanged).
run "$PY" examples/make_events.py --refresh examples/events.csv --out "$AMP_DEST_HOME/events.csv"
run "$AMP" send tiktok-store-sales --input "$AMP_DEST_HOME/events.csv"

echo "== the run"
run "$AMP" runs list
