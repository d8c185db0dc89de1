"""The CPUs an environment runs on: as many as Lambda gives for the memory
(one per 1,769 MB, at least one), unless --cpus says otherwise."""

import json
import os
import stat
import subprocess

import pytest

# A runtime that answers every invoke with the CPUs it may run on.
CPU_RUNTIME = r"""#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
h=$(mktemp)
while :; do
    curl -sS -o /dev/null -D "$h" "$api/next"
    id=$(sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\([^\r]*\).*/\1/p' "$h")
    cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
    curl -sS -o /dev/null -X POST "$api/$id/response" -d "{\"cpus\":\"$cpus\"}"
done
"""


def expand(cpulist):
    cpus = set()
    for part in cpulist.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


@pytest.fixture
def cpu_runtime(tmp_path):
    path = tmp_path / "cpu_runtime.sh"
    path.write_text(CPU_RUNTIME)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def cpus_seen(em):
    return expand(json.loads(em.invoke_ok({})[1])["cpus"])


def test_small_function_gets_one_cpu(emulate, cpu_runtime):
    allowed = os.sched_getaffinity(0)
    em = emulate(cpu_runtime, memory=128)
    seen = cpus_seen(em)
    assert len(seen) == 1
    assert seen <= allowed
    # The last allowed CPU, leaving CPU 0 to everything else.
    assert seen == {max(allowed)}


def test_memory_buys_more_cpus(emulate, cpu_runtime):
    allowed = os.sched_getaffinity(0)
    em = emulate(cpu_runtime, memory=3538)  # two vCPUs' worth on Lambda
    assert cpus_seen(em) == set(sorted(allowed)[-2:])


def test_cpus_flag_overrides(emulate, cpu_runtime):
    allowed = os.sched_getaffinity(0)
    em = emulate(cpu_runtime, extra_args=["--cpus", "all"])
    assert cpus_seen(em) == allowed
    em2 = emulate(cpu_runtime, extra_args=["--cpus", str(min(allowed))])
    assert cpus_seen(em2) == {min(allowed)}


def test_bad_cpus_flag_is_refused(lambdad, tmp_path):
    r = subprocess.run([lambdad, "emulate", "--no-sandbox", "--cpus", "1-", "--", "true"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert "--cpus" in r.stderr
