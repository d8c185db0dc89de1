"""The real Node.js runtime interface client (aws-lambda-ric, with its
native aws-lambda-cpp client) under emulate, with the handlers in
node/fn/index.mjs. The RIC takes the handler from argv and loads it from
its working directory, which must be the task root."""

import json
import time

import pytest

from support import ACCOUNT_ARN, NODE_DIR

FN_DIR = NODE_DIR / "fn"
RIC = NODE_DIR / "node_modules" / ".bin" / "aws-lambda-ric"


@pytest.fixture(scope="module")
def ric():
    if not RIC.exists():
        pytest.fail(f"{RIC} is missing: run `npm ci` in {NODE_DIR} (`make deps` does)",
                    pytrace=False)
    return RIC


def start(emulate, ric, handler, **options):
    # Emulate runs outside the task root, so the RIC only finds the handler
    # if the runtime is started in --task-root.
    return emulate(ric, handler, task_root=FN_DIR, handler=handler, **options)


def test_json_result(emulate, ric):
    em = start(emulate, ric, "index.ok")
    status, hdrs, body = em.invoke(b'{"from":"e2e","n":[1,2,3]}')
    assert status == 200
    assert hdrs["X-Amz-Function-Error"] is None, body
    assert json.loads(body) == {"ok": True, "event": {"from": "e2e", "n": [1, 2, 3]}}
    assert hdrs["Content-Type"] == "application/json"


def test_thrown_error(emulate, ric):
    em = start(emulate, ric, "index.throws")
    _, doc, _ = em.invoke_error(b"{}")
    assert doc["errorType"] == "Error"
    assert doc["errorMessage"] == "boom from node"
    assert isinstance(doc["trace"], list) and all(isinstance(t, str) for t in doc["trace"])
    assert doc["trace"][0] == "Error: boom from node"
    # The RIC survives a handler error and takes the next invoke.
    _, doc, _ = em.invoke_error(b"{}")
    assert doc["errorMessage"] == "boom from node"


def test_remaining_time_matches_timeout(emulate, ric):
    em = start(emulate, ric, "index.remaining", timeout=5, function_name="node-fn")
    rid, body = em.invoke_ok(b"{}")
    got = json.loads(body)
    assert 0 < got["remaining"] <= 5000, got
    assert got["requestId"] == rid
    assert got["arn"] == ACCOUNT_ARN + "node-fn"


def test_timeout_then_fresh_environment(emulate, ric):
    # 3 s, not 1: after the reset the next invoke re-runs INIT (starting
    # node) inside its own timeout.
    em = start(emulate, ric, "index.count", timeout=3)
    assert json.loads(em.invoke_ok(b"{}")[1]) == {"count": 1}
    assert json.loads(em.invoke_ok(b"{}")[1]) == {"count": 2}
    t0 = time.monotonic()
    rid, doc, _ = em.invoke_error({"sleep_ms": 20000})
    assert doc == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 3.00 seconds",
    }
    assert time.monotonic() - t0 < 15
    # Module state is gone: a new process counts from one.
    assert json.loads(em.invoke_ok(b"{}")[1]) == {"count": 1}


def test_slow_handler_times_out(emulate, ric):
    em = start(emulate, ric, "index.slow", timeout=1)
    rid, doc, _ = em.invoke_error(b"{}")
    assert doc["errorType"] == "Sandbox.Timedout"
    assert doc["errorMessage"] == f"RequestId: {rid} Error: Task timed out after 1.00 seconds"
