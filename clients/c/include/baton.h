/*
 * baton.h — the Baton C client: start workflows, signal, query, describe, await and stream
 * progress, and run activity workers, over gRPC (HTTP/2 cleartext, prior knowledge) with
 * libnghttp2 and libprotobuf-c.
 *
 * A baton_client is one TCP connection with one HTTP/2 session; it makes one call at a time and
 * blocks until the call ends (or its deadline passes). Use one client per thread. A client whose
 * connection dropped reconnects at its next call.
 *
 * Values (input, outputs, signal payloads, query answers) go in and out as JSON text: inputs are
 * checked and converted to google.protobuf.Value before anything is sent (a syntax error is
 * BATON_ERR_JSON naming the line and column); outputs are compact JSON text with object keys
 * sorted, allocated with malloc, that the caller frees with free().
 *
 * Every function that can fail returns 0 (BATON_OK) or an error code, and fills *err (which may be
 * NULL) with the code and a message: a gRPC status code from the server (1..16), or a client-side
 * code (BATON_ERR_*, 100 and up).
 *
 *     baton_error err;
 *     baton_client *c = baton_connect("127.0.0.1:7400", &err);
 *     if (!c) { fprintf(stderr, "%s: %s\n", baton_status_name(err.code), err.message); return 1; }
 *     char *id = NULL;
 *     if (baton_start(c, "three_step_echo", "{\"n\": 5}", NULL, &id, &err) == BATON_OK) {
 *         baton_workflow *run = NULL;
 *         if (baton_await(c, id, 30000, &run, &err) == BATON_OK) {
 *             printf("%s %s\n", baton_workflow_status_name(run->status), run->output_json);
 *             baton_workflow_free(run);
 *         }
 *         free(id);
 *     }
 *     baton_close(c);
 */
#ifndef BATON_H
#define BATON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------------------------ */

/** gRPC status codes (as the server sends them) and the client's own codes. */
enum baton_code {
    BATON_OK = 0,
    BATON_CANCELLED = 1,
    BATON_UNKNOWN = 2,
    BATON_INVALID_ARGUMENT = 3,
    BATON_DEADLINE_EXCEEDED = 4, /* also when the client's own deadline passes first */
    BATON_NOT_FOUND = 5,
    BATON_ALREADY_EXISTS = 6,
    BATON_PERMISSION_DENIED = 7,
    BATON_RESOURCE_EXHAUSTED = 8,
    BATON_FAILED_PRECONDITION = 9,
    BATON_ABORTED = 10,
    BATON_OUT_OF_RANGE = 11,
    BATON_UNIMPLEMENTED = 12,
    BATON_INTERNAL = 13,
    BATON_UNAVAILABLE = 14,
    BATON_DATA_LOSS = 15,
    BATON_UNAUTHENTICATED = 16,

    /* Client-side codes: nothing was answered by the server. */
    BATON_ERR_CONNECT = 100,   /* the address did not resolve, or the TCP connect failed */
    BATON_ERR_CONNECTION = 101, /* the connection broke or closed during a call */
    BATON_ERR_PROTOCOL = 102,  /* a malformed answer: HTTP/2, gRPC framing or protobuf */
    BATON_ERR_JSON = 103,      /* JSON text given to the client is invalid (position in message) */
    BATON_ERR_USAGE = 104,     /* the API was misused: a NULL argument, a call while one runs */
    BATON_ERR_NO_MEMORY = 105  /* an allocation failed */
};

#define BATON_ERROR_MESSAGE_MAX 1024

/** An error: a baton_code and a human-readable message (the server's grpc-message for server
 *  statuses, decoded; a description of what went wrong for client-side codes). */
typedef struct baton_error {
    int code;
    char message[BATON_ERROR_MESSAGE_MAX];
} baton_error;

/** The name of a code: "OK", "NOT_FOUND", ..., "CONNECT_FAILED", "JSON_SYNTAX", ...;
 *  "UNRECOGNIZED" for a code that is none of these. Never NULL. */
const char *baton_status_name(int code);

/* ---- connection ---------------------------------------------------------------------------- */

typedef struct baton_client baton_client;

