#!/bin/sh
# tests/helpers/internal_ext_runtime.sh: a runtime in POSIX sh + curl that
# brings an internal extension along, the way a Java agent or a NODE_OPTIONS
# --require hook does: it registers, from inside the runtime's process
# group, under a name that is no file of the extensions dir, before the
# runtime's first `next`; a background subshell then long-polls event/next.
#
# Besides, it tries what the Extensions API must refuse an internal
# extension: SHUTDOWN (before its first next) and registering at all after
# its first next (during the first invoke). Every register answer goes to
# $INTERNAL_EXT_PROBES as "<label> <status> <body>"; every event the agent
# gets, one JSON per line, to $INTERNAL_EXT_EVENTS. Invokes are echoed.
set -u

base="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}"
rapi="$base/2018-06-01/runtime"
eapi="$base/2020-01-01/extension"
probes=${INTERNAL_EXT_PROBES:?INTERNAL_EXT_PROBES is not set}
events=${INTERNAL_EXT_EVENTS:?INTERNAL_EXT_EVENTS is not set}
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

# register LABEL NAME EVENTS_JSON: one register call, recorded; the
# identifier (if any) is left in $dir/LABEL.id.
register() {
    status=$(curl -sS -m 10 -o "$dir/$1.body" -D "$dir/$1.headers" -w '%{http_code}' \
        -X POST "$eapi/register" -H "Lambda-Extension-Name: $2" \
        -H 'Content-Type: application/json' --data-binary "{\"events\":$3}")
    printf '%s %s %s\n' "$1" "$status" "$(tr -d '\r\n' < "$dir/$1.body")" >> "$probes"
    grep -i '^lambda-extension-identifier:' "$dir/$1.headers" |
        sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n' > "$dir/$1.id"
}

register shutdown internal-shutdown-agent '["INVOKE","SHUTDOWN"]'
register agent internal-agent '["INVOKE"]'
id=$(cat "$dir/agent.id")
echo "internal_ext_runtime: agent registered as ${id:-nothing}"

# The agent: it must be waiting in next before INIT can end.
(
    while :; do
        ev=$(curl -sS -f -H "Lambda-Extension-Identifier: $id" "$eapi/event/next") || exit 0
        printf '%s\n' "$(printf '%s' "$ev" | tr -d '\r\n')" >> "$events"
    done
) &

first=1
while :; do
    curl -sS -D "$dir/headers" -o "$dir/event" "$rapi/invocation/next" || exit 1
    rid=$(grep -i '^lambda-runtime-aws-request-id:' "$dir/headers" |
        sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n')
    if [ "$first" = 1 ]; then
        # INIT is over (we called next): registration is closed.
        register late internal-late-agent '["INVOKE"]'
        first=0
    fi
    curl -sS -o /dev/null -X POST "$rapi/invocation/$rid/response" \
        -H 'Content-Type: application/json' --data-binary "@$dir/event"
done
