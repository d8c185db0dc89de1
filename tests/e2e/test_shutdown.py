"""SIGTERM to emulate shuts the environment down: the runtime is stopped
and reaped, and emulate exits 0, all within a few seconds."""

import http.client
import json
import threading
import time

from support import wait_process_gone


def test_sigterm_stops_everything(emulate, c_runtime):
    em = emulate(c_runtime)
    pid = json.loads(em.invoke_ok({"action": "pid"})[1])["pid"]
    t0 = time.monotonic()
    rc = em.terminate(timeout=10)
    elapsed = time.monotonic() - t0
    assert rc == 0, f"emulate exited with {rc}:\n{em.logs()[-3000:]}"
    # The SHUTDOWN phase is at most 2 s; the rest is slack for a busy machine.
    assert elapsed < 6, f"shutdown took {elapsed:.1f} s"
    assert wait_process_gone(pid, timeout=2) == "gone", "runtime outlived emulate"


def test_sigterm_during_an_invoke(emulate, c_runtime):
    em = emulate(c_runtime, timeout=30)
    pid = json.loads(em.invoke_ok({"action": "pid"})[1])["pid"]
    outcome = []

    def call():
        # Whatever the caller gets (an error document or a dropped
        # connection), it must not hang: that is all this test asks of it.
        try:
            outcome.append(em.invoke({"action": "sleep", "ms": 20000}, timeout=60))
        except (OSError, http.client.HTTPException) as e:
            outcome.append(e)

    caller = threading.Thread(target=call)
    caller.start()
    em.wait_log(r"^START RequestId: ", count=2)
    rc = em.terminate(timeout=10)
    caller.join(15)
    assert not caller.is_alive(), "the caller of the interrupted invoke is still waiting"
    assert rc == 0, f"emulate exited with {rc}:\n{em.logs()[-3000:]}"
    assert wait_process_gone(pid, timeout=2) == "gone", "runtime outlived emulate"
