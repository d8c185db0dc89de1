#!/usr/bin/env bash
# bench/warm_invoke.sh: warm invoke latency of lambdad against the loopback
# floor, measured in the same run.
#
# Starts nginx (`return 200`, one worker) and `lambdad emulate` with a C
# runtime that answers every invoke with its payload (a no-op function), then
# drives each with wrk on one connection (-t1 -c1) after a warm-up: GET / on
# nginx, POST {} to the Invoke API on lambdad. Prints p50, p99 and req/s for
# both, the lambdad/nginx ratios, and whether the p50 target (<= 3x nginx)
# is met. The machine is noisy, so only the ratio within one run means much.
#
# Builds nothing: `make bench` builds build/release/lambdad and the helpers
# first. Exits non-zero only when setup fails, not when the target is missed.
#
# Environment: ROUNDS (default 5) and ROUND_SECONDS (default 2): alternating
# rounds per tool, so each is measured ROUNDS x ROUND_SECONDS (>= 10 s);
# WARMUP (s, default 2), LAMBDAD, RUNTIME, NGINX (paths), EMULATE_FLAGS (extra
# flags for emulate, e.g. --no-sandbox), VERBOSE=1 to print wrk's raw output.
set -euo pipefail
export LC_ALL=C # wrk, awk and printf agree on the decimal point
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
# One full vCPU, as Lambda gives at 1,769 MB: a smaller function is held to
# its share of a CPU (in a sandbox, by its cgroup), on AWS and here alike.
MEMORY=${MEMORY:-1769}
ROUND_SECONDS=${ROUND_SECONDS:-2}
WARMUP=${WARMUP:-2}
LAMBDAD=${LAMBDAD:-build/release/lambdad}
RUNTIME=${RUNTIME:-build/helpers/c_runtime}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
READY_TIMEOUT=${READY_TIMEOUT:-30}
INVOKE_PATH=/2015-03-31/functions/function/invocations
TARGET_P50_RATIO=3.0

die() {
    echo "warm_invoke: $*" >&2
    exit 1
}

# --- checks before starting anything ---
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a whole number"
[[ $ROUND_SECONDS =~ ^[1-9][0-9]*$ ]] || die "ROUND_SECONDS must be a whole number of seconds"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds"
for tool in wrk curl; do
    command -v "$tool" >/dev/null || die "$tool not found (make deps)"
done
[[ -x $NGINX ]] || die "nginx not found at $NGINX (make deps)"
[[ -x $LAMBDAD ]] || die "$LAMBDAD missing: run 'make bench' (or 'make release')"
[[ -x $RUNTIME ]] || die "$RUNTIME missing: run 'make bench' (or 'make helpers')"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lambdad-bench.XXXXXX")
nginx_pid=
lambdad_pid=

# Stops one server we started: TERM, up to 5 s to exit, then KILL.
stop() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop "$lambdad_pid"
    stop "$nginx_pid"
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A loopback port nobody listens on now. Whoever binds it next may still race
# us, so the servers' startup below retries with a fresh port.
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free loopback port found"
}

# Polls until `curl_args` gets an HTTP answer, the process dies, or time runs
# out. Prints the HTTP status of the last attempt.
wait_http() {
    local pid=$1 deadline=$((SECONDS + READY_TIMEOUT)) code
    shift
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || { echo dead; return 1; }
        code=$(curl --noproxy '*' -s -o "$tmp/ready.body" -D "$tmp/ready.head" \
            -w '%{http_code}' --max-time 5 "$@" 2>/dev/null) || code=000
        if [[ $code != 000 ]]; then
            echo "$code"
            return 0
        fi
        sleep 0.1
    done
    echo timeout
    return 1
}

