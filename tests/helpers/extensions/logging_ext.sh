#!/bin/sh
# tests/helpers/extensions/logging_ext.sh: an external extension in POSIX sh
# and curl that records every event it is given, so a test can check what
# the Extensions API delivered and when.
#
# It registers under its own file name (the rule for external extensions)
# for INVOKE and SHUTDOWN, prints "<name> registered", then long-polls
# event/next, appending each event's JSON body as one line to the file
# $EXT_EVENTS_FILE. It exits 0 after SHUTDOWN. Optional:
#   EXT_REGISTER_FILE  gets the register answer's body
#   EXT_ENV_FILE       gets the extension's environment (`env`), at start
#   EXT_REGISTER_DELAY_MS  waits that long before registering (the runtime
#                      must not start until every extension has registered)
set -u

name=$(basename "$0")
api="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}/2020-01-01/extension"
events=${EXT_EVENTS_FILE:?EXT_EVENTS_FILE is not set}
headers=$(mktemp) || exit 1
trap 'rm -f "$headers"' EXIT

[ -n "${EXT_ENV_FILE:-}" ] && env > "$EXT_ENV_FILE"
if [ -n "${EXT_REGISTER_DELAY_MS:-}" ]; then
    ms=$EXT_REGISTER_DELAY_MS
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
fi

body=$(curl -sS -f -D "$headers" -X POST "$api/register" \
    -H "Lambda-Extension-Name: $name" -H 'Content-Type: application/json' \
    --data-binary '{"events":["INVOKE","SHUTDOWN"]}') || exit 1
[ -n "${EXT_REGISTER_FILE:-}" ] && printf '%s\n' "$body" > "$EXT_REGISTER_FILE"
id=$(grep -i '^lambda-extension-identifier:' "$headers" | sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n')
echo "$name registered"

while :; do
    event=$(curl -sS -f -H "Lambda-Extension-Identifier: $id" "$api/event/next") || exit 1
    # One event per line, whatever whitespace the server put in its JSON,
    # appended in one write so a reader never sees half an event.
    line=$(printf '%s' "$event" | tr -d '\r\n')
    printf '%s\n' "$line" >> "$events"
    case $event in
    *'"SHUTDOWN"'*)
        echo "$name shutdown"
        exit 0
        ;;
    *) ;;
    esac
done
