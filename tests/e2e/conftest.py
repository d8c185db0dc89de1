"""tests/e2e/conftest.py: runs a real `lambdad emulate` for each test.

Every test starts its own emulator on a free loopback port, with its own
runtime and extensions, and talks to it over HTTP the way the AWS runtime
interface emulator's clients do (POST /2015-03-31/functions/function/invocations).
Teardown stops it with SIGTERM, as a user would, and fails the test if it does
not exit or if the sanitizers of the ASan build reported anything.

Run: cd tests/e2e && LAMBDAD=/work/main/build/asan/lambdad /usr/bin/python3 -m pytest -q -p no:cacheprovider
(`make e2e` does exactly this). The helper runtimes come from `make helpers`.
"""

import os
import shutil

import pytest

from support import HELPERS_BIN, HELPERS_SRC, HOST_ONLY_VAR, SANITIZER_REPORT, Emulator, free_port


@pytest.fixture(scope="session")
def lambdad():
    path = os.environ.get("LAMBDAD")
    if not path:
        pytest.fail("LAMBDAD is not set: run e.g. `cd tests/e2e && "
                    "LAMBDAD=/work/main/build/asan/lambdad /usr/bin/python3 -m pytest -q "
                    "-p no:cacheprovider`, or `make e2e`", pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail(f"LAMBDAD={path} is not an executable file (make build/asan/lambdad)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def helpers():
    """build/helpers/, where `make helpers` puts the compiled helper programs."""
    if not (HELPERS_BIN / "c_runtime").is_file():
        pytest.fail(f"{HELPERS_BIN}/c_runtime is missing: run `make helpers`", pytrace=False)
    return HELPERS_BIN


@pytest.fixture(scope="session")
def c_runtime(helpers):
    return str(helpers / "c_runtime")


@pytest.fixture
def extensions_dir(tmp_path):
    """Returns add(*names): copies helper extensions into a fresh directory
    (executable, same file names) and returns that directory."""
    d = tmp_path / "extensions"
    d.mkdir()

    def add(*names):
        for name in names:
            shutil.copy(HELPERS_SRC / "extensions" / name, d / name)
            (d / name).chmod(0o755)
        return d

    return add


@pytest.fixture
def probe_task(tmp_path):
    """A task root holding tests/helpers/probe.sh as its bootstrap, as a
    user's zip would: the sandbox shows a function nothing outside it."""
    d = tmp_path / "task"
    d.mkdir()
    shutil.copy(HELPERS_SRC / "probe.sh", d / "bootstrap")
    (d / "bootstrap").chmod(0o755)
    (d / "data.txt").write_text("the function's own file\n")
    return d


@pytest.fixture
def emulate(lambdad, tmp_path):
    """Returns start(bootstrap, *args, **options) -> Emulator, listening.

    options: timeout, memory, handler, task_root, function_name,
    init_timeout (numbers/strings passed as the flags of the same name),
    env (dict, each becomes --env K=V), extensions_dir (default: an empty
    directory, so the machine's /opt/extensions never leaks in), extra_args,
    cwd (emulate's working directory, default tmp_path), sandbox (default
    False: --no-sandbox)."""
    started = []

    def start(bootstrap, *args, timeout=None, memory=None, handler=None, task_root=None,
              function_name=None, env=None, extensions_dir=None, init_timeout=None,
              extra_args=(), cwd=None, sandbox=False):
        workdir = tmp_path / f"emulate{len(started)}"
        workdir.mkdir()
        if extensions_dir is None:
            extensions_dir = workdir / "no-extensions"
            extensions_dir.mkdir()
        argv = [lambdad, "emulate", "--listen", f"127.0.0.1:{free_port()}",
                "--extensions-dir", str(extensions_dir)]
        # Most suites test the environment's APIs and lifecycle with runtimes
        # that live outside any task root; test_sandbox.py and the like ask
        # for the sandbox (emulate's default as root) explicitly.
        if not sandbox:
            argv.append("--no-sandbox")
        for flag, value in (("--timeout", timeout), ("--memory", memory),
                            ("--handler", handler), ("--task-root", task_root),
                            ("--function-name", function_name),
                            ("--init-timeout", init_timeout)):
            if value is not None:
                argv += [flag, str(value)]
        for k, v in (env or {}).items():
            argv += ["--env", f"{k}={v}"]
        argv += list(extra_args) + ["--", str(bootstrap)] + [str(a) for a in args]
        host_env = dict(os.environ, **{HOST_ONLY_VAR: "1"})
        em = Emulator(argv, cwd or tmp_path, workdir, host_env)
        started.append(em)
        em.wait_listening()
        return em

    yield start

    problems = []
    for em in started:
        rc = em.terminate(timeout=10)
        em.reap_leftovers()
        if rc is None:
            problems.append(f"{em.argv}: still running 10 s after SIGTERM")
        report = SANITIZER_REPORT.search(em.logs())
        if report:
            logs = em.logs()
            problems.append(f"sanitizer report in emulate's stderr:\n"
                            f"{logs[max(0, report.start() - 200):report.start() + 4000]}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
