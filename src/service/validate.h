/* service/validate.h: the checks Lambda applies to a request before acting on
 * it, for the control-plane operations that carry a JSON body and for Invoke.
 *
 * Each check takes the parsed body (jansson; NULL for an empty body) and
 * either returns 0 with a normalised copy the caller owns, or fills an
 * api_error (arn.h) with the error type, status and message Lambda gives. The
 * order is Lambda's: a member of the wrong JSON type (SerializationException)
 * before any model constraint (ValidationException, every violation in one
 * message), before the service's own rules (mostly
 * InvalidParameterValueException). Members the model does not know are
 * ignored, as AWS ignores them, and left out of the copy. Existence (of a
 * function, version, layer version, alias) is the registry's to check, not
 * this file's. Nothing here does I/O. */
#ifndef LD_SERVICE_VALIDATE_H
#define LD_SERVICE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "service/arn.h"

/* Limits from shared/spec (execution-environment.md §3, lambda-rest-api.md §4-5). */
#define VALIDATE_ZIP_MAX 52428800u          /* a ZipFile, decoded: 50 MB */
#define VALIDATE_ENV_MAX 4096u              /* Environment.Variables as JSON */
#define VALIDATE_LAYERS_MAX 5u
#define VALIDATE_INVOKE_SYNC_MAX 6291456u   /* any Invoke request body: 6 MB */
#define VALIDATE_INVOKE_EVENT_MAX 1048576u  /* an Event payload: 1 MB since Oct 2025 */
#define VALIDATE_CLIENT_CONTEXT_MAX 3583u   /* X-Amz-Client-Context, decoded */

/* What the service offers; borrowed for the duration of a call. */
struct validate_context {
    const char *const *runtimes;   /* supported runtime ids, NULL-terminated, in the order
                                    * the InvalidParameterValueException lists them */
    const char *arch;              /* the host's architecture: "x86_64" or "arm64" */
    const struct arn_scope *scope; /* region, account, caller: for ARNs in the body */
};

/* ---- control plane --------------------------------------------------------------
 * On success *out is a new object the caller must json_decref(); it may share
 * string values with body (reference-counted, never modified). On failure
 * *out is NULL and err is filled; err must be zeroed or arn_error_fini()ed. */

/* CreateFunction. The copy has every member the function needs, defaults
 * applied: FunctionName (the plain name, also from an ARN), Runtime, Role,
 * Handler, Code {ZipFile}, Description "", Timeout 3, MemorySize 128,
 * Publish false, PackageType "Zip", Architectures [the host's; "x86_64" on
 * the usual host, AWS's default], EphemeralStorage {Size 512}, TracingConfig
 * {Mode PassThrough}, SnapStart {ApplyOn None}, LoggingConfig {LogFormat Text,
 * LogGroup /aws/lambda/<name>} (JSON brings ApplicationLogLevel and
 * SystemLogLevel INFO); Environment {Variables}, Layers, VpcConfig,
 * DeadLetterConfig, KMSKeyArn and Tags only when given. */
int validate_create_function(const json_t *body, const struct validate_context *ctx,
                             json_t **out, struct api_error *err);

/* UpdateFunctionConfiguration: only the members given (Environment and Layers
 * replace the whole map/list; {} clears), sub-objects normalised, no defaults:
 * the caller merges them into $LATEST. */
int validate_update_function_configuration(const json_t *body,
                                           const struct validate_context *ctx, json_t **out,
                                           struct api_error *err);

/* UpdateFunctionCode: {ZipFile, Publish (false), DryRun (false), RevisionId?,
 * Architectures?}. */
int validate_update_function_code(const json_t *body, const struct validate_context *ctx,
                                  json_t **out, struct api_error *err);

/* PublishVersion: {CodeSha256?, Description?, RevisionId?} as given (an absent
 * Description means the function's). */
int validate_publish_version(const json_t *body, json_t **out, struct api_error *err);

/* CreateAlias: {Name, FunctionVersion, Description (""), RoutingConfig?}.
 * RoutingConfig is kept only when it has a weight. */
int validate_create_alias(const json_t *body, json_t **out, struct api_error *err);

/* UpdateAlias (Name is the path's: arn_check_alias_name()): the members given;
 * RoutingConfig {} or {AdditionalVersionWeights {}} clears the routing. With
 * no FunctionVersion in the body the caller must still refuse a weight for
 * the version the alias points to, and any weight on $LATEST. */
int validate_update_alias(const json_t *body, json_t **out, struct api_error *err);

/* PublishLayerVersion (LayerName is the path's: arn_resolve_layer_name()):
 * {Content {ZipFile}, Description (""), CompatibleRuntimes?,
 * CompatibleArchitectures?, LicenseInfo?}. CompatibleRuntimes may name any
 * runtime AWS knows, not only those ctx offers. */
int validate_publish_layer_version(const json_t *body, const struct validate_context *ctx,
                                   json_t **out, struct api_error *err);

/* ---- Invoke ------------------------------------------------------------------------ */

struct validate_invoke_request {
    const char *invocation_type; /* X-Amz-Invocation-Type; NULL when absent */
    const char *log_type;        /* X-Amz-Log-Type; NULL when absent */
    const char *client_context;  /* X-Amz-Client-Context (base64); NULL or "" when absent */
    size_t payload_len;          /* bytes of the request body */
};

enum validate_invocation_type {
    VALIDATE_INVOKE_REQUEST_RESPONSE,
    VALIDATE_INVOKE_EVENT,
    VALIDATE_INVOKE_DRY_RUN,
};

struct validate_invoke {
    enum validate_invocation_type type;
    bool tail;            /* LogType Tail on a RequestResponse invoke (ignored otherwise) */
    char *client_context; /* the decoded JSON object on one line; owned, free(); NULL when none */
};

/* The payload itself is not looked at: it is opaque bytes on the warm path.
 * Allocates only for a client context. */
int validate_invoke(const struct validate_invoke_request *rq, struct validate_invoke *out,
                    struct api_error *err);

#endif
