#!/bin/sh
# tests/helpers/misuse_runtime.sh: a runtime in POSIX sh + curl that calls
# the Runtime API wrongly on request, and reports what the API answered.
# The payload picks it with "action":"<name>" (read with sed):
#   (none)       respond with the payload itself
#   probe        GET on .../invocation/{id}/response and on unknown paths;
#                respond with {"label":[status,"body"],...}
#   double_next  respond with the payload, then ask for the next event twice
#                at once: one request is refused at once, it prints
#                "double_next refused status=<n> body=<json>"; the other one
#                waits for the next invoke, which is then echoed
#   expect       respond with the payload (the test makes it > 1 KiB) with
#                `Expect: 100-continue`, as curl sends by default for large
#                bodies; prints "expect status=<n> continue=<yes|no>"
set -u

base="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}"
api="$base/2018-06-01/runtime"
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
echo "misuse_runtime: init"

# status_of LABEL CURL_ARGS...: "LABEL":[status,"body"] (body as a JSON string).
status_of() {
    label=$1
    shift
    st=$(curl -sS -m 10 -o "$dir/probe" -w '%{http_code}' "$@")
    printf '"%s":[%s,"%s"]' "$label" "$st" "$(tr -d '\r\n' < "$dir/probe" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

respond() { # respond FILE
    curl -sS -o /dev/null -X POST "$api/invocation/$id/response" \
        -H 'Content-Type: application/json' -H 'Expect:' --data-binary "@$1"
}

# Reads the request id of the event whose headers are in $1.
request_id() {
    grep -i '^lambda-runtime-aws-request-id:' "$1" | sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n'
}

have_event=0
while :; do
    if [ "$have_event" = 0 ]; then
        curl -sS -D "$dir/headers" -o "$dir/event" "$api/invocation/next" || exit 1
    fi
    have_event=0
    id=$(request_id "$dir/headers")
    action=$(sed -n 's/.*"action":[[:space:]]*"\([a-z_]*\)".*/\1/p' "$dir/event" | head -n 1)

    case $action in
    probe)
        {
            printf '{'
            status_of get_response "$api/invocation/$id/response"
            printf ','
            status_of get_error "$api/invocation/$id/error"
            printf ','
            status_of post_next -X POST --data-binary '{}' "$api/invocation/next"
            printf ','
            status_of unknown_runtime_path "$api/invocation/$id/nonsense"
            printf ','
            status_of unknown_version "$base/2099-01-01/runtime/invocation/next"
            printf ','
            status_of unknown_path "$base/nothing/here"
            printf '}'
        } > "$dir/answer"
        respond "$dir/answer"
        ;;
    double_next)
        respond "$dir/event"
        rm -f "$dir/s1" "$dir/s2"
        curl -sS -D "$dir/h1" -o "$dir/e1" -w '%{http_code}' "$api/invocation/next" > "$dir/s1" &
        p1=$!
        curl -sS -D "$dir/h2" -o "$dir/e2" -w '%{http_code}' "$api/invocation/next" > "$dir/s2" &
        p2=$!
        # One of them must be answered at once; the other waits for an invoke.
        while [ ! -s "$dir/s1" ] && [ ! -s "$dir/s2" ]; do sleep 0.02; done
        if [ -s "$dir/s1" ]; then r=1; else r=2; fi
        echo "double_next refused status=$(cat "$dir/s$r") body=$(tr -d '\r\n' < "$dir/e$r")"
        wait "$p1" "$p2"
        # The other one got the next event: handle it as usual.
        if [ "$r" = 1 ]; then w=2; else w=1; fi
        if [ "$(cat "$dir/s$w")" != 200 ]; then
            echo "double_next: the waiting next got $(cat "$dir/s$w")"
            exit 1
        fi
        cp "$dir/h$w" "$dir/headers"
        cp "$dir/e$w" "$dir/event"
        have_event=1
        ;;
    expect)
        st=$(curl -sS -o /dev/null -D "$dir/expect-headers" -w '%{http_code}' \
            -X POST "$api/invocation/$id/response" -H 'Content-Type: application/json' \
            -H 'Expect: 100-continue' --expect100-timeout 15 --data-binary "@$dir/event")
        if grep -q '^HTTP/1.1 100' "$dir/expect-headers"; then c=yes; else c=no; fi
        echo "expect status=$st continue=$c"
        ;;
    *)
        respond "$dir/event"
        ;;
    esac
done