start_nginx() {
    local attempt status
    mkdir -p "$tmp/nginx"
    for attempt in 1 2 3; do
        nginx_port=$(free_port)
        {
            # As root, nginx would switch its worker to `nobody`, which cannot
            # use our temp dir; `user` is only allowed when running as root.
            if ((EUID == 0)); then echo "user root;"; fi
            cat <<EOF
worker_processes 1;
daemon off;
error_log $tmp/nginx/error.log error;
pid $tmp/nginx/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location / { return 200; }
    }
}
EOF
        } >"$tmp/nginx/nginx.conf"
        # -e: where errors go before the config is read (nginx >= 1.19.5).
        "$NGINX" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
            >"$tmp/nginx/stdout.log" 2>&1 &
        nginx_pid=$!
        if status=$(wait_http "$nginx_pid" "http://127.0.0.1:$nginx_port/") && [[ $status == 200 ]]; then
            return 0
        fi
        echo "warm_invoke: nginx on port $nginx_port: $status (attempt $attempt)" >&2
        stop "$nginx_pid"
        nginx_pid=
    done
    tail -n 20 "$tmp/nginx/error.log" "$tmp/nginx/stdout.log" >&2 2>/dev/null || true
    die "nginx did not start"
}

start_lambdad() {
    local attempt status
    for attempt in 1 2 3; do
        lambdad_port=$(free_port)
        "$LAMBDAD" emulate --listen "127.0.0.1:$lambdad_port" --memory "$MEMORY" ${EMULATE_FLAGS:-} \
            -- "$RUNTIME" \
            >"$tmp/lambdad.log" 2>&1 &
        lambdad_pid=$!
        # The first invoke includes INIT, so readiness means a whole invoke.
        if status=$(wait_http "$lambdad_pid" -X POST -H 'Content-Type: application/json' \
            --data-binary '{}' "http://127.0.0.1:$lambdad_port$INVOKE_PATH"); then
            if [[ $status == 200 ]] && ! grep -qi '^x-amz-function-error' "$tmp/ready.head"; then
                [[ $(cat "$tmp/ready.body") == '{}' ]] ||
                    echo "warm_invoke: note: the runtime did not echo the payload" >&2
                return 0
            fi
            echo "warm_invoke: lambdad answered the first invoke with HTTP $status:" >&2
            cat "$tmp/ready.head" "$tmp/ready.body" >&2 || true
            tail -n 20 "$tmp/lambdad.log" >&2 || true
            die "lambdad's first invoke failed"
        fi
        echo "warm_invoke: lambdad on port $lambdad_port: $status (attempt $attempt)" >&2
        stop "$lambdad_pid"
        lambdad_pid=
    done
    tail -n 20 "$tmp/lambdad.log" >&2 || true
    die "lambdad emulate did not start"
}

# Runs wrk: $1 = name for the output file, then wrk's own arguments after the
# common ones. Warms up first; the warm-up's numbers are thrown away.
run_wrk() {
    local name=$1
    shift
    if ((WARMUP > 0)); then
        wrk -t1 -c1 -d"${WARMUP}s" "$@" >/dev/null 2>&1 || true
    fi
    if ! wrk -t1 -c1 -d"${DURATION}s" --latency "$@" >"$tmp/$name.wrk" 2>&1; then
        cat "$tmp/$name.wrk" >&2
        die "wrk failed against $name"
    fi
    if [[ ${VERBOSE:-0} == 1 ]]; then
        echo "--- wrk, $name" >&2
        cat "$tmp/$name.wrk" >&2
    fi
}

