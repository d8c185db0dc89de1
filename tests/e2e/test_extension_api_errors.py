"""What the Extensions API tells an extension that calls it wrongly
(extensions-api.md §2.1, §2.2): each refusal is a 403 with RIE's errorType,
the extension can still register properly afterwards, and the environment
works. Also the accountId feature of register.

The probing extension (sh + curl) makes its bad calls during INIT, before
registering, as a confused extension would, and records each answer with
`call` (support.EXTENSION_PRELUDE)."""

import json

from support import read_probes, write_extension

UNKNOWN_UUID = "11111111-2222-4333-8444-555555555555"

PROBE_EXT = r'''
R="$api/register"
J='Content-Type: application/json'
call register-no-name -m 10 -X POST "$R" -H "$J" --data-binary '{"events":["INVOKE"]}'
call register-empty-name -m 10 -X POST "$R" -H 'Lambda-Extension-Name;' -H "$J" \
    --data-binary '{"events":["INVOKE"]}'
call register-bogus-event -m 10 -X POST "$R" -H "Lambda-Extension-Name: $name" -H "$J" \
    --data-binary '{"events":["BOGUS"]}'
call register-lowercase-event -m 10 -X POST "$R" -H "Lambda-Extension-Name: $name" -H "$J" \
    --data-binary '{"events":["invoke"]}'
call next-no-id -m 10 "$api/event/next"
call next-not-uuid -m 10 -H 'Lambda-Extension-Identifier: not-a-uuid' "$api/event/next"
call next-unknown-id -m 10 -H "Lambda-Extension-Identifier: $EXT_UNKNOWN_UUID" "$api/event/next"

# After all that, a proper registration still works.
register '["INVOKE","SHUTDOWN"]' -H "Lambda-Extension-Accept-Feature: ${EXT_FEATURES:-}"
cp "$tmp/register" "$EXT_REGISTER_FILE"
call register-twice -m 10 -X POST "$R" -H "Lambda-Extension-Name: $name" -H "$J" \
    --data-binary '{"events":["INVOKE"]}'
echo "$name probed"
while :; do
    next
    case $event in *'"SHUTDOWN"'*) exit 0 ;; esac
done
'''


def start(emulate, c_runtime, tmp_path, features=""):
    ext = tmp_path / "ext"
    write_extension(ext, "probe_ext", PROBE_EXT)
    probes = tmp_path / "probes.txt"
    register_file = tmp_path / "register.json"
    em = emulate(c_runtime, function_name="probe-fn", handler="probe.handler", extensions_dir=ext,
                 env={"EXT_PROBES": probes, "EXT_REGISTER_FILE": register_file,
                      "EXT_UNKNOWN_UUID": UNKNOWN_UUID, "EXT_FEATURES": features})
    em.wait_log(r"^probe_ext probed$")
    # The environment is fine: the probes hurt nobody.
    _, body = em.invoke_ok(b'{"after":"probes"}')
    assert body == b'{"after":"probes"}'
    return em, read_probes(probes), json.loads(register_file.read_text())


def refused(probes, label, error_type):
    status, body = probes[label]
    assert status == 403, (label, status, body)
    doc = json.loads(body)
    assert doc["errorType"] == error_type, (label, doc)
    assert isinstance(doc.get("errorMessage"), str) and doc["errorMessage"], (label, doc)
    return doc


def test_register_refusals(emulate, c_runtime, tmp_path):
    _, probes, _ = start(emulate, c_runtime, tmp_path)
    refused(probes, "register-no-name", "Extension.InvalidExtensionName")
    refused(probes, "register-empty-name", "Extension.InvalidExtensionName")
    refused(probes, "register-bogus-event", "Extension.InvalidEventType")
    # Event names are exact upper case.
    refused(probes, "register-lowercase-event", "Extension.InvalidEventType")
    refused(probes, "register-twice", "Extension.InvalidExtensionState")


def test_next_refusals(emulate, c_runtime, tmp_path):
    _, probes, _ = start(emulate, c_runtime, tmp_path)
    refused(probes, "next-no-id", "Extension.MissingExtensionIdentifier")
    refused(probes, "next-not-uuid", "Extension.InvalidExtensionIdentifier")
    doc = refused(probes, "next-unknown-id", "Extension.UnknownExtensionIdentifier")
    assert UNKNOWN_UUID in doc["errorMessage"], doc


def test_register_without_features_has_no_account_id(emulate, c_runtime, tmp_path):
    _, _, register = start(emulate, c_runtime, tmp_path)
    assert register == {"functionName": "probe-fn", "functionVersion": "$LATEST",
                        "handler": "probe.handler"}


def test_account_id_feature(emulate, c_runtime, tmp_path):
    # Comma-separated, blanks trimmed, unknown names ignored (§2.1).
    _, _, register = start(emulate, c_runtime, tmp_path, features="someFutureThing , accountId ")
    assert register == {"functionName": "probe-fn", "functionVersion": "$LATEST",
                        "handler": "probe.handler", "accountId": "000000000000"}