/** Connects to "HOST:PORT" (or "[IPv6]:PORT") and starts an HTTP/2 session. NULL on failure, with
 *  *err set (BATON_ERR_CONNECT, BATON_ERR_USAGE for a malformed address). */
baton_client *baton_connect(const char *host_port, baton_error *err);

/** Closes the connection and frees the client. NULL is ignored. */
void baton_close(baton_client *client);

/** The deadline of each unary call (default 10000 ms). Long polls and awaits take their own. */
void baton_set_call_timeout(baton_client *client, int timeout_ms);


/* ---- workflows ------------------------------------------------------------------------------ */

/** Workflow run statuses (baton.v1.WorkflowStatus). */
enum baton_workflow_status {
    BATON_WORKFLOW_RUNNING = 1,
    BATON_WORKFLOW_COMPLETED = 2,
    BATON_WORKFLOW_FAILED = 3,
    BATON_WORKFLOW_CANCELLED = 4,
    BATON_WORKFLOW_TERMINATED = 5,
    BATON_WORKFLOW_COMPENSATED = 6,
    BATON_WORKFLOW_COMPENSATION_FAILED = 7,
    BATON_WORKFLOW_CORRUPTED = 8
};

/** Step statuses (baton.v1.StepStatus). */
enum baton_step_status {
    BATON_STEP_PENDING = 1,
    BATON_STEP_RUNNING = 2,
    BATON_STEP_RETRYING = 3,
    BATON_STEP_COMPLETED = 4,
    BATON_STEP_FAILED = 5,
    BATON_STEP_SKIPPED = 6,
    BATON_STEP_COMPENSATED = 7,
    BATON_STEP_CANCELLED = 8
};

/** "RUNNING", "COMPLETED", ...; "UNSPECIFIED" for anything else. */
const char *baton_workflow_status_name(int status);
/** "PENDING", "RUNNING", ...; "UNSPECIFIED" for anything else. */
const char *baton_step_status_name(int status);

/** Registers a definition given as YAML or JSON text (as in a definition file). *version_out
 *  (may be NULL) receives the version: a new one when the content changed, else the existing. */
int baton_register_definition(baton_client *client, const char *source, int *version_out,
                              baton_error *err);

/** What StartWorkflow does when the workflow id is taken (baton.v1.WorkflowIdReusePolicy). */
enum baton_id_reuse_policy {
    BATON_REUSE_DEFAULT = 0,          /* return the open run; start anew after it closed */
    BATON_REUSE_RETURN_EXISTING = 1,  /* always return the existing run */
    BATON_REUSE_REJECT = 2,           /* BATON_ALREADY_EXISTS */
    BATON_REUSE_ALLOW_AFTER_CLOSE = 3
};

/** Optional settings of baton_start; zero-initialize and set what you need. */
typedef struct baton_start_options {
    const char *workflow_id; /* NULL or "": generated by the server */
    int version;             /* 0: the latest version of the definition */
    int id_reuse_policy;     /* enum baton_id_reuse_policy */
} baton_start_options;

/** Starts a run of `definition` with `input_json` (JSON text; NULL for no input). opts may be NULL.
 *  *workflow_id_out (may be NULL) receives the run's workflow id (free() it). */
int baton_start(baton_client *client, const char *definition, const char *input_json,
                const baton_start_options *opts, char **workflow_id_out, baton_error *err);

/** Sends signal `name` with `payload_json` (JSON text; NULL for none) to a run. `request_id` (may be
 *  NULL) deduplicates: a repeat is accepted and ignored. BATON_FAILED_PRECONDITION for a closed run. */
int baton_signal(baton_client *client, const char *workflow_id, const char *name,
                 const char *payload_json, const char *request_id, baton_error *err);

/** Runs a query ("progress", "state", "steps", "output" or one the definition names); *result_json
 *  receives the answer as JSON text (free() it). */
int baton_query(baton_client *client, const char *workflow_id, const char *query, char **result_json,
                baton_error *err);

/** Asks a run to stop: running activities see cancel_requested in their next heartbeat. */
int baton_cancel(baton_client *client, const char *workflow_id, const char *reason, baton_error *err);

