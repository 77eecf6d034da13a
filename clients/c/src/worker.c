/* worker.c — baton.v1.WorkerService: the activity worker loop (poll, run the handler, complete or
 * fail) and heartbeats from inside a handler. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "baton/v1/worker_service.pb-c.h"
#include "internal.h"

#define WORKER_SERVICE "/baton.v1.WorkerService/"
#define DEFAULT_POLL_TIMEOUT_MS 30000

int baton_complete(baton_activity_result *result, const char *json_text) {
    if (!result) return 0;
    free(result->output_json);
    result->output_json = NULL;
    if (json_text && !(result->output_json = strdup(json_text)))
        return baton_fail(result, "OutOfMemory", 0, "the worker could not copy the output");
    return 0;
}

int baton_fail(baton_activity_result *result, const char *type, int non_retryable, const char *fmt, ...) {
    if (!result) return 1;
    bt_copy_text(result->failure_type, sizeof result->failure_type, type && type[0] ? type : "ActivityFailed");
    char text[BATON_FAILURE_MESSAGE_MAX * 2];
    text[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
    }
    bt_copy_text(result->failure_message, sizeof result->failure_message, text);
    result->non_retryable = non_retryable != 0;
    return 1;
}

int baton_heartbeat(baton_activity *activity, const char *details_json, int *cancel_requested, baton_error *err) {
    baton_error local;
    if (!err) err = &local;
    if (cancel_requested) *cancel_requested = 0;
    if (!activity || !activity->client_ || !activity->task_token)
        return bt_fail(err, BATON_ERR_USAGE, "baton_heartbeat: not an activity handed to a handler");
    Baton__V1__RecordHeartbeatRequest req = BATON__V1__RECORD_HEARTBEAT_REQUEST__INIT;
    req.task_token = (char *)activity->task_token;
    int rc = bt_optional_json(details_json, "heartbeat details", &req.details, err);
    if (rc != BATON_OK) return rc;
    Baton__V1__RecordHeartbeatResponse *resp = NULL;
    rc = bt_unary(activity->client_, WORKER_SERVICE "RecordHeartbeat", &req.base,
                  &baton__v1__record_heartbeat_response__descriptor, bt_call_timeout(activity->client_),
                  (ProtobufCMessage **)&resp, err);
    if (req.details) google__protobuf__value__free_unpacked(req.details, NULL);
    if (rc != BATON_OK) return rc;
    if (resp->cancel_requested) activity->cancel_requested = 1;
    if (cancel_requested) *cancel_requested = resp->cancel_requested != 0;
    baton__v1__record_heartbeat_response__free_unpacked(resp, NULL);
    return BATON_OK;
}

static int readable(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && p.revents != 0;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int complete_task(baton_client *c, const char *token, const Google__Protobuf__Value *output, baton_error *err) {
    Baton__V1__CompleteActivityTaskRequest req = BATON__V1__COMPLETE_ACTIVITY_TASK_REQUEST__INIT;
    req.task_token = (char *)token;
    req.output = (Google__Protobuf__Value *)output;
    ProtobufCMessage *resp = NULL;
    int rc = bt_unary(c, WORKER_SERVICE "CompleteActivityTask", &req.base,
                      &baton__v1__complete_activity_task_response__descriptor, bt_call_timeout(c), &resp, err);
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return rc;
}

static int fail_task(baton_client *c, const char *token, const char *type, const char *message, int non_retryable,
                     baton_error *err) {
    Baton__V1__Failure failure = BATON__V1__FAILURE__INIT;
    failure.type = (char *)type;
    failure.message = (char *)message;
    failure.non_retryable = non_retryable != 0;
    Baton__V1__FailActivityTaskRequest req = BATON__V1__FAIL_ACTIVITY_TASK_REQUEST__INIT;
    req.task_token = (char *)token;
    req.failure = &failure;
    ProtobufCMessage *resp = NULL;
    int rc = bt_unary(c, WORKER_SERVICE "FailActivityTask", &req.base,
                      &baton__v1__fail_activity_task_response__descriptor, bt_call_timeout(c), &resp, err);
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return rc;
}

/* Runs the handler for one task and reports the outcome. */
static int run_task(baton_client *c, const Baton__V1__PollActivityTaskResponse *task, baton_activity_fn handler,
                    void *user_data, baton_error *err) {
    char *input = NULL, *details = NULL;
    int rc = bt_print_optional(task->input, 0, &input, err);
    if (rc == BATON_OK) rc = bt_print_optional(task->heartbeat_details, 1, &details, err);
    if (rc != BATON_OK) {
        free(input);
        return rc;
    }
    baton_activity act;
    memset(&act, 0, sizeof act);
    act.workflow_id = task->workflow_id;
    act.step = task->step;
    act.activity = task->activity;
    act.attempt = task->attempt;
    act.idempotency_key = task->idempotency_key;
    act.input_json = input;
    act.heartbeat_details_json = details;
    act.deadline_ms = task->deadline ? task->deadline->seconds * 1000 + task->deadline->nanos / 1000000 : 0;
    act.heartbeat_timeout_ms =
        task->heartbeat_timeout
            ? (int)(task->heartbeat_timeout->seconds * 1000 + task->heartbeat_timeout->nanos / 1000000)
            : 0;
    act.task_token = task->task_token;
    act.client_ = c;

    baton_activity_result result;
    memset(&result, 0, sizeof result);
    int failed = handler(&act, user_data, &result);
    if (!failed) {
        baton_error json_err;
        Google__Protobuf__Value *output = NULL;
        if (bt_optional_json(result.output_json, "the activity's output", &output, &json_err) == BATON_OK) {
            rc = complete_task(c, task->task_token, output, err);
            if (output) google__protobuf__value__free_unpacked(output, NULL);
        } else {
            rc = fail_task(c, task->task_token, "InvalidOutput", json_err.message, 1, err);
        }
    } else {
        rc = fail_task(c, task->task_token, result.failure_type[0] ? result.failure_type : "ActivityFailed",
                       result.failure_message, result.non_retryable, err);
    }
    free(result.output_json);
    free(input);
    free(details);
    return rc;
}

