"""A caller's X-Amzn-Trace-Id is the invoke's trace: the runtime gets it as
Lambda-Runtime-Trace-Id (runtime-api.md §3) and INVOKE-subscribed
extensions as the event's tracing.value (extensions-api.md §2.2), byte for
byte, whatever characters it holds."""

import json

import pytest

from support import wait_events

TRACE = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"


def test_caller_trace_id_reaches_the_runtime(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "headers"}, headers={"X-Amzn-Trace-Id": TRACE})
    assert json.loads(body)["lambda-runtime-trace-id"] == TRACE


def test_without_a_caller_trace_id_one_is_made_up(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "headers"})
    trace = json.loads(body)["lambda-runtime-trace-id"]
    assert trace.startswith("Root=1-"), trace
    _, body = em.invoke_ok({"action": "headers"})
    assert json.loads(body)["lambda-runtime-trace-id"] != trace, "a trace id was reused"


def test_caller_trace_id_reaches_extensions(emulate, c_runtime, extensions_dir, tmp_path):
    events_file = tmp_path / "events.jsonl"
    em = emulate(c_runtime, extensions_dir=extensions_dir("logging_ext.sh"),
                 env={"EXT_EVENTS_FILE": events_file})
    rid, _ = em.invoke_ok(b"{}", headers={"X-Amzn-Trace-Id": TRACE})
    events = wait_events(events_file, lambda e: e.get("requestId") == rid)
    ev = next(e for e in events if e.get("requestId") == rid)
    assert ev["tracing"] == {"type": "X-Amzn-Trace-Id", "value": TRACE}, ev


def test_trace_id_with_a_quote_keeps_extension_events_valid_json(emulate, c_runtime,
                                                                  extensions_dir, tmp_path):
    # A caller controls this header; a quote or backslash in it must be
    # escaped in the event, or every extension's JSON parser chokes.
    # (wait_events parses each event line with json.loads.)
    tricky = TRACE + ';Note="a \\"quoted\\" word"'
    events_file = tmp_path / "events.jsonl"
    em = emulate(c_runtime, extensions_dir=extensions_dir("logging_ext.sh"),
                 env={"EXT_EVENTS_FILE": events_file})
    rid, body = em.invoke_ok({"action": "headers"}, headers={"X-Amzn-Trace-Id": tricky})
    assert json.loads(body)["lambda-runtime-trace-id"] == tricky

    def has_rid(e):
        return e.get("requestId") == rid

    try:
        events = wait_events(events_file, has_rid)
    except pytest.fail.Exception:
        # wait_events reads nothing while a line does not parse: show them raw.
        lines = events_file.read_text().splitlines() if events_file.exists() else []
        pytest.fail(f"no parseable INVOKE event for {rid}; the extension got: {lines}")
    ev = next(e for e in events if has_rid(e))
    assert ev["tracing"]["value"] == tricky, ev