/** Stops a run at once: nothing more runs, no compensation. */
int baton_terminate(baton_client *client, const char *workflow_id, const char *reason, baton_error *err);

/** One step of a described run. Strings are never NULL ("" when unset) unless said otherwise. */
typedef struct baton_step {
    const char *name;
    int status;            /* enum baton_step_status */
    int attempts;
    const char *kind;      /* "activity", "wait_for_signal", "sleep", ... */
    const char *activity;  /* the activity type of an activity step */
    const char *phase;
    char *output_json;     /* NULL unless the step completed with an output */
    const char *failure_type;    /* NULL unless an attempt failed */
    const char *failure_message; /* NULL unless an attempt failed */
} baton_step;

/** A described run (DescribeWorkflow, AwaitWorkflow). Free with baton_workflow_free. */
typedef struct baton_workflow {
    const char *workflow_id;
    const char *run_id;
    const char *definition;
    int version;
    int status;                 /* enum baton_workflow_status */
    int64_t start_time_ms;      /* Unix time in milliseconds */
    int64_t close_time_ms;      /* 0 while the run is open */
    char *input_json;           /* NULL when the server sent no input (or "null") */
    char *output_json;          /* NULL until the run completed */
    const char *failure_type;   /* NULL unless the run failed */
    const char *failure_message;
    const char *failure_step;   /* "" when the failure belongs to no step */
    size_t step_count;
    baton_step *steps;          /* in definition order */
    void *internal_;
} baton_workflow;

/** Frees a description (NULL is ignored). */
void baton_workflow_free(baton_workflow *workflow);

/** Describes a run (status, input, output, failure, steps). *out: free with baton_workflow_free. */
int baton_describe(baton_client *client, const char *workflow_id, baton_workflow **out, baton_error *err);

/** Waits until the run closes, at most timeout_ms (0: as long as the run takes), and describes it.
 *  BATON_DEADLINE_EXCEEDED when the run is still open at the deadline. A closed run answers at once.
 *  *out: free with baton_workflow_free. */
int baton_await(baton_client *client, const char *workflow_id, int timeout_ms, baton_workflow **out,
                baton_error *err);

/** A progress update. Every pointer is valid only during the callback. */
typedef struct baton_progress {
    const char *workflow_id;
    int status;                 /* enum baton_workflow_status */
    double percentage;          /* 0..100 */
    const char *current_phase;  /* "" when none */
    size_t running_count;   const char *const *running_steps;
    size_t completed_count; const char *const *completed_steps;
    size_t failed_count;    const char *const *failed_steps;
    size_t skipped_count;   const char *const *skipped_steps;
    size_t attempts_count;                       /* steps with attempts ... */
    const char *const *attempt_steps;            /* ... their names (sorted) ... */
    const int *attempt_counts;                   /* ... and their attempts so far */
    size_t waiting_count;                        /* steps waiting for a signal ... */
    const char *const *waiting_steps;            /* ... their names (sorted) ... */
    const char *const *waiting_signals;          /* ... and the signal each waits for */
    double elapsed_seconds;
    double eta_seconds;         /* < 0 when unknown */
    const char *eta_until_signal; /* "" when the ETA runs to the end */
    int64_t event_id;           /* resume a stream after this event id */
} baton_progress;

/** Called once per progress update; return 0 to go on, non-zero to stop the stream. */
typedef int (*baton_progress_fn)(const baton_progress *progress, void *user_data);

/** Streams a run's progress: a snapshot first, then one update per change, until the run closes
 *  (then returns BATON_OK), the callback asks to stop (BATON_OK), or timeout_ms passes (0: no limit;
 *  BATON_DEADLINE_EXCEEDED). after_event_id resumes a stream (0: from a snapshot). The callback must
 *  not use this client (it is busy with the stream); other clients are fine. */
int baton_stream_progress(baton_client *client, const char *workflow_id, int64_t after_event_id,
                          int timeout_ms, baton_progress_fn callback, void *user_data, baton_error *err);

/* ---- workers ------------------------------------------------------------------------------- */

