"""A runtime that calls the Runtime API wrongly (runtime-api.md §2, §3, §9),
through tests/helpers/misuse_runtime.sh: a second `next` while one is
parked, wrong methods, unknown paths; and `Expect: 100-continue` on a
response, which curl sends by default for larger bodies. Each refusal is
checked as the runtime sees it, and the environment keeps working."""

import json
import time

from support import HELPERS_SRC

RUNTIME = HELPERS_SRC / "misuse_runtime.sh"


def test_second_next_while_one_is_parked(emulate):
    em = emulate(RUNTIME, timeout=10)
    _, body = em.invoke_ok(b'{"action":"double_next"}')
    assert body == b'{"action":"double_next"}'
    # Only one next can wait: the other is refused at once, before the next
    # invoke is even sent.
    refused = em.wait_log(r"^double_next refused status=(\d+) body=(.*)$")[0]
    assert refused.group(1) == "403", refused.group(0)
    doc = json.loads(refused.group(2))
    assert doc["errorType"] == "InvalidStateTransition", doc
    assert doc["errorMessage"].endswith(
        "to Ready failed for runtime. Error: State transition is not allowed"), doc
    # The next that waited gets this invoke.
    _, body = em.invoke_ok(b'{"after":"double next"}')
    assert body == b'{"after":"double next"}'
    _, body = em.invoke_ok(b'{"and":"again"}')
    assert body == b'{"and":"again"}'
    assert "double_next: the waiting next got" not in em.logs()


def test_wrong_methods_and_unknown_paths(emulate):
    em = emulate(RUNTIME)
    _, body = em.invoke_ok(b'{"action":"probe"}')
    got = json.loads(body)
    # Known paths with the wrong method: 405.
    assert got["get_response"][0] == 405, got
    assert got["get_error"][0] == 405, got
    assert got["post_next"][0] == 405, got
    # Anything else: 404.
    assert got["unknown_runtime_path"][0] == 404, got
    assert got["unknown_version"][0] == 404, got
    assert got["unknown_path"][0] == 404, got
    # None of it disturbed the invoke the probes ran in, nor the next one.
    _, body = em.invoke_ok(b'{"after":"probe"}')
    assert body == b'{"after":"probe"}'


def test_expect_100_continue_on_a_response(emulate):
    # A response body over 1 KiB: curl would send the Expect header on its
    # own; the runtime sends it explicitly and waits up to 15 s for the
    # server's 100 Continue before sending the body.
    em = emulate(RUNTIME, timeout=30)
    em.invoke_ok(b"{}")  # INIT out of the way
    payload = json.dumps({"action": "expect", "pad": "p" * 4096}).encode()
    t0 = time.monotonic()
    _, body = em.invoke_ok(payload)
    elapsed = time.monotonic() - t0
    assert body == payload
    told = em.wait_log(r"^expect status=(\d+) continue=(\w+)$")[0]
    assert told.group(1) == "202", told.group(0)
    assert told.group(2) == "yes", "the server never said 100 Continue"
    assert elapsed < 10, f"the response took {elapsed:.1f} s: the server made curl wait"
