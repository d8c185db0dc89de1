#!/bin/sh
# tests/helpers/extensions/slow_ext.sh: an external extension with slow
# post-processing: on every INVOKE it sleeps $EXT_SLEEP_MS milliseconds
# (default 1000) before asking for the next event. The invoke phase lasts
# until it asks, so the invoke's REPORT Duration must include the sleep,
# even though the caller already has its response.
set -u

name=$(basename "$0")
api="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}/2020-01-01/extension"
ms=${EXT_SLEEP_MS:-1000}
headers=$(mktemp) || exit 1
trap 'rm -f "$headers"' EXIT

curl -sS -f -o /dev/null -D "$headers" -X POST "$api/register" \
    -H "Lambda-Extension-Name: $name" -H 'Content-Type: application/json' \
    --data-binary '{"events":["INVOKE","SHUTDOWN"]}' || exit 1
id=$(grep -i '^lambda-extension-identifier:' "$headers" | sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n')
echo "$name registered"

while :; do
    event=$(curl -sS -f -H "Lambda-Extension-Identifier: $id" "$api/event/next") || exit 1
    case $event in
    *'"SHUTDOWN"'*)
        exit 0
        ;;
    *'"INVOKE"'*)
        echo "$name post-processing for ${ms} ms"
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        ;;
    *) ;;
    esac
done
