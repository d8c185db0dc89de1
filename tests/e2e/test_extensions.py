"""External extensions under emulate, using the sh + curl helpers in
tests/helpers/extensions: registration and its log line, the INVOKE and
SHUTDOWN events as delivered, the environment they see, a crash (which
fails the invoke and resets the environment), and slow post-processing
(which belongs to the invoke's Duration)."""

import json
import time

from support import ACCOUNT_ARN, wait_events, wait_report


def test_invoke_event(emulate, c_runtime, extensions_dir, tmp_path):
    events_file = tmp_path / "events.jsonl"
    register_file = tmp_path / "register.json"
    em = emulate(c_runtime, timeout=5, function_name="ext-fn", handler="my.handler",
                 extensions_dir=extensions_dir("logging_ext.sh"),
                 env={"EXT_EVENTS_FILE": events_file, "EXT_REGISTER_FILE": register_file})
    em.wait_log(r"^logging_ext\.sh registered$")
    em.wait_log(r"^EXTENSION\tName: logging_ext\.sh\tState: Ready\tEvents: \[INVOKE, SHUTDOWN\]$")
    assert json.loads(register_file.read_text()) == {
        "functionName": "ext-fn", "functionVersion": "$LATEST", "handler": "my.handler"}

    t0 = time.time()
    rid, body = em.invoke_ok(b'{"marker":"zq-payload-7"}')
    t1 = time.time()
    assert body == b'{"marker":"zq-payload-7"}'
    events = wait_events(events_file, lambda e: e.get("requestId") == rid)
    ev = next(e for e in events if e.get("requestId") == rid)
    assert ev["eventType"] == "INVOKE"
    assert isinstance(ev["deadlineMs"], int)
    assert t0 * 1000 + 5000 - 1000 <= ev["deadlineMs"] <= t1 * 1000 + 5000 + 1000
    assert ev["invokedFunctionArn"] == ACCOUNT_ARN + "ext-fn"
    assert "zq-payload-7" not in json.dumps(ev)  # events never carry the payload
    # The invoke phase ends when the extension asks for its next event.
    wait_report(em, rid)

    # A second invoke: the extension is asked again.
    rid2, _ = em.invoke_ok(b"{}")
    wait_events(events_file, lambda e: e.get("requestId") == rid2)


def test_runtime_starts_after_extensions_registered(emulate, c_runtime, extensions_dir,
                                                   tmp_path):
    # The extension idles 1.5 s before registering; the runtime may only be
    # started once it has.
    t0 = time.time()
    em = emulate(c_runtime, extensions_dir=extensions_dir("logging_ext.sh"),
                 env={"EXT_EVENTS_FILE": tmp_path / "events.jsonl",
                      "EXT_REGISTER_DELAY_MS": "1500"})
    _, body = em.invoke_ok({"action": "pid"})
    started = json.loads(body)["start_ms"]
    assert started >= t0 * 1000 + 1500, \
        f"runtime started {started - t0 * 1000:.0f} ms after emulate, before the extension registered"


def test_shutdown_event_on_sigterm(emulate, c_runtime, extensions_dir, tmp_path):
    events_file = tmp_path / "events.jsonl"
    em = emulate(c_runtime, extensions_dir=extensions_dir("logging_ext.sh"),
                 env={"EXT_EVENTS_FILE": events_file})
    em.invoke_ok(b"{}")
    t0 = time.time()
    rc = em.terminate(timeout=10)
    elapsed = time.time() - t0
    assert rc == 0, f"emulate exited with {rc}:\n{em.logs()[-3000:]}"
    # SHUTDOWN lasts at most 2 s with an external extension; slack for a busy machine.
    assert elapsed < 6, f"shutdown took {elapsed:.1f} s"
    events = wait_events(events_file, lambda e: e.get("eventType") == "SHUTDOWN", timeout=2)
    shutdown = events[-1]
    assert shutdown["eventType"] == "SHUTDOWN"
    assert shutdown["shutdownReason"] == "spindown"
    assert isinstance(shutdown["deadlineMs"], int)
    # Deadline = SIGTERM + the 2 s SHUTDOWN phase; generous slack.
    assert t0 * 1000 - 1000 <= shutdown["deadlineMs"] <= t0 * 1000 + 10000, (t0, shutdown)


def test_extension_environment(emulate, c_runtime, extensions_dir, tmp_path):
    env_file = tmp_path / "ext.env"
    task = tmp_path / "task"
    task.mkdir()
    em = emulate(c_runtime, task_root=task, handler="h.h", function_name="ext-env-fn",
                 extensions_dir=extensions_dir("logging_ext.sh"),
                 env={"EXT_EVENTS_FILE": tmp_path / "events.jsonl", "EXT_ENV_FILE": env_file,
                      "USER_VAR": "visible"})
    em.wait_log(r"^logging_ext\.sh registered$")
    env = dict(l.split("=", 1) for l in env_file.read_text().splitlines() if "=" in l)
    for runtime_only in ("_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
                         "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                         "AWS_EXECUTION_ENV"):
        assert runtime_only not in env, runtime_only
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ext-env-fn"
    assert env["AWS_LAMBDA_RUNTIME_API"]
    assert env["AWS_REGION"] == "us-east-1"
    assert env["USER_VAR"] == "visible"


def test_extension_crash_fails_the_invoke_and_resets(emulate, c_runtime, extensions_dir,
                                                     tmp_path):
    em = emulate(c_runtime, timeout=10, extensions_dir=extensions_dir("crash_ext.sh"),
                 env={"CRASH_EXT_ONCE_FILE": tmp_path / "crashed-once"})
    em.wait_log(r"^crash_ext\.sh registered$")
    # The runtime takes 3 s, so the crash lands while the invoke is open.
    _, doc, _ = em.invoke_error({"action": "sleep", "ms": 3000})
    assert doc["errorType"] == "Extension.Crash", doc
    em.wait_log(r"^crash_ext\.sh crashing$")
    # Fresh INIT (extension and runtime started again): the count restarts.
    _, body = em.invoke_ok({"action": "count"})
    assert json.loads(body) == {"count": 1}
    em.wait_log(r"^crash_ext\.sh registered$", count=2)


def test_slow_extension_counts_in_duration(emulate, c_runtime, extensions_dir):
    em = emulate(c_runtime, timeout=10, extensions_dir=extensions_dir("slow_ext.sh"),
                 env={"EXT_SLEEP_MS": "2500"})
    t0 = time.monotonic()
    rid, body = em.invoke_ok(b'{"slow":"extension"}')
    answered = time.monotonic() - t0
    assert body == b'{"slow":"extension"}'
    report = wait_report(em, rid)
    assert float(report["duration"]) >= 2500, report.group(0)
    # The caller did not wait for the extension's post-processing.
    assert answered < 2.0, f"the caller waited {answered:.2f} s for the extension"
    # The next invoke waits for the extension's next, then runs normally.
    rid2, _ = em.invoke_ok(b"{}")
    assert float(wait_report(em, rid2)["duration"]) >= 2500
