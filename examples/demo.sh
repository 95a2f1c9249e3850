#!/usr/bin/env bash
# The main job end to end, on a fresh machine, against the local TikTok emulator:
# set up, start the emulator, authorize the TikTok app (the demo plays the person at
# the browser), add a destination from the advertisers and event sets the account
# lists (its connection is tested on save), test it, send examples/events.csv, show
# the run, stop the emulator.
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
if ! "$VENV/bin/python" -c "import keyrings.alt" 2> /dev/null; then
    "$VENV/bin/python" -m pip install --quiet "keyrings.alt>=5"  # the demo's own keyring, below
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

# The token an authorization brings goes to a keyring. The demo keeps its own, a file
# in its home (keyrings.alt's, readable: allowed by the opt-in, for this demo's
# emulator token only), so that it runs on a headless machine and never touches yours.
run export PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring
run export AMP_DEST_ALLOW_INSECURE_KEYRING=1
run export XDG_DATA_HOME="$AMP_DEST_HOME/keyring"
APP_ID=7200000000000000001  # the emulator's app (see its README); its secret is piped
APP_SECRET=emulator-secret

# Run an authorization as its operator would with --no-browser: print the command,
# pipe the app secret (first line), open the page it prints and press Authorize
# (`amp-dest tiktok approve`, the emulator's stand-in for a browser), then paste the
# address the browser was sent to. Every wait is bounded.
authorize() {
    printf '$'
    printf ' %q' "$@"
    printf '\n'
    coproc AUTHORIZING { "$@" 2>&1; }
    local pid=$AUTHORIZING_PID out in line url="" redirected
    exec {out}<&"${AUTHORIZING[0]}" {in}>&"${AUTHORIZING[1]}"
    case " $* " in *" --secrets-stdin "*) printf '{"app_secret": "%s"}\n' "$APP_SECRET" >&"$in" ;; esac
    while IFS= read -r -t 60 line <&"$out"; do
        printf '%s\n' "$line"
        case "$line" in *"/portal/auth?"*) url="${line#"${line%%[![:space:]]*}"}"; break ;; esac
    done
    if [ -n "$url" ]; then
        printf '$ %q tiktok approve %q\n' "$AMP" "$url"
        redirected="$("$AMP" tiktok approve "$url")"
        printf '%s\n' "$redirected"
        printf '%s\n' "$redirected" >&"$in"  # pasted where it asks
    fi
    exec {in}>&-
    timeout 60 cat <&"$out"
    exec {out}<&-
    wait "$pid"
}

# A home kept from an earlier demo holds the credential and the destination already:
# the credential is then renewed at this emulator (a new one knows no earlier token),
# and the destination only needs this emulator's address.
if "$AMP" credentials show tiktok-demo > /dev/null 2>&1; then
    echo "== renewing the credential at this emulator ($AMP_DEST_HOME holds it from an earlier demo)"
    authorize "$AMP" credentials reauthorize tiktok-demo --set "api_base_url=$BASE_URL" --no-browser
else
    echo "== authorizing the TikTok app for the emulator's ad accounts"
    authorize "$AMP" credentials authorize tiktok-demo --type tiktok-offline-events \
        --set "app_id=$APP_ID" --set "api_base_url=$BASE_URL" --no-browser --secrets-stdin
fi

# Print a listing command, run it, show what it lists, and keep the first value.
first_choice() {
    printf '$'
    printf ' %q' "$@"
    printf '\n'
    local listed
    listed="$("$@")"
    printf '%s\n' "$listed"
    CHOICE="$(printf '%s\n' "$listed" | awk 'NR == 2 { print $1 }')"
}

if "$AMP" destinations show tiktok-store-sales > /dev/null 2>&1; then
    echo "   $AMP_DEST_HOME holds the destination from an earlier demo: pointing it at this emulator"
    run "$AMP" destinations update tiktok-store-sales --set "api_base_url=$BASE_URL"
else
    echo "== choosing the advertiser and the event set from what the account lists"
    first_choice "$AMP" destinations options tiktok-offline-events advertiser_id --credential tiktok-demo
    ADVERTISER_ID="$CHOICE"
    first_choice "$AMP" destinations options tiktok-offline-events event_set_id \
        --credential tiktok-demo --set "advertiser_id=$ADVERTISER_ID"
    EVENT_SET_ID="$CHOICE"
    echo "== adding the destination (its connection is tested first)"
    run "$AMP" destinations add tiktok-store-sales --type tiktok-offline-events \
        --credential tiktok-demo --set "advertiser_id=$ADVERTISER_ID" \
        --set "event_set_id=$EVENT_SET_ID" --set "event_set_name=Store sales" \
        --set auto_tracking=true --set "api_base_url=$BASE_URL"
fi

echo "== testing the connection"
run "$AMP" destinations test tiktok-store-sales

echo "== sending examples/events.csv"
# TikTok takes events from the last 28 days: send the shipped rows with their
# timestamps shifted to end now (every other byte unchanged).
run "$PY" examples/make_events.py --refresh examples/events.csv --out "$AMP_DEST_HOME/events.csv"
echo "== validating first: every row checked here, 20 of them sent as TikTok test events"
run "$AMP" send tiktok-store-sales --input "$AMP_DEST_HOME/events.csv" --validate --sample 20 \
    --test-event-code DEMO-TEST
echo "== the verdict said ready: sending it all"
run "$AMP" send tiktok-store-sales --input "$AMP_DEST_HOME/events.csv"

echo "== the run"
run "$AMP" runs list
