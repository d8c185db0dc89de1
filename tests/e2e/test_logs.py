"""Log lines on emulate's stderr, in Lambda's text format: INIT_START,
START/END/REPORT per invoke (Init Duration only on the first invoke after
an INIT), the runtime's own output verbatim and inside its invoke, and
output floods that must not break the emulator."""

import json
import math
import re

from support import wait_report


def test_start_end_report(emulate, c_runtime):
    em = emulate(c_runtime, memory=256)
    first, _ = em.invoke_ok(b'{"n":1}')
    second, _ = em.invoke_ok(b'{"n":2}')

    for rid, cold in ((first, True), (second, False)):
        report = wait_report(em, rid)
        start = em.wait_log(rf"^START RequestId: {re.escape(rid)} Version: \$LATEST$")[0]
        end = em.wait_log(rf"^END RequestId: {re.escape(rid)}$")[0]
        assert start.start() < end.start() < report.start()

        duration, billed = float(report["duration"]), int(report["billed"])
        # Billed = Duration rounded up to a whole ms (one ms of slack for a
        # Duration printed after rounding).
        assert math.ceil(duration) <= billed + 0.01 and billed <= math.ceil(duration) + 1, \
            report.group(0)
        assert report["memory"] == "256"
        assert int(report["used"]) > 0
        if cold:
            assert report["init"] is not None, "first invoke after INIT lacks Init Duration"
            assert float(report["init"]) > 0
        else:
            assert report["init"] is None, "warm invoke reports an Init Duration"

    # One INIT so far, logged once.
    assert len(re.findall(r"^INIT_START", em.logs(), re.M)) == 1


def test_reset_logs_a_new_init(emulate, c_runtime):
    em = emulate(c_runtime)
    em.invoke_ok(b"{}")
    em.invoke_error({"action": "exit", "code": 2})
    rid, _ = em.invoke_ok(b"{}")
    wait_report(em, rid)
    assert len(re.findall(r"^INIT_START", em.logs(), re.M)) == 2


def test_runtime_output_is_logged_verbatim_inside_its_invoke(emulate, c_runtime):
    em = emulate(c_runtime)
    out = ["stdout line: gr\u00fc\u00dfe aus C", "  indented, trailing space "]
    err = ["stderr line: something odd happened"]
    rid, _ = em.invoke_ok(json.dumps({"action": "print", "out": out, "err": err},
                                     ensure_ascii=False).encode())
    report = wait_report(em, rid)
    start = em.wait_log(rf"^START RequestId: {re.escape(rid)} ")[0]
    end = em.wait_log(rf"^END RequestId: {re.escape(rid)}$")[0]
    for line in out + err:
        m = em.wait_log(rf"^{re.escape(line)}$")[0]
        assert start.start() < m.start() < end.start() < report.start(), line


def test_output_flood_without_newlines(emulate, c_runtime):
    em = emulate(c_runtime)
    rid, body = em.invoke_ok({"action": "flood", "bytes": 1 << 20, "line": 0})
    assert json.loads(body)["action"] == "flood"
    em.wait_log(r"^flood done$")
    wait_report(em, rid)
    _, body = em.invoke_ok(b'{"after":"flood"}')
    assert body == b'{"after":"flood"}'


def test_output_flood_of_long_lines(emulate, c_runtime):
    em = emulate(c_runtime)
    rid, _ = em.invoke_ok({"action": "flood", "bytes": 600000, "line": 100000})
    em.wait_log(r"^flood done$")
    wait_report(em, rid)
    _, body = em.invoke_ok(b'{"after":"flood"}')
    assert body == b'{"after":"flood"}'
