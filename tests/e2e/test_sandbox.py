"""The sandbox, seen from inside: a function that tries to reach the host,
other environments or root must fail. emulate sandboxes by default when run
as root; these tests need root and skip otherwise."""

import glob
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from support import HELPERS_SRC, INVOKE_PATH, free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")


@pytest.fixture
def task(probe_task):
    return probe_task


def probe(em, what, arg=""):
    _, body = em.invoke_ok(json.dumps({"probe": what, "arg": arg}).encode())
    return json.loads(body)["out"]


@pytest.fixture
def sandboxed(emulate, task):
    return emulate("bootstrap", task_root=task, sandbox=True)


def test_function_runs_as_the_unprivileged_lambda_user(sandboxed):
    assert probe(sandboxed, "uid") == "993"
    assert probe(sandboxed, "gid") == "990"
    assert probe(sandboxed, "capeff") == "0000000000000000"
    assert probe(sandboxed, "nnp") == "1"
    assert probe(sandboxed, "nofile") == "1024"


def test_init_is_pid_1_and_host_processes_are_invisible(sandboxed):
    assert probe(sandboxed, "pid1") == "lambdad"
    # init, the runtime's shell, and the few commands of the probe itself.
    assert int(probe(sandboxed, "nprocs")) < 10
    # A process of the host (this test runner) cannot be signalled: its pid
    # does not exist in there, or is someone else.
    assert probe(sandboxed, "kill", str(os.getpid())) == "no"


def test_host_files_are_out_of_reach(sandboxed):
    assert probe(sandboxed, "exists", "/etc/shadow") == "no"
    assert probe(sandboxed, "read", "/etc/shadow") == "no"
    # The project's own checkout (where this test runs) is not there.
    assert probe(sandboxed, "exists", str(HELPERS_SRC)) == "no"
    assert probe(sandboxed, "exists", "/root") == "no"


def test_code_is_read_only_and_tmp_is_writable(sandboxed, task):
    assert probe(sandboxed, "read", "/var/task/data.txt") == "yes"
    assert probe(sandboxed, "write", "/var/task/data.txt") == "no"
    assert probe(sandboxed, "write", "/var/task/new.txt") == "no"
    assert probe(sandboxed, "write", "/etc/passwd") == "no"
    assert probe(sandboxed, "write", "/tmp/scratch") == "yes"
    assert not (task / "new.txt").exists()
    assert (task / "data.txt").read_text() == "the function's own file\n"


def test_tmp_is_bounded_and_the_host_disk_untouched(emulate, task):
    # /tmp is a 512 MB tmpfs: a bigger file fails with ENOSPC inside. (Its
    # pages count against the memory limit, so the function gets more memory
    # than /tmp holds here; README, limitations.)
    em = emulate("bootstrap", task_root=task, sandbox=True, memory=1024, timeout=60)
    assert probe(em, "fill_tmp", "600") == "enospc"
    assert probe(em, "fill_tmp", "10") == "fit"


def test_mount_is_refused(sandboxed):
    assert probe(sandboxed, "mount") == "no"


def test_syscall_filter_is_on_and_denies_new_namespaces(sandboxed):
    assert probe(sandboxed, "seccomp") == "2"  # SECCOMP_MODE_FILTER
    # Creating a user namespace would hand the function capabilities inside
    # it; the filter refuses unshare whatever the host allows.
    assert probe(sandboxed, "unshare") == "no"


def test_environments_cannot_reach_each_other_or_the_host(emulate, task, tmp_path):
    a = emulate("bootstrap", task_root=task, sandbox=True)
    b = emulate("bootstrap", task_root=task, sandbox=True)
    # Each sees its own Runtime API on 127.0.0.1:9001 (its own loopback)...
    assert probe(a, "curl", "http://127.0.0.1:9001/2018-06-01/ping") == "yes"
    # ...but not the host's loopback: b's Invoke port is not there.
    assert probe(a, "curl", f"http://127.0.0.1:{b.port}/") == "no"
    # and no network but its own loopback yet (no packet can leave).
    assert probe(a, "ifaces").split() == ["lo"]


def test_hostile_bootstrap_outside_the_task_root_is_refused(lambdad, tmp_path):
    r = subprocess.run([lambdad, "emulate", "--listen", "127.0.0.1:0", "--task-root",
                        str(tmp_path), "--", "/opt/elsewhere/bootstrap"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "outside the task root" in r.stderr


def test_nothing_is_left_behind(emulate, task):
    em = emulate("bootstrap", task_root=task, sandbox=True)
    assert probe(em, "uid") == "993"
    init_pid = int(subprocess.run(["pgrep", "-P", str(em.proc.pid)], capture_output=True,
                                  text=True).stdout.split()[0])
    em.terminate(timeout=10)
    assert not os.path.exists(f"/proc/{init_pid}")
    with open("/proc/self/mountinfo") as f:
        assert "/run/lambdad/root" not in f.read()


def _start_emulate(lambdad, port, task, log):
    p = subprocess.Popen([lambdad, "emulate", "--listen", f"127.0.0.1:{port}", "--task-root",
                          str(task), "--", "bootstrap"], stdout=subprocess.DEVNULL, stderr=log,
                         start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            assert p.poll() is None, "emulate exited"
            time.sleep(0.05)
    p.kill()
    pytest.fail("emulate did not listen")


def _invoke(port, what):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", INVOKE_PATH, body=json.dumps({"probe": what}).encode())
    r = c.getresponse()
    return r.status, json.loads(r.read())


def _groups(port):
    return [d for d in glob.glob(f"/sys/fs/cgroup/*/lambdad-emulate-{port}")]


def test_kill_9_of_emulate_leaves_nothing_running_and_the_next_start_sweeps(lambdad, task,
                                                                             tmp_path):
    port = free_port()
    with open(tmp_path / "first.log", "wb") as log:
        first = _start_emulate(lambdad, port, task, log)
    try:
        assert _invoke(port, "uid") == (200, {"probe": "uid", "out": "993"})
        init_pid = int(subprocess.run(["pgrep", "-P", str(first.pid)], capture_output=True,
                                      text=True).stdout.split()[0])
    finally:
        first.kill()  # SIGKILL: emulate cannot clean up anything
        first.wait()
    # The environment dies with its parent (init's parent-death signal; init
    # is pid 1 of its namespace, so everything in it goes too).
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{init_pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{init_pid}")
    # Its cgroups are still there: nobody removed them...
    if not _groups(port):
        pytest.skip("no cgroup v1 hierarchy here")
    # ...until the next emulate on that port starts, sweeps them, and on a
    # clean stop removes its own.
    with open(tmp_path / "second.log", "wb") as log:
        second = _start_emulate(lambdad, port, task, log)
    try:
        assert _invoke(port, "uid") == (200, {"probe": "uid", "out": "993"})
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    assert _groups(port) == []
