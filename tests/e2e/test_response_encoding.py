"""Response bodies as real clients frame them: aws-lambda-go's chunked POST
with declared trailers, and response streaming (plain and failing
mid-stream). A caller of the buffered invoke API gets the whole body."""

import json


def test_chunked_response(emulate, c_runtime):
    em = emulate(c_runtime)
    payload = json.dumps({"action": "chunked", "data": "z" * 100000}).encode()
    _, body = em.invoke_ok(payload)
    assert body == payload
    em.wait_log(r"^chunked status=202$")


def test_streamed_response_is_buffered_for_the_caller(emulate, c_runtime):
    em = emulate(c_runtime)
    _, body = em.invoke_ok({"action": "stream", "n": 5, "delay_ms": 100})
    assert body == b"".join(b"chunk-%d\n" % i for i in range(5))
    em.wait_log(r"^stream status=202$")


def test_stream_error_trailers(emulate, c_runtime):
    em = emulate(c_runtime)
    _, doc, _ = em.invoke_error({"action": "stream_error", "n": 2, "delay_ms": 50})
    # The document the runtime sent base64-encoded in the trailer.
    assert doc == {"errorMessage": "stream broke", "errorType": "StreamError", "stackTrace": []}
    em.wait_log(r"^stream_error status=202$")
    _, body = em.invoke_ok(b'{"after":"stream_error"}')
    assert body == b'{"after":"stream_error"}'
