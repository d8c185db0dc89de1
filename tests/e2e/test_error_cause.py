"""A runtime error posted as `application/vnd.aws.lambda.error.cause+json`
(runtime-api.md §5): errorCause is X-Ray's, so the caller gets the error
document without it, as application/json; a body that does not parse
reaches the caller as the JSON string "Invalid error body". Either way the
runtime's post is accepted and the runtime goes on."""

import json


def count(em):
    return json.loads(em.invoke_ok({"action": "count"})[1])["count"]


def test_error_cause_is_stripped(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "error_cause", "body": "cause"})
    assert status == 200
    assert hdrs["X-Amz-Function-Error"] == "Unhandled", (dict(hdrs), body[:300])
    assert hdrs["Content-Type"] == "application/json", dict(hdrs)
    assert json.loads(body) == {
        "errorMessage": "cause boom",
        "errorType": "CauseError",
        "stackTrace": ["at handler (index.js:1:1)"],
    }
    em.wait_log(r"^error_cause status=202$")
    assert count(em) == 2  # a reported error, not a crash


def test_unparseable_error_cause_body(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "error_cause", "body": "garbage"})
    assert status == 200
    assert hdrs["X-Amz-Function-Error"] == "Unhandled", (dict(hdrs), body[:300])
    assert body == b'"Invalid error body"'
    assert json.loads(body) == "Invalid error body"
    assert hdrs["Content-Type"] == "application/octet-stream", dict(hdrs)
    em.wait_log(r"^error_cause status=202$")
    assert count(em) == 2