# Prints "p50_us p99_us req_per_s non2xx socket_errors" from one wrk output.
# wrk writes times as 12.34us, 1.20ms, 1.00s (and m, h past a minute).
parse_wrk() {
    awk '
        function us(v,   n, u) {
            n = v + 0
            u = v
            sub(/^[0-9.]+/, "", u)
            if (u == "us") return n
            if (u == "ms") return n * 1e3
            if (u == "s")  return n * 1e6
            if (u == "m")  return n * 6e7
            if (u == "h")  return n * 3.6e9
            return -1
        }
        /Latency Distribution/ { dist = 1; next }
        dist && $1 == "50%" { p50 = us($2) }
        dist && $1 == "99%" { p99 = us($2); dist = 0 }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ {
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) errs += $i + 0
        }
        END {
            if (p50 == "" || p99 == "" || rps == "" || p50 < 0 || p99 < 0) exit 1
            printf "%.1f %.1f %.1f %d %d\n", p50, p99, rps, bad + 0, errs + 0
        }
    ' "$1"
}

start_nginx
start_lambdad

cat >"$tmp/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
EOF

# The two are measured in alternating rounds, so that a burst of noise on this
# shared machine hits both rather than one; each figure is the median over
# the rounds, and each tool gets ROUNDS x ROUND_SECONDS of measurement.
echo "warm invoke, 1 connection, $ROUNDS alternating rounds of ${ROUND_SECONDS}s per tool" \
    "after ${WARMUP}s warm-up; $(nproc) CPUs, $(uname -r)"
DURATION=$ROUND_SECONDS
for round in $(seq "$ROUNDS"); do
    run_wrk "nginx.$round" "http://127.0.0.1:$nginx_port/"
    run_wrk "lambdad.$round" -s "$tmp/post.lua" "http://127.0.0.1:$lambdad_port$INVOKE_PATH"
    WARMUP=0 # the first round's warm-up is enough
    for who in nginx lambdad; do
        parse_wrk "$tmp/$who.$round.wrk" >>"$tmp/$who.rounds" ||
            die "could not parse wrk's output for $who: $(cat "$tmp/$who.$round.wrk")"
    done
done

# Median of column $2 of file $1.
median() {
    sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
        printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
n50=$(median "$tmp/nginx.rounds" 1) n99=$(median "$tmp/nginx.rounds" 2)
nrps=$(median "$tmp/nginx.rounds" 3)
l50=$(median "$tmp/lambdad.rounds" 1) l99=$(median "$tmp/lambdad.rounds" 2)
lrps=$(median "$tmp/lambdad.rounds" 3)
nbad=$(awk '{ s += $4 } END { print s + 0 }' "$tmp/nginx.rounds")
nerr=$(awk '{ s += $5 } END { print s + 0 }' "$tmp/nginx.rounds")
lbad=$(awk '{ s += $4 } END { print s + 0 }' "$tmp/lambdad.rounds")
lerr=$(awk '{ s += $5 } END { print s + 0 }' "$tmp/lambdad.rounds")

echo
echo "per round (p50 µs): nginx $(cut -d' ' -f1 "$tmp/nginx.rounds" | tr '\n' ' ')" \
    "| lambdad $(cut -d' ' -f1 "$tmp/lambdad.rounds" | tr '\n' ' ')"
echo "tool         p50 µs     p99 µs      req/s   (medians)"
printf '%-8s %10.1f %10.1f %10.0f\n' nginx "$n50" "$n99" "$nrps" lambdad "$l50" "$l99" "$lrps"
echo
for w in "nginx $nbad $nerr" "lambdad $lbad $lerr"; do
    read -r who bad err <<<"$w"
    if ((bad > 0 || err > 0)); then
        echo "warning: $who: $bad non-2xx responses, $err socket errors"
    fi
done
awk -v l50="$l50" -v n50="$n50" -v l99="$l99" -v n99="$n99" -v t="$TARGET_P50_RATIO" 'BEGIN {
    r50 = n50 > 0 ? l50 / n50 : 0
    r99 = n99 > 0 ? l99 / n99 : 0
    printf "ratio p50 lambdad/nginx: %.2f\n", r50
    printf "ratio p99 lambdad/nginx: %.2f\n", r99
    printf "target p50 ratio <= %.1f: %s\n", t, (n50 > 0 && r50 <= t) ? "met" : "NOT met"
}'
