"""`X-Amz-Log-Type: Tail`: the caller gets X-Amz-Log-Result, the base64 of
the last 4 KB (4,096 bytes) of this invoke's log, START/END/REPORT
included (lambda-rest-api.md §5, execution-environment.md §5)."""

import base64
import binascii
import json
import re

from support import REPORT_RE

TAIL = {"X-Amz-Log-Type": "Tail"}


def log_result(hdrs):
    value = hdrs["X-Amz-Log-Result"]
    assert value, f"no X-Amz-Log-Result: {dict(hdrs)}"
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise AssertionError(f"X-Amz-Log-Result is not base64: {value[:200]!r}") from e


def test_tail_holds_this_invokes_log(emulate, c_runtime):
    em = emulate(c_runtime)
    em.invoke_ok(b'{"warm":"up"}')  # an earlier invoke, whose lines must not show
    out = ["tail line one: on stdout", "  tail line two, indented "]
    err = ["tail line three: on stderr"]
    status, hdrs, body = em.invoke({"action": "print", "out": out, "err": err}, headers=TAIL)
    assert status == 200, (status, body[:300])
    assert hdrs["X-Amz-Function-Error"] is None, body[:300]
    assert json.loads(body)["action"] == "print"  # the answer itself is unchanged
    rid = hdrs["x-amzn-RequestId"]
    text = log_result(hdrs).decode()
    lines = text.splitlines()

    assert f"START RequestId: {rid} Version: $LATEST" in lines, text
    assert f"END RequestId: {rid}" in lines, text
    report = [l for l in lines if l.startswith("REPORT ")]
    assert len(report) == 1, text
    m = REPORT_RE.fullmatch(report[0])
    assert m and m["id"] == rid, report
    for line in out + err:
        assert line in lines, (line, text)
    # In Lambda's order: START, the function's lines, END, REPORT.
    order = [lines.index(f"START RequestId: {rid} Version: $LATEST")] + \
            [lines.index(l) for l in out] + \
            [lines.index(f"END RequestId: {rid}"), lines.index(report[0])]
    assert order == sorted(order), text
    # Only this invoke: nothing of the warm-up invoke before it.
    assert len(re.findall(r"^START RequestId: ", text, re.M)) == 1, text
    assert text.endswith("\n")


def test_no_tail_no_log_result(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, _ = em.invoke(b"{}")
    assert status == 200
    assert hdrs["X-Amz-Log-Result"] is None
    status, hdrs, _ = em.invoke(b"{}", headers={"X-Amz-Log-Type": "None"})
    assert status == 200
    assert hdrs["X-Amz-Log-Result"] is None


def test_tail_is_cut_to_the_last_4096_bytes(emulate, c_runtime):
    em = emulate(c_runtime)
    # 80 numbered lines of 100 bytes: about 8 KB, twice what the tail holds.
    out = [f"line {i:03d} " + "z" * 91 for i in range(80)]
    status, hdrs, body = em.invoke({"action": "print", "out": out}, headers=TAIL)
    assert status == 200, (status, body[:300])
    rid = hdrs["x-amzn-RequestId"]
    raw = log_result(hdrs)
    assert len(raw) == 4096, f"X-Amz-Log-Result decodes to {len(raw)} bytes"
    text = raw.decode()
    # The last bytes are kept: the end of the log, REPORT last.
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    m = REPORT_RE.fullmatch(last)
    assert m and m["id"] == rid, last
    assert f"\nEND RequestId: {rid}\n" in text
    assert out[-1] in text
    # ... and the first are dropped.
    assert "START RequestId" not in text
    assert out[0] not in text


def test_tail_of_a_failed_invoke(emulate, c_runtime):
    em = emulate(c_runtime)
    status, hdrs, body = em.invoke({"action": "exit", "code": 7}, headers=TAIL)
    assert status == 200
    assert hdrs["X-Amz-Function-Error"] == "Unhandled"
    rid = hdrs["x-amzn-RequestId"]
    text = log_result(hdrs).decode()
    assert f"START RequestId: {rid} Version: $LATEST" in text
    # The platform's account of the crash is part of the invoke's log.
    assert "Runtime exited with error: exit status 7" in text, text
    assert re.search(rf"^REPORT RequestId: {re.escape(rid)}\t", text, re.M), text
