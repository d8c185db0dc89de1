"""Invoke basics, through the C runtime: payloads round-trip byte for byte,
the caller's response headers, request ids, bootstrap lookup, and the
headers /next gives the runtime (deadline, ARN, client context)."""

import base64
import json
import shutil
import time

from support import ACCOUNT_ARN, UUID_V4


def test_echo_round_trips_payload_bytes(emulate, c_runtime):
    em = emulate(c_runtime)
    payloads = [
        b'{"hello":"world"}',
        '{"text":"gr\u00fc\u00dfe \u65e5\u672c \\u0000 \\" end"}'.encode(),
        b"[1, 2, 3]\n",
        # 1 MiB: more than one read and one write on every hop.
        json.dumps({"big": "y" * (1 << 20)}).encode(),
    ]
    for payload in payloads:
        status, hdrs, body = em.invoke(payload)
        assert status == 200
        assert hdrs["X-Amz-Function-Error"] is None, body[:300]
        assert body == payload


def test_response_headers(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, _ = em.invoke(b'{"a":1}')
    assert status == 200
    assert hdrs["X-Amz-Executed-Version"] == "$LATEST"
    assert UUID_V4.fullmatch(hdrs["x-amzn-RequestId"]), hdrs["x-amzn-RequestId"]
    assert hdrs["Content-Type"] == "application/json"


def test_content_type_comes_from_the_runtime(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "echo", "content_type": "text/plain"})
    assert status == 200
    assert hdrs["Content-Type"] == "text/plain"


def test_request_ids_are_fresh_uuid4s(emulate, c_runtime):
    em = emulate(c_runtime)
    ids = [em.invoke_ok(b"{}")[0] for _ in range(5)]
    assert all(UUID_V4.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_next_headers_reach_the_runtime(emulate, c_runtime):
    em = emulate(c_runtime, timeout=7, function_name="probe-fn")
    ctx = {"custom": {"k": "v"}, "env": {"platform": "e2e"}, "client": {"app_title": "t"}}
    t0 = time.time()
    rid, body = em.invoke_ok(
        {"action": "headers"},
        headers={"X-Amz-Client-Context": base64.b64encode(json.dumps(ctx).encode()).decode()},
    )
    t1 = time.time()
    h = json.loads(body)

    assert h["lambda-runtime-aws-request-id"] == rid
    # Deadline = invoke start + 7 s, in epoch ms; a second of slack each way
    # for clocks and rounding, not for speed.
    deadline = int(h["lambda-runtime-deadline-ms"])
    assert t0 * 1000 + 7000 - 1000 <= deadline <= t1 * 1000 + 7000 + 1000, (t0, deadline, t1)
    assert h["lambda-runtime-invoked-function-arn"] == ACCOUNT_ARN + "probe-fn"
    # Delivered decoded: the runtime gets the JSON text itself.
    assert json.loads(h["lambda-runtime-client-context"]) == ctx
    assert h["content-type"] == "application/json"

    # No client context given: no header at all (empty values are omitted).
    _, body = em.invoke_ok({"action": "headers"})
    assert "lambda-runtime-client-context" not in json.loads(body)


def test_default_function_name_in_arn(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "headers"})
    assert json.loads(body)["lambda-runtime-invoked-function-arn"] == ACCOUNT_ARN + "function"


def test_relative_bootstrap_is_found_in_task_root(emulate, c_runtime, tmp_path):
    task = tmp_path / "task"
    task.mkdir()
    shutil.copy(c_runtime, task / "bootstrap")
    (task / "bootstrap").chmod(0o755)
    # emulate runs elsewhere (tmp_path), so only --task-root can find it.
    em = emulate("bootstrap", task_root=task)
    _, body = em.invoke_ok(b'{"where":"task root"}')
    assert body == b'{"where":"task root"}'
