"""The Invoke API of `lambdad emulate` beyond a plain RequestResponse call:
the invocation types (Event, DryRun, an unknown one), the request size
limits (6 MB sync, 1 MB async), and client contexts that are not base64 of
JSON. Each answer is checked the way botocore reads it: status,
x-amzn-ErrorType, the {"Type","message"} body (lambda-rest-api.md §1, §5,
§6)."""

import base64
import json
import re
import time

from support import UUID_V4, wait_report

LIMIT = 6291456  # Invoke's synchronous request limit (lambda-rest-api.md §5)
ASYNC_LIMIT = 1 << 20  # Event payloads: 1 MB since Oct 2025 (runtime-api.md §8.1)


def count(em):
    """The runtime's per-process invoke counter (this invoke included)."""
    return json.loads(em.invoke_ok({"action": "count"})[1])["count"]


def assert_aws_error(status, hdrs, body, want_status, want_type):
    assert status == want_status, (status, dict(hdrs), body[:300])
    # botocore takes the error code from this header, the message from the body.
    assert hdrs["x-amzn-ErrorType"] == want_type, dict(hdrs)
    doc = json.loads(body)
    assert doc["Type"] == "User", doc
    assert isinstance(doc["message"], str) and doc["message"], doc
    return doc


def test_event_is_accepted_at_once_and_still_runs(emulate, c_runtime):
    em = emulate(c_runtime, timeout=10)
    marker = "async-marker-q81"
    # Tail applies to RequestResponse only: an Event caller gets no log.
    status, hdrs, body = em.invoke(
        {"action": "print", "out": [marker]},
        headers={"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail"})
    assert status == 202, (status, body[:300])
    assert body == b""
    rid = hdrs["x-amzn-RequestId"]
    assert rid and UUID_V4.fullmatch(rid), dict(hdrs)
    assert hdrs["X-Amz-Function-Error"] is None
    assert hdrs["X-Amz-Log-Result"] is None

    # Nobody waits for it, but it runs: under the request id the caller got.
    start = em.wait_log(rf"^START RequestId: {re.escape(rid)} Version: \$LATEST$")[0]
    line = em.wait_log(rf"^{marker}$")[0]
    report = wait_report(em, rid)
    assert start.start() < line.start() < report.start()
    # And the environment goes on serving synchronous callers.
    assert count(em) == 2


def test_event_does_not_wait_for_the_function(emulate, c_runtime):
    em = emulate(c_runtime, timeout=10)
    em.invoke_ok(b"{}")  # INIT out of the way
    t0 = time.monotonic()
    status, hdrs, _ = em.invoke({"action": "sleep", "ms": 3000},
                                headers={"X-Amz-Invocation-Type": "Event"})
    answered = time.monotonic() - t0
    assert status == 202
    assert answered < 2.5, f"the Event caller waited {answered:.2f} s for a 3 s function"
    wait_report(em, hdrs["x-amzn-RequestId"], timeout=30)


def test_event_payload_limit(emulate, c_runtime):
    # An asynchronous invoke is queued, not run at once, and its payload is
    # limited to 1 MB, not 6 (lambda-rest-api.md §5, runtime-api.md §8.1).
    em = emulate(c_runtime)
    assert count(em) == 1
    small = json.dumps({"action": "count", "pad": "s" * 200000}).encode()
    status, _, _ = em.invoke(small, headers={"X-Amz-Invocation-Type": "Event"})
    assert status == 202
    # 2 MB: over the async limit under any reading of "1 MB", well under the
    # synchronous one.
    big = json.dumps({"action": "exit", "pad": "b" * (2 * ASYNC_LIMIT)}).encode()
    status, hdrs, body = em.invoke(big, headers={"X-Amz-Invocation-Type": "Event"})
    assert_aws_error(status, hdrs, body, 413, "RequestTooLargeException")
    # The refused payload never ran (it would have made the runtime exit).
    assert count(em) == 3


def test_dry_run_does_not_invoke(emulate, c_runtime):
    em = emulate(c_runtime)
    assert count(em) == 1
    status, hdrs, body = em.invoke({"action": "exit", "code": 9},
                                   headers={"X-Amz-Invocation-Type": "DryRun"})
    assert status == 204, (status, body[:300])
    assert body == b""
    # Had the payload run, the runtime would have exited and the counter
    # restarted at 1.
    assert count(em) == 2


def test_explicit_request_response_is_the_default(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke(b'{"sync":true}',
                                   headers={"X-Amz-Invocation-Type": "RequestResponse"})
    assert status == 200
    assert body == b'{"sync":true}'


def test_unknown_invocation_type(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "exit"},
                                   headers={"X-Amz-Invocation-Type": "Sometimes"})
    assert_aws_error(status, hdrs, body, 400, "InvalidParameterValueException")
    # Refused before anything ran: the first process still counts from 1.
    assert count(em) == 1


def test_request_size_limit(emulate, c_runtime):
    em = emulate(c_runtime)
    # Exactly at the limit: accepted, and echoed back whole (a 6 MB answer
    # is under the 6 MiB + 100 response limit).
    at_limit = b'"' + b"a" * (LIMIT - 2) + b'"'
    status, hdrs, body = em.invoke(at_limit)
    assert status == 200, (status, body[:300])
    assert hdrs["X-Amz-Function-Error"] is None, body[:300]
    assert body == at_limit

    over = b'"' + b"b" * (LIMIT - 1) + b'"'
    assert len(over) == LIMIT + 1
    status, hdrs, body = em.invoke(over)
    doc = assert_aws_error(status, hdrs, body, 413, "RequestTooLargeException")
    assert str(LIMIT) in doc["message"], doc

    # Refused at the door: the environment did not notice and goes on.
    assert count(em) == 2
    _, body = em.invoke_ok(b'{"after":"413"}')
    assert body == b'{"after":"413"}'


def test_client_context_that_is_not_json(emulate, c_runtime):
    # Base64 all right, but not of a JSON object: the runtime clients parse
    # it as JSON (runtime-api.md §3), so the API refuses it
    # (lambda-rest-api.md §5: "base64 of a JSON object").
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "headers"},
                                   headers={"X-Amz-Client-Context": base64.b64encode(
                                       b"this is not JSON").decode()})
    assert_aws_error(status, hdrs, body, 400, "InvalidRequestContentException")
    assert count(em) == 1


def test_client_context_that_is_not_base64(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "headers"},
                                   headers={"X-Amz-Client-Context": "not base64!*"})
    assert_aws_error(status, hdrs, body, 400, "InvalidRequestContentException")
    assert count(em) == 1
