#!/bin/sh
# tests/helpers/extensions/crash_ext.sh: an external extension that crashes:
# it registers for INVOKE and SHUTDOWN, then exits 1 on its first INVOKE
# event, which must fail that invoke with Extension.Crash and reset the
# environment.
#
# With CRASH_EXT_ONCE_FILE=<path> it crashes only while <path> does not
# exist (and creates it), so the re-initialised environment works and a test
# can see the recovery. Otherwise it crashes on every first INVOKE.
set -u

name=$(basename "$0")
api="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}/2020-01-01/extension"
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
        once=${CRASH_EXT_ONCE_FILE:-}
        if [ -z "$once" ] || [ ! -e "$once" ]; then
            [ -n "$once" ] && : > "$once"
            echo "$name crashing"
            exit 1
        fi
        ;;
    *) ;;
    esac
done
