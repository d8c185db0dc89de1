"""Every Runtime API error path, driven by the C runtime: what the runtime
is told (status and body it prints or reports back), what the caller gets,
and that the environment keeps working afterwards."""

import json

INVALID_ID = {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
LIMIT = 6291556  # 6 MiB + 100 bytes, RIE's cut-off for a buffered response


def count(em):
    """The runtime's per-process invoke counter (this invoke included)."""
    return json.loads(em.invoke_ok({"action": "count"})[1])["count"]


def test_function_error_document_is_passed_verbatim(emulate, c_runtime):
    em = emulate(c_runtime)
    rid, doc, raw = em.invoke_error({"action": "error"})
    assert raw == b'{"errorMessage":"boom","errorType":"Custom","stackTrace":[]}'
    # A reported error is not a crash: the same process answers next.
    assert count(em) == 2


def test_second_answer_for_an_invoke_is_refused(emulate, c_runtime):
    em = emulate(c_runtime)
    payload = b'{"action":"twice","n":1}'
    _, body = em.invoke_ok(payload)
    assert body == payload  # the first answer wins
    second = em.wait_log(r"^twice second status=(\d+) body=(.*)$")[0]
    assert second.group(1) in ("403", "400"), second.group(0)
    assert json.loads(second.group(2))["errorType"] in ("InvalidStateTransition",
                                                       "InvalidRequestID")
    late_error = em.wait_log(r"^twice error status=(\d+) body=(.*)$")[0]
    assert late_error.group(1) in ("403", "400"), late_error.group(0)
    assert count(em) == 2


def test_answer_to_unknown_request_id(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "badid"})
    got = json.loads(body)
    assert got["status"] == 400
    assert json.loads(got["body"]) == INVALID_ID
    assert count(em) == 2


def test_oversized_response(emulate, c_runtime):
    em = emulate(c_runtime)
    rid, doc, _ = em.invoke_error({"action": "big", "bytes": 7000000})
    assert doc == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size (7000000 bytes) exceeded maximum "
                        "allowed payload size (6291556 bytes).",
    }
    told = em.wait_log(r"^big status=(\d+) body=(.*)$")[0]
    assert told.group(1) == "413", told.group(0)
    assert json.loads(told.group(2))["errorType"] == "RequestEntityTooLarge"
    # The invoke counts as answered: no reset, the same process goes on.
    assert count(em) == 2


def test_largest_allowed_response(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "big", "bytes": LIMIT})
    assert len(body) == LIMIT
    assert body == b'"' + b"x" * (LIMIT - 2) + b'"'
    em.wait_log(r"^big status=202 ")


def test_bad_response_mode(emulate, c_runtime):
    em = emulate(c_runtime)
    _, doc, _ = em.invoke_error({"action": "badmode"})
    assert doc["errorType"] == "Runtime.InvalidResponseModeHeader"
    told = em.wait_log(r"^badmode status=(\d+) body=(.*)$")[0]
    assert told.group(1) == "400", told.group(0)
    assert json.loads(told.group(2))["errorType"] == "InvalidFunctionResponseMode"
    _, body = em.invoke_ok(b'{"after":"badmode"}')
    assert body == b'{"after":"badmode"}'


def test_init_error_after_init_is_refused(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "initerror-after"})
    got = json.loads(body)
    assert got["status"] == 403, got
    assert json.loads(got["body"])["errorType"] == "InvalidStateTransition"
    assert count(em) == 2
