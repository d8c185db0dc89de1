#!/bin/sh
# tests/helpers/probe.sh: a runtime (sh + curl) that reports what a function
# sees from inside its environment, and tries what it must not be able to do.
# The event names one check, e.g. {"probe":"uid"}; the answer is
# {"probe":"<name>","out":"<one line>"}.
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
h=$(mktemp)
while :; do
    event=$(curl -sS -D "$h" "$api/next")
    id=$(sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\([^\r]*\).*/\1/p' "$h")
    what=$(printf '%s' "$event" | sed -n 's/.*"probe" *: *"\([^"]*\)".*/\1/p')
    arg=$(printf '%s' "$event" | sed -n 's/.*"arg" *: *"\([^"]*\)".*/\1/p')
    case "$what" in
    uid) out=$(id -u) ;;
    gid) out=$(id -g) ;;
    capeff) out=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) ;;
    nnp) out=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status) ;;
    seccomp) out=$(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/self/status) ;;
    unshare) unshare -r true 2>/dev/null && out=yes || out=no ;;
    nofile) out=$(ulimit -n) ;;
    pid1) out=$(cat /proc/1/comm) ;;
    nprocs) out=$(ls -d /proc/[0-9]* | wc -l) ;;
    exists) test -e "$arg" && out=yes || out=no ;;
    read) cat "$arg" >/dev/null 2>&1 && out=yes || out=no ;;
    write) (echo x >"$arg") 2>/dev/null && out=yes || out=no ;;
    mount) mount -t tmpfs none /tmp 2>/dev/null && out=yes || out=no ;;
    kill) kill -0 "$arg" 2>/dev/null && out=yes || out=no ;;
    fill_tmp) dd if=/dev/zero of=/tmp/fill bs=1M count="$arg" 2>/dev/null && out=fit || out=enospc
        rm -f /tmp/fill ;;
    curl) curl -s -m 2 -o /dev/null "$arg" && out=yes || out=no ;;
    hostname) out=$(hostname) ;;
    hog) head -c "${arg}000000" /dev/zero | tail >/dev/null; out=survived ;;
    selfhog) exec tail /dev/zero ;; # the runtime itself grows until killed
    spin) # a busy loop for $arg seconds; reports the CPU ticks it got (of 100/s)
        timeout "$arg" sh -c 'while :; do :; done'
        out=$(awk '{print $16 + $17}' /proc/$$/stat) ;;
    forkbomb) n=0
        while [ $n -lt "$arg" ]; do sleep 30 & n=$((n + 1)); done 2>/dev/null
        out=started ;;
    ifaces) out=$(sed -n 's/^ *\([^:]*\):.*/\1/p' /proc/net/dev | tr '\n' ' ') ;;
    cgroup) out=$(cat /proc/self/cgroup | tr '\n' ' ') ;;
    *) out="unknown probe" ;;
    esac
    curl -sS -o /dev/null -X POST "$api/$id/response" -d "{\"probe\":\"$what\",\"out\":\"$out\"}"
done