/** An activity attempt handed to a handler. Pointers are valid during the handler call. */
typedef struct baton_activity {
    const char *workflow_id;
    const char *step;
    const char *activity;        /* the activity type, e.g. "research.market" */
    int attempt;                 /* 1, 2, ... */
    const char *idempotency_key; /* "workflow_id/step/attempt" */
    const char *input_json;      /* never NULL: "null" without input */
    const char *heartbeat_details_json; /* NULL unless an earlier attempt heartbeated details */
    int64_t deadline_ms;         /* Unix ms the attempt must be done by; 0 when none */
    int heartbeat_timeout_ms;    /* heartbeat at least this often; 0 when not required */
    const char *task_token;
    int cancel_requested;        /* set by baton_heartbeat when the run was cancelled */
    baton_client *client_;
} baton_activity;

#define BATON_FAILURE_TYPE_MAX 128
#define BATON_FAILURE_MESSAGE_MAX 1024

/** What a handler reports. Zero-initialized by the worker before each call. */
typedef struct baton_activity_result {
    char *output_json;  /* on success: JSON text from malloc (the worker frees it); NULL: no output */
    char failure_type[BATON_FAILURE_TYPE_MAX];       /* on failure: "" becomes "ActivityFailed" */
    char failure_message[BATON_FAILURE_MESSAGE_MAX];
    int non_retryable;  /* on failure: no further attempts whatever the retry policy says */
} baton_activity_result;

/** A handler: run the activity, return 0 to complete it with result->output_json, or non-zero to
 *  fail it with result->failure_* (see baton_complete and baton_fail). */
typedef int (*baton_activity_fn)(baton_activity *activity, void *user_data,
                                 baton_activity_result *result);

/** Sets result->output_json to a copy of json_text (NULL: no output); returns 0, the handler's
 *  "complete" value (or 1 with an OutOfMemory failure if the copy fails). */
int baton_complete(baton_activity_result *result, const char *json_text);

/** Fills the failure (printf-style message) and returns 1, the handler's "fail" value. */
int baton_fail(baton_activity_result *result, const char *type, int non_retryable, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/** Records a heartbeat for the attempt, with optional details (JSON text, handed to a later attempt
 *  as heartbeat_details_json). *cancel_requested (may be NULL) and activity->cancel_requested
 *  become 1 when the run was cancelled: stop and fail with type "Cancelled". */
int baton_heartbeat(baton_activity *activity, const char *details_json, int *cancel_requested,
                    baton_error *err);

/** Settings of baton_worker_run; zero-initialize and set what you need. */
typedef struct baton_worker_options {
    const char *identity;  /* shown in history and logs; default "baton-c-<pid>" */
    int poll_timeout_ms;   /* deadline of each long poll; default 30000 */
    int max_tasks;         /* return BATON_OK after this many tasks; 0: no limit */
    int run_timeout_ms;    /* return BATON_DEADLINE_EXCEEDED after this long; 0: no limit */
    const volatile sig_atomic_t *stop; /* return BATON_OK once *stop is non-zero (checked between
                                          polls, so within poll_timeout_ms) */
    int stop_fd;           /* when > 0: return BATON_OK as soon as this descriptor is readable (e.g.
                              the read end of a pipe another thread or a signal handler writes to);
                              a poll in progress is abandoned, a task in hand is finished first */
    int *tasks_handled;    /* when set, receives the number of tasks handled */
} baton_worker_options;

/** Polls `task_queue` and runs `handler` for each task, completing or failing it, until max_tasks,
 *  *stop, stop_fd, run_timeout_ms, or an error of a call (returned; the task in hand, if any, is then
 *  left to the server's lease timeout). An output that is not valid JSON fails the attempt
 *  (type InvalidOutput, non-retryable). */
int baton_worker_run(baton_client *client, const char *task_queue, baton_activity_fn handler,
                     void *user_data, const baton_worker_options *opts, baton_error *err);

/* ---- JSON ------------------------------------------------------------------------------------ */

/** Parses JSON text into google.protobuf.Value and prints it back as the client prints values
 *  (compact, keys sorted, integers without ".0"). *out: free() it. BATON_ERR_JSON on bad input. */
int baton_json_normalize(const char *json_text, char **out, baton_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BATON_H */
