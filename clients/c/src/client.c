/* client.c — baton.v1.WorkflowService: definitions, runs, signals, queries, descriptions, awaiting
 * and progress streams. */
#include <stdlib.h>
#include <string.h>

#include "baton/v1/workflow_service.pb-c.h"
#include "internal.h"

#define WORKFLOW_SERVICE "/baton.v1.WorkflowService/"

/* A local error when the caller passed none: the functions below read err->code. */
#define LOCAL_ERROR(err)                                                                                  \
    baton_error local_error_;                                                                             \
    if (!(err)) (err) = &local_error_

int baton_register_definition(baton_client *c, const char *source, int *version_out, baton_error *err) {
    LOCAL_ERROR(err);
    if (bt_require(source, "source", err)) return err->code;
    Baton__V1__RegisterDefinitionRequest req = BATON__V1__REGISTER_DEFINITION_REQUEST__INIT;
    req.definition_case = BATON__V1__REGISTER_DEFINITION_REQUEST__DEFINITION_SOURCE;
    req.source = (char *)source;
    Baton__V1__RegisterDefinitionResponse *resp = NULL;
    int rc = bt_unary(c, WORKFLOW_SERVICE "RegisterDefinition", &req.base,
                      &baton__v1__register_definition_response__descriptor, c ? bt_call_timeout(c) : 0,
                      (ProtobufCMessage **)&resp, err);
    if (rc != BATON_OK) return rc;
    if (version_out) *version_out = resp->definition ? resp->definition->version : 0;
    baton__v1__register_definition_response__free_unpacked(resp, NULL);
    return BATON_OK;
}

int baton_start(baton_client *c, const char *definition, const char *input_json, const baton_start_options *opts,
                char **workflow_id_out, baton_error *err) {
    LOCAL_ERROR(err);
    if (workflow_id_out) *workflow_id_out = NULL;
    if (bt_require(definition, "definition", err)) return err->code;
    Baton__V1__StartWorkflowRequest req = BATON__V1__START_WORKFLOW_REQUEST__INIT;
    req.definition = (char *)definition;
    if (opts) {
        if (opts->workflow_id) req.workflow_id = (char *)opts->workflow_id;
        req.version = opts->version;
        req.id_reuse_policy = (Baton__V1__WorkflowIdReusePolicy)opts->id_reuse_policy;
    }
    int rc = bt_optional_json(input_json, "input", &req.input, err);
    if (rc != BATON_OK) return rc;
    Baton__V1__StartWorkflowResponse *resp = NULL;
    rc = bt_unary(c, WORKFLOW_SERVICE "StartWorkflow", &req.base, &baton__v1__start_workflow_response__descriptor,
                  c ? bt_call_timeout(c) : 0, (ProtobufCMessage **)&resp, err);
    if (req.input) google__protobuf__value__free_unpacked(req.input, NULL);
    if (rc != BATON_OK) return rc;
    if (workflow_id_out && !(*workflow_id_out = strdup(resp->workflow_id)))
        rc = bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
    baton__v1__start_workflow_response__free_unpacked(resp, NULL);
    return rc;
}

int baton_signal(baton_client *c, const char *workflow_id, const char *name, const char *payload_json,
                 const char *request_id, baton_error *err) {
    LOCAL_ERROR(err);
    if (bt_require(workflow_id, "workflow_id", err) || bt_require(name, "signal name", err)) return err->code;
    Baton__V1__SignalRequest req = BATON__V1__SIGNAL_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    req.name = (char *)name;
    if (request_id) req.request_id = (char *)request_id;
    int rc = bt_optional_json(payload_json, "payload", &req.payload, err);
    if (rc != BATON_OK) return rc;
    Baton__V1__SignalResponse *resp = NULL;
    rc = bt_unary(c, WORKFLOW_SERVICE "Signal", &req.base, &baton__v1__signal_response__descriptor,
                  c ? bt_call_timeout(c) : 0, (ProtobufCMessage **)&resp, err);
    if (req.payload) google__protobuf__value__free_unpacked(req.payload, NULL);
    if (resp) baton__v1__signal_response__free_unpacked(resp, NULL);
    return rc;
}

