"""The environment variables a runtime sees under emulate (and nothing from
emulate's own environment), and its working directory."""

import json
import os
import re

from support import HOST_ONLY_VAR


def runtime_env(em):
    return json.loads(em.invoke_ok({"action": "env"})[1])


def test_runtime_environment(emulate, c_runtime, tmp_path):
    task = tmp_path / "task"
    task.mkdir()
    em = emulate(c_runtime, task_root=task, handler="app.handler", function_name="env-fn",
                 memory=256, env={"FOO": "bar", "WITH_EQUALS": "a=b=c"})
    env = runtime_env(em)

    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}",
                        env["AWS_LAMBDA_LOG_STREAM_NAME"]), env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert os.path.realpath(env["LAMBDA_TASK_ROOT"]) == os.path.realpath(task)
    assert env["LAMBDA_RUNTIME_DIR"]
    assert env["TZ"] == ":UTC"
    assert env["LANG"]
    assert env["PATH"]
    assert env["FOO"] == "bar"
    assert env["WITH_EQUALS"] == "a=b=c"
    # The function gets Lambda's environment, not the host's.
    assert HOST_ONLY_VAR not in env


def test_selected_variables(emulate, c_runtime):
    em = emulate(c_runtime, env={"ONLY_THIS": "1"})
    _, body = em.invoke_ok({"action": "env", "names": ["ONLY_THIS", "NOT_SET_ANYWHERE"]})
    assert json.loads(body) == {"ONLY_THIS": "1", "NOT_SET_ANYWHERE": None}


def test_defaults_without_flags(emulate, c_runtime):
    env = runtime_env(emulate(c_runtime))
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "function"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/function"


def test_runtime_runs_in_task_root(emulate, c_runtime, tmp_path):
    task = tmp_path / "task"
    task.mkdir()
    em = emulate(c_runtime, task_root=task)
    _, body = em.invoke_ok({"action": "pid"})
    assert os.path.realpath(json.loads(body)["cwd"]) == os.path.realpath(task)
