"""SHUTDOWN with two external extensions (extensions-api.md §4.3): the one
subscribed to SHUTDOWN gets the event and may finish its work; the one that
is not is SIGKILLed right away, not left running until the phase ends."""

import json
import time

from support import wait_events, wait_process_gone, write_extension

# Subscribed to INVOKE only: nothing tells it about SHUTDOWN.
INVOKE_ONLY = r'''
echo $$ > "$EXT_STATE/invoke_only.pid"
register '["INVOKE"]'
echo "$name ready"
while :; do
    next
    printf '%s\n' "$event" >> "$EXT_STATE/invoke_only.events"
done
'''

# Subscribed to SHUTDOWN: on the event, watches for up to 0.8 s whether the
# other one is already dead (gone, or a zombie not reaped yet), then exits.
# The phase lasts 2 s, so an extension killed only at its end reads "alive".
# Time comes from /proc/uptime (a builtin read, no fork: the machine may be
# busy).
WITH_SHUTDOWN = r'''
echo $$ > "$EXT_STATE/with_shutdown.pid"
register '["INVOKE","SHUTDOWN"]'
echo "$name ready"
dead() {
    [ ! -e "/proc/$1/stat" ] && return 0
    read -r _ _ st _ < "/proc/$1/stat" 2>/dev/null || return 0
    [ "$st" = Z ]
}
now() { # $now: centiseconds since boot
    read -r up _ < /proc/uptime
    now=${up%.*}${up#*.}
}
while :; do
    next
    printf '%s\n' "$event" >> "$EXT_STATE/with_shutdown.events"
    case $event in
    *'"SHUTDOWN"'*)
        other=$(cat "$EXT_STATE/invoke_only.pid")
        now
        until=$((now + 80))
        v=alive
        while :; do
            if dead "$other"; then v=gone; break; fi
            now
            [ "$now" -ge "$until" ] && break
            sleep 0.02
        done
        echo "$v" > "$EXT_STATE/verdict"
        exit 0
        ;;
    esac
done
'''


def test_shutdown_goes_to_subscribers_others_are_killed(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    state = tmp_path / "state"
    state.mkdir()
    write_extension(ext, "invoke_only", INVOKE_ONLY)
    write_extension(ext, "with_shutdown", WITH_SHUTDOWN)
    em = emulate(c_runtime, extensions_dir=ext, env={"EXT_STATE": state})
    em.wait_log(r"^EXTENSION\tName: invoke_only\tState: Ready\tEvents: \[INVOKE\]$")
    rid, _ = em.invoke_ok(b"{}")
    # Both saw the invoke.
    for name in ("invoke_only", "with_shutdown"):
        wait_events(state / f"{name}.events", lambda e: e.get("requestId") == rid)
    pids = {n: int((state / f"{n}.pid").read_text()) for n in ("invoke_only", "with_shutdown")}

    t0 = time.time()
    rc = em.terminate(timeout=10)
    assert rc == 0, f"emulate exited with {rc}:\n{em.logs()[-3000:]}"
    events = wait_events(state / "with_shutdown.events",
                         lambda e: e.get("eventType") == "SHUTDOWN", timeout=2)
    shutdown = events[-1]
    assert shutdown["shutdownReason"] == "spindown", shutdown
    assert t0 * 1000 - 1000 <= shutdown["deadlineMs"] <= t0 * 1000 + 10000, (t0, shutdown)
    verdict = state / "verdict"
    assert verdict.exists(), "with_shutdown was killed before it could tell:\n" + em.logs()[-3000:]
    assert verdict.read_text().strip() == "gone", \
        "the extension not subscribed to SHUTDOWN was still running during SHUTDOWN"
    only = [json.loads(l) for l in (state / "invoke_only.events").read_text().splitlines()]
    assert all(e["eventType"] == "INVOKE" for e in only), only
    for name, pid in pids.items():
        assert wait_process_gone(pid, timeout=2) == "gone", f"{name} outlived emulate"