int baton_query(baton_client *c, const char *workflow_id, const char *query, char **result_json, baton_error *err) {
    LOCAL_ERROR(err);
    if (result_json) *result_json = NULL;
    if (bt_require(workflow_id, "workflow_id", err) || bt_require(query, "query", err)) return err->code;
    Baton__V1__QueryRequest req = BATON__V1__QUERY_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    req.query = (char *)query;
    Baton__V1__QueryResponse *resp = NULL;
    int rc = bt_unary(c, WORKFLOW_SERVICE "Query", &req.base, &baton__v1__query_response__descriptor,
                      c ? bt_call_timeout(c) : 0, (ProtobufCMessage **)&resp, err);
    if (rc != BATON_OK) return rc;
    if (result_json) rc = bt_print_optional(resp->result, 0, result_json, err);
    baton__v1__query_response__free_unpacked(resp, NULL);
    return rc;
}

int baton_cancel(baton_client *c, const char *workflow_id, const char *reason, baton_error *err) {
    LOCAL_ERROR(err);
    if (bt_require(workflow_id, "workflow_id", err)) return err->code;
    Baton__V1__CancelWorkflowRequest req = BATON__V1__CANCEL_WORKFLOW_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    if (reason) req.reason = (char *)reason;
    ProtobufCMessage *resp = NULL;
    int rc = bt_unary(c, WORKFLOW_SERVICE "CancelWorkflow", &req.base, &baton__v1__cancel_workflow_response__descriptor,
                      c ? bt_call_timeout(c) : 0, &resp, err);
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return rc;
}

int baton_terminate(baton_client *c, const char *workflow_id, const char *reason, baton_error *err) {
    LOCAL_ERROR(err);
    if (bt_require(workflow_id, "workflow_id", err)) return err->code;
    Baton__V1__TerminateWorkflowRequest req = BATON__V1__TERMINATE_WORKFLOW_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    if (reason) req.reason = (char *)reason;
    ProtobufCMessage *resp = NULL;
    int rc = bt_unary(c, WORKFLOW_SERVICE "TerminateWorkflow", &req.base,
                      &baton__v1__terminate_workflow_response__descriptor, c ? bt_call_timeout(c) : 0, &resp, err);
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return rc;
}

/* ---- descriptions ---- */

static int64_t timestamp_ms(const Google__Protobuf__Timestamp *t) {
    return t ? t->seconds * 1000 + t->nanos / 1000000 : 0;
}

void baton_workflow_free(baton_workflow *w) {
    if (!w) return;
    for (size_t i = 0; i < w->step_count; i++) free(w->steps[i].output_json);
    free(w->steps);
    free(w->input_json);
    free(w->output_json);
    if (w->internal_) baton__v1__workflow_description__free_unpacked(w->internal_, NULL);
    free(w);
}

/* Builds a baton_workflow that owns `d` (freed with it, also on failure). */
static int to_workflow(Baton__V1__WorkflowDescription *d, baton_workflow **out, baton_error *err) {
    baton_workflow *w = calloc(1, sizeof *w);
    if (!w) {
        baton__v1__workflow_description__free_unpacked(d, NULL);
        return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
    }
    w->internal_ = d;
    const Baton__V1__WorkflowInfo *info = d->info;
    w->workflow_id = info ? info->workflow_id : "";
    w->run_id = info ? info->run_id : "";
    w->definition = info && info->definition ? info->definition->name : "";
    w->version = info && info->definition ? info->definition->version : 0;
    w->status = info ? (int)info->status : 0;
    w->start_time_ms = info ? timestamp_ms(info->start_time) : 0;
    w->close_time_ms = info ? timestamp_ms(info->close_time) : 0;
    if (d->failure) {
        w->failure_type = d->failure->type;
        w->failure_message = d->failure->message;
        w->failure_step = d->failure->step;
    }
    int rc = bt_print_optional(d->input, 1, &w->input_json, err);
    if (rc == BATON_OK) rc = bt_print_optional(d->output, 1, &w->output_json, err);
    if (rc == BATON_OK && d->n_steps > 0) {
        w->steps = calloc(d->n_steps, sizeof *w->steps);
        if (!w->steps) rc = bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; rc == BATON_OK && i < d->n_steps; i++) {
        const Baton__V1__StepInfo *s = d->steps[i];
        baton_step *step = &w->steps[i];
        w->step_count = i + 1;
        step->name = s->name;
        step->status = (int)s->status;
        step->attempts = s->attempts;
        step->kind = s->kind;
        step->activity = s->activity;
        step->phase = s->phase;
        if (s->last_failure) {
            step->failure_type = s->last_failure->type;
            step->failure_message = s->last_failure->message;
        }
        rc = bt_print_optional(s->output, 1, &step->output_json, err);
    }
    if (rc != BATON_OK) {
        baton_workflow_free(w);
        return rc;
    }
    *out = w;
    return BATON_OK;
}

