"""The documentation's classic sh + curl runtime: a new connection per
call and curl's own framing must work as well as a keep-alive client."""

import json

from support import HELPERS_SRC

SH_RUNTIME = HELPERS_SRC / "sh_runtime.sh"


def test_echo(emulate):
    em = emulate(SH_RUNTIME)
    for payload in (b'{"a":1}', b'{"lines":"one\\ntwo"}\n', b'{"action":"sleep","ms":200}'):
        _, body = em.invoke_ok(payload)
        assert body == payload


def test_error(emulate):
    em = emulate(SH_RUNTIME)
    _, _, raw = em.invoke_error({"action": "error"})
    assert raw == b'{"errorMessage":"sh boom","errorType":"ShError","stackTrace":[]}'
    _, body = em.invoke_ok(b'{"after":"error"}')
    assert body == b'{"after":"error"}'


def test_exit(emulate):
    em = emulate(SH_RUNTIME)
    rid, doc, _ = em.invoke_error({"action": "exit", "code": 5})
    assert doc == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 5",
    }
    _, body = em.invoke_ok(b'{"after":"exit"}')
    assert body == b'{"after":"exit"}'


def test_init_error(emulate):
    em = emulate(SH_RUNTIME, env={"SH_RUNTIME_INIT": "error"})
    _, doc, raw = em.invoke_error(b"{}")
    assert json.loads(raw) == {"errorMessage": "sh runtime cannot start",
                               "errorType": "Runtime.ImportModuleError", "stackTrace": []}
    em.wait_log(r"^sh_runtime: init failed, reporting it$")
