"""An external extension's stdout and stderr are part of the environment's
log (extensions-api.md §3: captured as extension log lines): each line
reaches emulate's log verbatim, and a line written while an invoke runs
lands between that invoke's START and END."""

import re

from support import wait_report, write_extension

CHATTY = r'''
echo "$name: starting up"
register '["INVOKE","SHUTDOWN"]'
echo "$name: registered" >&2
while :; do
    next
    case $event in
    *'"SHUTDOWN"'*)
        exit 0
        ;;
    *'"INVOKE"'*)
        rid=$(printf '%s' "$event" | sed -n 's/.*"requestId" *: *"\([^"]*\)".*/\1/p')
        echo "$name: stdout during $rid"
        echo "$name: stderr during $rid" >&2
        ;;
    esac
done
'''


def test_extension_output_is_logged(emulate, c_runtime, tmp_path):
    ext = tmp_path / "ext"
    write_extension(ext, "chatty_ext", CHATTY)
    em = emulate(c_runtime, extensions_dir=ext)
    em.wait_log(r"^chatty_ext: starting up$")
    em.wait_log(r"^chatty_ext: registered$")
    rid, _ = em.invoke_ok(b"{}")
    # The invoke ends when the extension asks for its next event, that is
    # after it has printed both lines.
    report = wait_report(em, rid)
    start = em.wait_log(rf"^START RequestId: {re.escape(rid)} ")[0]
    end = em.wait_log(rf"^END RequestId: {re.escape(rid)}$")[0]
    for stream in ("stdout", "stderr"):
        line = em.wait_log(rf"^chatty_ext: {stream} during {re.escape(rid)}$")[0]
        assert start.start() < line.start() < end.start() < report.start(), stream
