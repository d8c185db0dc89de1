"""tests/e2e/support.py: what the e2e tests share besides fixtures: paths,
the Emulator client for one running `lambdad emulate`, and the formats
(request ids, ARNs, REPORT lines) the tests check."""

import http.client
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
HELPERS_SRC = REPO / "tests" / "helpers"
HELPERS_BIN = REPO / "build" / "helpers"
NODE_DIR = REPO / "tests" / "e2e" / "node"

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:000000000000:function:"

# Set in emulate's own environment only: the function must not see it.
HOST_ONLY_VAR = "LAMBDAD_E2E_HOST_ONLY"

# What ASan/UBSan/LSan print when the emulator (an ASan build) misbehaves.
SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|\.[ch]:\d+:\d+: runtime error:", re.M
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One running `lambdad emulate`, its logs, and a client for it."""

    def __init__(self, argv, cwd, workdir, env):
        self.argv = argv
        self.port = int(argv[argv.index("--listen") + 1].rsplit(":", 1)[1])
        self.err_path = workdir / "emulate.stderr"
        self.out_path = workdir / "emulate.stdout"
        with open(self.err_path, "wb") as err, open(self.out_path, "wb") as out:
            # Its own session, so teardown can kill anything it left behind.
            self.proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=err, start_new_session=True,
            )

    def wait_listening(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"lambdad emulate exited with {self.proc.returncode} "
                            f"before listening:\n{self.logs()[-4000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"lambdad emulate did not listen on {self.port} within {timeout} s:\n"
                    f"{self.logs()[-4000:]}")

    def invoke(self, payload=b"", headers=None, timeout=90.0):
        """POSTs one invoke. Returns (status, headers, body bytes); headers is
        http.client's message object, whose lookups ignore case and give
        None for a missing header. payload may be bytes, str or JSON-able."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
        elif isinstance(payload, str):
            payload = payload.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", INVOKE_PATH, body=payload, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def invoke_ok(self, payload=b"", headers=None, timeout=90.0):
        """An invoke that must succeed; returns (request id, body bytes)."""
        status, hdrs, body = self.invoke(payload, headers, timeout)
        assert status == 200, (status, body[:500])
        assert hdrs["X-Amz-Function-Error"] is None, body[:2000]
        return hdrs["x-amzn-RequestId"], body

    def invoke_error(self, payload=b"", headers=None, timeout=90.0):
        """An invoke that must fail as a function error; returns
        (request id, error document as parsed JSON, raw body)."""
        status, hdrs, body = self.invoke(payload, headers, timeout)
        assert status == 200, (status, body[:500])
        assert hdrs["X-Amz-Function-Error"] == "Unhandled", (dict(hdrs), body[:500])
        return hdrs["x-amzn-RequestId"], json.loads(body), body

    def logs(self):
        return self.err_path.read_text(errors="replace")

    def wait_log(self, pattern, timeout=20.0, count=1):
        """Waits until regex `pattern` (multi-line mode) matches `count` times
        in the logs; returns the matches. Log lines are written
        asynchronously (REPORT only after the runtime asks for the next
        event), so tests wait for them instead of reading once."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            found = list(rx.finditer(self.logs()))
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"log never matched {pattern!r} {count}x within {timeout} s; "
                            f"logs:\n{self.logs()[-6000:]}")
            time.sleep(0.05)

    def terminate(self, timeout=10.0):
        """SIGTERM, as a user stopping it; returns the exit status, or None
        if it was still running after `timeout` (it is SIGKILLed then)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def reap_leftovers(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# One REPORT line, exactly as Lambda writes it (tab-separated, a tab after
# each field).
REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>[^\t]+)\tDuration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\t"
    r"Max Memory Used: (?P<used>\d+) MB\t(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?"
    # Newer platform versions append the outcome of a failed invoke.
    r"(?:Status: (?P<status>\w+)(?:\tError Type: (?P<error_type>[\w.]+))?)?$",
    re.M,
)


def wait_report(em, request_id, timeout=20.0):
    """Waits for the REPORT line of `request_id`; returns its regex match."""
    pattern = REPORT_RE.pattern.replace("(?P<id>[^\\t]+)", f"(?P<id>{re.escape(request_id)})")
    return em.wait_log(pattern, timeout=timeout)[0]


def wait_events(path, predicate, timeout=20.0):
    """Waits until the events file holds an event satisfying predicate;
    returns all events read so far."""
    deadline = time.monotonic() + timeout
    while True:
        events = []
        try:
            if path.exists():
                events = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
        except ValueError:
            events = []  # a line still being written: read again
        if any(predicate(e) for e in events):
            return events
        if time.monotonic() > deadline:
            pytest.fail(f"no matching event within {timeout} s; events: {events}")
        time.sleep(0.05)


def process_state(pid):
    """'gone', 'zombie' or 'alive' for a pid of this pid namespace (emulate
    runs without a sandbox, so the runtime's getpid() is one of ours)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
    return "zombie" if state == "Z" else "alive"


def wait_process_gone(pid, timeout=10.0):
    """Waits until pid is gone: killed and reaped. Returns its last state."""
    deadline = time.monotonic() + timeout
    state = process_state(pid)
    while state != "gone" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = process_state(pid)
    return state


# The start of every extension a test writes on the spot (write_extension):
# POSIX sh + curl, like tests/helpers/extensions/*.sh, with the calls they
# all make. `call` records what the API answered to a probe so the test can
# read it: one line "<label> <status> <body>" appended to $EXT_PROBES.
EXTENSION_PRELUDE = r'''#!/bin/sh
set -u
name=$(basename "$0")
api="http://${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}/2020-01-01/extension"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# register EVENTS_JSON [curl args...]: registers under the file name; sets $id.
register() {
    events=$1
    shift
    curl -sS -f -o "$tmp/register" -D "$tmp/headers" -X POST "$api/register" \
        -H "Lambda-Extension-Name: $name" -H 'Content-Type: application/json' "$@" \
        --data-binary "{\"events\":$events}" || exit 1
    id=$(grep -i '^lambda-extension-identifier:' "$tmp/headers" |
        sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r\n')
}

# next: the next event's JSON, on one line, into $event.
next() {
    event=$(curl -sS -f -H "Lambda-Extension-Identifier: $id" "$api/event/next") || exit 1
    event=$(printf '%s' "$event" | tr -d '\r\n')
}

# call LABEL CURL_ARGS...: one request; appends "LABEL STATUS BODY" to $EXT_PROBES.
call() {
    label=$1
    shift
    status=$(curl -sS -o "$tmp/body" -w '%{http_code}' "$@")
    printf '%s %s %s\n' "$label" "$status" "$(tr -d '\r\n' < "$tmp/body")" >> "${EXT_PROBES:?}"
}
'''


def write_extension(directory, name, body):
    """Writes an executable sh extension `name` into `directory`:
    EXTENSION_PRELUDE, then `body`. Returns its path."""
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(EXTENSION_PRELUDE + body)
    path.chmod(0o755)
    return path


def read_probes(path):
    """The lines `call` appended: {label: (status, body)}."""
    probes = {}
    for line in path.read_text().splitlines():
        label, status, body = (line.split(" ", 2) + [""])[:3]
        probes[label] = (int(status), body)
    return probes
