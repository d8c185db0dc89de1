"""AWS_LAMBDA_EXEC_WRAPPER (extensions-api.md §3): for a managed runtime
(any runtime id but provided*) the wrapper is exec'd instead of the
bootstrap, with the bootstrap and its arguments as its argv, and must exec
them itself; the OS-only provided.* runtimes ignore it. --runtime also sets
AWS_EXECUTION_ENV=AWS_Lambda_<id> for managed runtimes only
(execution-environment.md §2)."""

import json

WRAPPER = r'''#!/bin/sh
# Records its argv, one per line, then changes the environment the way
# real wrappers do (e.g. NODE_OPTIONS), and hands over to the runtime.
for a in "$0" "$@"; do printf '%s\n' "$a"; done > "$WRAPPER_ARGV_FILE"
export WRAPPED_BY=exec-wrapper
exec "$@"
'''


def make_wrapper(tmp_path):
    path = tmp_path / "wrapper.sh"
    path.write_text(WRAPPER)
    path.chmod(0o755)
    return path


def runtime_env(em, *names):
    _, body = em.invoke_ok({"action": "env", "names": list(names)})
    return json.loads(body)


def test_wrapper_runs_the_bootstrap_for_managed_runtimes(emulate, c_runtime, tmp_path):
    wrapper = make_wrapper(tmp_path)
    argv_file = tmp_path / "argv.txt"
    em = emulate(c_runtime, "first arg", "--flag=x",
                 env={"AWS_LAMBDA_EXEC_WRAPPER": wrapper, "WRAPPER_ARGV_FILE": argv_file},
                 extra_args=["--runtime", "nodejs20.x"])
    env = runtime_env(em, "WRAPPED_BY", "AWS_EXECUTION_ENV")
    # The runtime answering is the one the wrapper exec'd: it has the
    # wrapper's variable.
    assert env["WRAPPED_BY"] == "exec-wrapper", env
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x", env
    assert argv_file.read_text().splitlines() == [
        str(wrapper), str(c_runtime), "first arg", "--flag=x"]
    # Warm invokes go on in the same wrapped process.
    _, body = em.invoke_ok(b'{"wrapped":1}')
    assert body == b'{"wrapped":1}'


def test_provided_runtimes_ignore_the_wrapper(emulate, c_runtime, tmp_path):
    wrapper = make_wrapper(tmp_path)
    argv_file = tmp_path / "argv.txt"
    em = emulate(c_runtime, "first arg",
                 env={"AWS_LAMBDA_EXEC_WRAPPER": wrapper, "WRAPPER_ARGV_FILE": argv_file},
                 extra_args=["--runtime", "provided.al2023"])
    env = runtime_env(em, "WRAPPED_BY", "AWS_EXECUTION_ENV")
    assert env["WRAPPED_BY"] is None, env
    assert env["AWS_EXECUTION_ENV"] is None, env
    assert not argv_file.exists(), argv_file.read_text()


def test_no_runtime_id_no_execution_env(emulate, c_runtime):
    # Without --runtime it is a custom runtime: nothing claims to be managed,
    # and the variable is reserved (AWS refuses it in a function's
    # configuration), so the function's own value does not pass either.
    em = emulate(c_runtime, env={"AWS_EXECUTION_ENV": "AWS_Lambda_fake"})
    assert runtime_env(em, "AWS_EXECUTION_ENV")["AWS_EXECUTION_ENV"] is None


def test_wrapper_that_does_not_start_the_runtime(emulate, c_runtime, tmp_path):
    # "If the wrapper does not start the runtime, INIT fails" (§3): the
    # invoke fails as a runtime that exited.
    wrapper = tmp_path / "broken-wrapper.sh"
    wrapper.write_text("#!/bin/sh\necho 'wrapper: not today'\nexit 4\n")
    wrapper.chmod(0o755)
    em = emulate(c_runtime, env={"AWS_LAMBDA_EXEC_WRAPPER": wrapper},
                 extra_args=["--runtime", "python3.12"])
    _, doc, _ = em.invoke_error(b"{}")
    assert doc["errorType"] == "Runtime.ExitError", doc
    assert doc["errorMessage"].endswith("Runtime exited with error: exit status 4"), doc
    em.wait_log(r"^wrapper: not today$")
