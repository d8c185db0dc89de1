"""Internal extensions (extensions-api.md §2.1, §3): an agent inside the
runtime's process, registered under a name that is no file of the
extensions dir before the runtime's first next. It gets INVOKE events like
an external one; it may not subscribe to SHUTDOWN; and once the runtime
has called next, registration is closed. The runtime is
tests/helpers/internal_ext_runtime.sh."""

import json

from support import HELPERS_SRC, UUID_V4, read_probes, wait_events, wait_report

RUNTIME = HELPERS_SRC / "internal_ext_runtime.sh"


def start(emulate, tmp_path, **options):
    probes = tmp_path / "probes.txt"
    events = tmp_path / "events.jsonl"
    em = emulate(RUNTIME, env={"INTERNAL_EXT_PROBES": probes, "INTERNAL_EXT_EVENTS": events},
                 **options)
    return em, probes, events


def test_internal_extension_gets_invoke_events(emulate, tmp_path):
    em, probes, events = start(emulate, tmp_path, function_name="agent-fn", timeout=10)
    em.wait_log(r"^EXTENSION\tName: internal-agent\tState: Ready\tEvents: \[INVOKE\]$")
    status, body = read_probes(probes)["agent"]
    assert status == 200, body
    assert json.loads(body)["functionName"] == "agent-fn"

    for n in range(3):
        payload = json.dumps({"n": n}).encode()
        rid, answer = em.invoke_ok(payload)
        assert answer == payload
        got = wait_events(events, lambda e: e.get("requestId") == rid)
        ev = next(e for e in got if e.get("requestId") == rid)
        assert ev["eventType"] == "INVOKE"
        assert ev["invokedFunctionArn"].endswith(":function:agent-fn")
        assert UUID_V4.fullmatch(ev["requestId"])
        # The invoke is over only once the agent asked for its next event.
        wait_report(em, rid)


def test_internal_extension_may_not_subscribe_to_shutdown(emulate, tmp_path):
    em, probes, _ = start(emulate, tmp_path)
    em.invoke_ok(b"{}")
    status, body = read_probes(probes)["shutdown"]
    assert status == 403, body
    assert json.loads(body)["errorType"] == "Extension.InvalidEventType", body
    assert "internal-shutdown-agent" not in em.logs()


def test_registration_closes_with_the_runtimes_first_next(emulate, tmp_path):
    em, probes, _ = start(emulate, tmp_path)
    rid, _ = em.invoke_ok(b'{"late":"register"}')
    wait_report(em, rid)
    status, body = read_probes(probes)["late"]
    assert status == 403, body
    assert json.loads(body)["errorType"] == "Extension.RegistrationClosed", body
    assert "internal-late-agent" not in em.logs()
    # The refused agent does not disturb the registered one.
    rid, _ = em.invoke_ok(b"{}")
    wait_report(em, rid)