int baton_describe(baton_client *c, const char *workflow_id, baton_workflow **out, baton_error *err) {
    LOCAL_ERROR(err);
    if (!out) return bt_fail(err, BATON_ERR_USAGE, "baton_describe: out is NULL");
    *out = NULL;
    if (bt_require(workflow_id, "workflow_id", err)) return err->code;
    Baton__V1__DescribeWorkflowRequest req = BATON__V1__DESCRIBE_WORKFLOW_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    Baton__V1__DescribeWorkflowResponse *resp = NULL;
    int rc = bt_unary(c, WORKFLOW_SERVICE "DescribeWorkflow", &req.base,
                      &baton__v1__describe_workflow_response__descriptor, c ? bt_call_timeout(c) : 0,
                      (ProtobufCMessage **)&resp, err);
    if (rc != BATON_OK) return rc;
    Baton__V1__WorkflowDescription *d = resp->workflow;
    resp->workflow = NULL;
    baton__v1__describe_workflow_response__free_unpacked(resp, NULL);
    if (!d) return bt_fail(err, BATON_ERR_PROTOCOL, "DescribeWorkflow answered without a workflow");
    return to_workflow(d, out, err);
}

int baton_await(baton_client *c, const char *workflow_id, int timeout_ms, baton_workflow **out, baton_error *err) {
    LOCAL_ERROR(err);
    if (!out) return bt_fail(err, BATON_ERR_USAGE, "baton_await: out is NULL");
    *out = NULL;
    if (bt_require(workflow_id, "workflow_id", err)) return err->code;
    Baton__V1__AwaitWorkflowRequest req = BATON__V1__AWAIT_WORKFLOW_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    Baton__V1__AwaitWorkflowResponse *resp = NULL;
    int rc = bt_unary(c, WORKFLOW_SERVICE "AwaitWorkflow", &req.base, &baton__v1__await_workflow_response__descriptor,
                      timeout_ms > 0 ? timeout_ms : 0, (ProtobufCMessage **)&resp, err);
    if (rc != BATON_OK) return rc;
    Baton__V1__WorkflowDescription *d = resp->workflow;
    resp->workflow = NULL;
    baton__v1__await_workflow_response__free_unpacked(resp, NULL);
    if (!d) return bt_fail(err, BATON_ERR_PROTOCOL, "AwaitWorkflow answered without a workflow");
    return to_workflow(d, out, err);
}

/* ---- progress ---- */

typedef struct stream_state {
    baton_progress_fn fn;
    void *user_data;
} stream_state;

static double duration_seconds(const Google__Protobuf__Duration *d) {
    return (double)d->seconds + (double)d->nanos / 1e9;
}

static int cmp_signal_entries(const void *a, const void *b) {
    const Baton__V1__Progress__WaitingForSignalsEntry *x = *(Baton__V1__Progress__WaitingForSignalsEntry *const *)a;
    const Baton__V1__Progress__WaitingForSignalsEntry *y = *(Baton__V1__Progress__WaitingForSignalsEntry *const *)b;
    return strcmp(x->key, y->key);
}

