"""External extensions that fail (extensions-api.md §2.3, §4.1, §5): an
init/error during INIT, an exit/error during an invoke, an exit before
registering, more than 10 extensions. What the caller sees: the invoke
that triggered the failing INIT (or was running) fails with an
Extension.* error type; and once the extension behaves, the environment
recovers by itself.

The extensions are sh + curl scripts written into a per-test directory
(support.write_extension). "Fail the first N times" is counted in a file,
because every INIT starts the extension afresh."""

import json
import re

from support import write_extension

# Counts this process's INIT in $EXT_COUNT_FILE; true while it is one of the
# first $EXT_FAIL_TIMES.
FAILING_THIS_TIME = r'''
n=$(cat "$EXT_COUNT_FILE" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$EXT_COUNT_FILE"
failing() { [ "$n" -le "${EXT_FAIL_TIMES:-1000000}" ]; }
'''

# Registers, then serves events until SHUTDOWN.
BEHAVE = r'''
register '["INVOKE","SHUTDOWN"]'
echo "$name ready"
while :; do
    next
    case $event in *'"SHUTDOWN"'*) exit 0 ;; esac
done
'''

INIT_ERROR_EXT = FAILING_THIS_TIME + r'''
if failing; then
    register '["INVOKE","SHUTDOWN"]'
    echo "$name reporting an init error"
    curl -sS -o /dev/null -X POST "$api/init/error" -H "Lambda-Extension-Identifier: $id" \
        -H 'Lambda-Extension-Function-Error-Type: Extension.ConfigInvalid' \
        --data-binary '{"errorMessage":"bad config","errorType":"Extension.ConfigInvalid","stackTrace":[]}'
    # Every further call would fail: an extension exits after init/error.
    exit 0
fi
''' + BEHAVE

EXIT_ERROR_EXT = r'''
register '["INVOKE","SHUTDOWN"]'
echo "$name ready"
seen=0
while :; do
    next
    case $event in
    *'"SHUTDOWN"'*) exit 0 ;;
    *'"INVOKE"'*)
        # Fails on its $EXT_FAIL_ON_INVOKE-th INVOKE (counted per process,
        # so the process started by the reset behaves).
        seen=$((seen + 1))
        if [ "$seen" -eq "$EXT_FAIL_ON_INVOKE" ]; then
            echo "$name reporting an exit error"
            curl -sS -o /dev/null -X POST "$api/exit/error" -H "Lambda-Extension-Identifier: $id" \
                -H 'Lambda-Extension-Function-Error-Type: Extension.LostConnection' \
                --data-binary '{"errorMessage":"lost it","errorType":"Extension.LostConnection"}'
            exit 0
        fi
        ;;
    esac
done
'''

EXIT_BEFORE_REGISTER_EXT = FAILING_THIS_TIME + r'''
if failing; then
    echo "$name giving up before registering"
    exit 3
fi
''' + BEHAVE

IDLE_EXT = r'''
register '[]'
echo "$name idle"
while :; do next; done
'''

INIT_REPORT = r"^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: (init|invoke)\tStatus: error\tError Type: {}$"


def count(em):
    return json.loads(em.invoke_ok({"action": "count"})[1])["count"]


def test_init_error_fails_the_invoke(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    write_extension(ext, "init_error_ext", INIT_ERROR_EXT)
    em = emulate(c_runtime, extensions_dir=ext, env={"EXT_COUNT_FILE": tmp_path / "count"})
    rid, doc, _ = em.invoke_error(b'{"first":1}')
    assert doc["errorType"] == "Extension.InitError", doc
    em.wait_log(INIT_REPORT.format(r"Extension\.InitError"))
    # INIT is tried again for the next invoke, and fails the same way.
    _, doc, _ = em.invoke_error(b'{"second":2}')
    assert doc["errorType"] == "Extension.InitError", doc


def test_init_error_then_recovery(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    write_extension(ext, "init_error_ext", INIT_ERROR_EXT)
    # Fails the INIT at start-up and the one the first invoke re-runs.
    em = emulate(c_runtime, timeout=10, extensions_dir=ext,
                 env={"EXT_COUNT_FILE": tmp_path / "count", "EXT_FAIL_TIMES": "2"})
    _, doc, _ = em.invoke_error(b'{"first":1}')
    assert doc["errorType"] == "Extension.InitError", doc
    _, body = em.invoke_ok(b'{"second":2}')
    assert body == b'{"second":2}'
    em.wait_log(r"^init_error_ext ready$")


def test_exit_error_during_invoke_resets(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    write_extension(ext, "exit_error_ext", EXIT_ERROR_EXT)
    em = emulate(c_runtime, timeout=10, extensions_dir=ext, env={"EXT_FAIL_ON_INVOKE": "3"})
    em.wait_log(r"^exit_error_ext ready$")
    assert count(em) == 1
    assert count(em) == 2
    # The runtime takes 3 s, so the exit/error lands while the invoke runs.
    rid, doc, _ = em.invoke_error({"action": "sleep", "ms": 3000})
    assert doc["errorType"] == "Extension.ExitError", doc
    em.wait_log(r"^exit_error_ext reporting an exit error$")
    # Reset: extension and runtime start again, and the next invoke works.
    _, body = em.invoke_ok({"action": "count"})
    assert json.loads(body) == {"count": 1}
    em.wait_log(r"^exit_error_ext ready$", count=2)


def test_exit_before_registering(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    write_extension(ext, "early_exit_ext", EXIT_BEFORE_REGISTER_EXT)
    em = emulate(c_runtime, timeout=10, extensions_dir=ext,
                 env={"EXT_COUNT_FILE": tmp_path / "count", "EXT_FAIL_TIMES": "2"})
    _, doc, _ = em.invoke_error(b'{"first":1}')
    assert doc["errorType"] == "Extension.LaunchError", doc
    em.wait_log(INIT_REPORT.format(r"Extension\.LaunchError"))
    # Third INIT: it registers, and the environment works again.
    _, body = em.invoke_ok(b'{"second":2}')
    assert body == b'{"second":2}'
    em.wait_log(r"^early_exit_ext ready$")


def test_ten_extensions_are_allowed(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    for i in range(10):
        write_extension(ext, f"idle_{i:02d}", IDLE_EXT)
    em = emulate(c_runtime, timeout=20, init_timeout=30, extensions_dir=ext)
    rid, body = em.invoke_ok(b'{"ten":10}', timeout=120)
    assert body == b'{"ten":10}'
    em.wait_log(r"^EXTENSION\tName: idle_\d\d\tState: Ready\tEvents: \[\]$", count=10)


def test_eleven_extensions_fail_init(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    for i in range(11):
        write_extension(ext, f"idle_{i:02d}", IDLE_EXT)
    em = emulate(c_runtime, timeout=20, init_timeout=30, extensions_dir=ext)
    _, doc, _ = em.invoke_error(b"{}", timeout=120)
    # extensions-api.md §1 (at most 10) and §5: INIT fails and the invoke
    # with it, as an extension failure, saying why.
    assert doc["errorType"] in ("Extension.InitError", "Extension.Crash",
                                "Extension.LaunchError"), doc
    assert re.search(r"\b10\b", doc["errorMessage"]) and "limit" in doc["errorMessage"].lower(), doc
    assert "c_runtime: init" not in em.logs(), "the runtime started with 11 extensions"
