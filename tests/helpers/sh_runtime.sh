#!/bin/sh
# tests/helpers/sh_runtime.sh: the documentation's classic custom runtime, in
# POSIX sh and curl: long-poll /next with `curl -D headers`, then POST the
# answer. It proves lambdad serves the simplest client there is: a fresh TCP
# connection per call, curl's own request framing, no keep-alive.
#
# The payload picks the behaviour with "action":"<name>" (read with sed):
#   echo (default)  respond with the payload itself
#   error           POST /error (Function.Custom) {"errorMessage":"sh boom",...}
#   exit            exit with "code" (default 1)
#   sleep           sleep "ms" milliseconds, then echo
# SH_RUNTIME_INIT=error makes INIT fail: POST /runtime/init/error, exit 1.
set -u

api="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}/2018-06-01/runtime"
# Files, not variables: payloads are bytes, and $(...) would eat newlines.
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

if [ "${SH_RUNTIME_INIT:-}" = error ]; then
    echo "sh_runtime: init failed, reporting it" >&2
    status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/init/error" \
        -H 'Content-Type: application/json' \
        -H 'Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError' \
        --data-binary '{"errorMessage":"sh runtime cannot start","errorType":"Runtime.ImportModuleError","stackTrace":[]}')
    echo "sh_runtime: init error status=$status"
    exit 1
fi
echo "sh_runtime: init"

# A numeric argument "key":N of the payload, or $2 when absent.
arg() {
    v=$(sed -n "s/.*\"$1\":[[:space:]]*\([0-9][0-9]*\).*/\1/p" "$dir/event" | head -n 1)
    echo "${v:-$2}"
}

while :; do
    curl -sS -D "$dir/headers" -o "$dir/event" "$api/invocation/next" || exit 1
    # Header names are case-insensitive; values end in CR on the wire.
    id=$(grep -i '^lambda-runtime-aws-request-id:' "$dir/headers" |
        sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n')
    action=$(sed -n 's/.*"action":[[:space:]]*"\([a-z_]*\)".*/\1/p' "$dir/event" | head -n 1)

    case $action in
    error)
        curl -sS -o /dev/null -X POST "$api/invocation/$id/error" \
            -H 'Content-Type: application/json' \
            -H 'Lambda-Runtime-Function-Error-Type: Function.Custom' \
            --data-binary '{"errorMessage":"sh boom","errorType":"ShError","stackTrace":[]}'
        continue
        ;;
    exit)
        exit "$(arg code 1)"
        ;;
    sleep)
        ms=$(arg ms 1000)
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        ;;
    *) ;;
    esac
    # --data-binary @file keeps the payload byte for byte (-d would strip newlines).
    curl -sS -o /dev/null -X POST "$api/invocation/$id/response" \
        -H 'Content-Type: application/json' --data-binary "@$dir/event"
done