int baton_worker_run(baton_client *c, const char *task_queue, baton_activity_fn handler, void *user_data,
                     const baton_worker_options *opts, baton_error *err) {
    baton_error local;
    if (!err) err = &local;
    baton_worker_options o;
    memset(&o, 0, sizeof o);
    if (opts) o = *opts;
    if (o.tasks_handled) *o.tasks_handled = 0;
    if (!c) return bt_fail(err, BATON_ERR_USAGE, "baton_worker_run: no client (NULL)");
    if (bt_require(task_queue, "task_queue", err)) return err->code;
    if (!handler) return bt_fail(err, BATON_ERR_USAGE, "baton_worker_run: handler is NULL");
    char identity[64];
    if (!o.identity || !o.identity[0]) {
        snprintf(identity, sizeof identity, "baton-c-%ld", (long)getpid());
        o.identity = identity;
    }
    int poll_ms = o.poll_timeout_ms > 0 ? o.poll_timeout_ms : DEFAULT_POLL_TIMEOUT_MS;
    int64_t end = o.run_timeout_ms > 0 ? mono_ms() + o.run_timeout_ms : 0;
    int handled = 0;
    for (;;) {
        if (o.stop && *o.stop) break;
        if (o.stop_fd > 0 && readable(o.stop_fd)) break;
        if (o.max_tasks > 0 && handled >= o.max_tasks) break;
        int wait = poll_ms;
        if (end) {
            int64_t left = end - mono_ms();
            if (left <= 0)
                return bt_fail(err, BATON_DEADLINE_EXCEEDED, "the worker ran for %d ms and handled %d of %d tasks",
                               o.run_timeout_ms, handled, o.max_tasks);
            if (left < wait) wait = (int)left;
        }
        Baton__V1__PollActivityTaskRequest req = BATON__V1__POLL_ACTIVITY_TASK_REQUEST__INIT;
        req.task_queue = (char *)task_queue;
        req.worker_identity = (char *)o.identity;
        Baton__V1__PollActivityTaskResponse *task = NULL;
        int previous = bt_set_interrupt_fd(c, o.stop_fd); /* only the poll is interrupted, never a report */
        int rc = bt_unary(c, WORKER_SERVICE "PollActivityTask", &req.base,
                          &baton__v1__poll_activity_task_response__descriptor, wait, (ProtobufCMessage **)&task, err);
        bt_set_interrupt_fd(c, previous);
        if (rc == BATON_CANCELLED && o.stop_fd > 0 && readable(o.stop_fd)) break;
        if (rc != BATON_OK) return rc;
        if (task->task_token[0] != '\0') {
            rc = run_task(c, task, handler, user_data, err);
            handled++;
            if (o.tasks_handled) *o.tasks_handled = handled;
        }
        baton__v1__poll_activity_task_response__free_unpacked(task, NULL);
        if (rc != BATON_OK) return rc;
    }
    return bt_ok(err);
}
