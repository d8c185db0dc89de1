"""Several callers at once against one environment: invokes queue for it,
and every caller gets its own answer, under its own request id and its own
timeout (time spent waiting in the queue is not charged to an invoke)."""

import json
import threading
import time


def test_four_callers_get_their_own_answers(emulate, c_runtime):
    # Each invoke sleeps 0.8 s under a 2 s timeout; the four together take
    # 3.2 s, so a deadline counted from arrival instead of dispatch would
    # time the last ones out.
    em = emulate(c_runtime, timeout=2)
    em.invoke_ok(b"{}")  # INIT done before the race starts
    n = 4
    results = [None] * n
    barrier = threading.Barrier(n)

    def call(i):
        payload = json.dumps({"action": "sleep", "ms": 800, "caller": i}).encode()
        barrier.wait()
        results[i] = (payload, *em.invoke(payload, timeout=60))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    elapsed = time.monotonic() - t0

    ids = set()
    for i, r in enumerate(results):
        assert r is not None, f"caller {i} got no answer"
        payload, status, hdrs, body = r
        assert status == 200
        assert hdrs["X-Amz-Function-Error"] is None, (i, body[:300])
        assert body == payload, i
        ids.add(hdrs["x-amzn-RequestId"])
    assert len(ids) == n
    # One environment runs one invoke at a time.
    assert elapsed >= n * 0.8 - 0.2, f"{n} sleeps of 0.8 s overlapped ({elapsed:.2f} s)"