static int cmp_attempt_entries(const void *a, const void *b) {
    const Baton__V1__Progress__AttemptsEntry *x = *(Baton__V1__Progress__AttemptsEntry *const *)a;
    const Baton__V1__Progress__AttemptsEntry *y = *(Baton__V1__Progress__AttemptsEntry *const *)b;
    return strcmp(x->key, y->key);
}

static int on_progress(const uint8_t *data, size_t len, void *ud, baton_error *err) {
    stream_state *st = ud;
    Baton__V1__Progress *p = baton__v1__progress__unpack(NULL, len, data);
    if (!p) return bt_fail(err, BATON_ERR_PROTOCOL, "a progress update is not a valid baton.v1.Progress (%zu bytes)", len);
    baton_progress view;
    memset(&view, 0, sizeof view);
    view.workflow_id = p->workflow_id;
    view.status = (int)p->status;
    view.percentage = p->percentage;
    view.current_phase = p->current_phase;
    view.running_count = p->n_running_steps, view.running_steps = (const char *const *)p->running_steps;
    view.completed_count = p->n_completed_steps, view.completed_steps = (const char *const *)p->completed_steps;
    view.failed_count = p->n_failed_steps, view.failed_steps = (const char *const *)p->failed_steps;
    view.skipped_count = p->n_skipped_steps, view.skipped_steps = (const char *const *)p->skipped_steps;
    view.elapsed_seconds = p->elapsed ? duration_seconds(p->elapsed) : 0;
    view.eta_seconds = p->eta ? duration_seconds(p->eta) : -1;
    view.eta_until_signal = p->eta_until_signal;
    view.event_id = p->event_id;
    /* The two maps as sorted parallel arrays, in one allocation. */
    size_t nw = p->n_waiting_for_signals, na = p->n_attempts;
    void *block = NULL;
    if (nw + na > 0) {
        block = malloc((2 * nw + na) * sizeof(const char *) + na * sizeof(int));
        if (!block) {
            baton__v1__progress__free_unpacked(p, NULL);
            return bt_fail(err, BATON_ERR_NO_MEMORY, "out of memory");
        }
        const char **names = block;
        int *counts = (int *)(names + 2 * nw + na);
        qsort(p->waiting_for_signals, nw, sizeof *p->waiting_for_signals, cmp_signal_entries);
        for (size_t i = 0; i < nw; i++) {
            names[i] = p->waiting_for_signals[i]->key;
            names[nw + i] = p->waiting_for_signals[i]->value;
        }
        qsort(p->attempts, na, sizeof *p->attempts, cmp_attempt_entries);
        for (size_t i = 0; i < na; i++) {
            names[2 * nw + i] = p->attempts[i]->key;
            counts[i] = p->attempts[i]->value;
        }
        view.waiting_count = nw;
        view.waiting_steps = names;
        view.waiting_signals = names + nw;
        view.attempts_count = na;
        view.attempt_steps = names + 2 * nw;
        view.attempt_counts = counts;
    }
    int stop = st->fn(&view, st->user_data);
    free(block);
    baton__v1__progress__free_unpacked(p, NULL);
    return stop ? 1 : 0;
}

int baton_stream_progress(baton_client *c, const char *workflow_id, int64_t after_event_id, int timeout_ms,
                          baton_progress_fn callback, void *user_data, baton_error *err) {
    LOCAL_ERROR(err);
    if (bt_require(workflow_id, "workflow_id", err)) return err->code;
    if (!callback) return bt_fail(err, BATON_ERR_USAGE, "baton_stream_progress: callback is NULL");
    Baton__V1__StreamProgressRequest req = BATON__V1__STREAM_PROGRESS_REQUEST__INIT;
    req.workflow_id = (char *)workflow_id;
    req.after_event_id = after_event_id;
    stream_state st = {.fn = callback, .user_data = user_data};
    return bt_call(c, WORKFLOW_SERVICE "StreamProgress", &req.base, timeout_ms > 0 ? timeout_ms : 0, on_progress,
                   &st, err);
}
