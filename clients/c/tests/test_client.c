/* test_client.c — the C client against a live server (BATON_ADDRESS, default 127.0.0.1:7400):
 * start, describe, query, signal, await (and its deadline), progress streams, the worker (retries,
 * heartbeats, failures, cancellation), error codes and messages, and JSON through the server.
 *
 * Every wait is bounded and driven by an event (an await, a stream's end, a worker's task count);
 * nothing sleeps. Ids carry the process id, so runs against a long-lived server do not collide.
 */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define AWAIT_MS 20000   /* bound of every wait for a run to close */
#define WORKER_MS 30000  /* bound of every worker loop */

static const char *address;
static char tag[48];  /* unique per process: "c<pid>" */
static char queue[64]; /* this process' task queue */

/* "c<pid>-<name>" in a static ring of buffers (enough for the ids a test holds at once). */
static const char *id(const char *name) {
    static char ring[8][128];
    static int next;
    char *out = ring[next++ % 8];
    snprintf(out, sizeof ring[0], "%s-%s", tag, name);
    return out;
}

static baton_client *connect_client(void) {
    baton_error err;
    baton_client *c = baton_connect(address, &err);
    if (!c) {
        fprintf(stderr, "cannot connect to %s: %s: %s\n", address, baton_status_name(err.code), err.message);
        exit(2);
    }
    return c;
}

/* Registers YAML where every "QUEUE" is replaced by this process' task queue. */
static void register_yaml(baton_client *c, const char *yaml) {
    char text[4096];
    size_t k = 0;
    for (const char *p = yaml; *p && k < sizeof text - 64; p++) {
        if (strncmp(p, "QUEUE", 5) == 0) {
            k += (size_t)snprintf(text + k, sizeof text - k, "%s", queue);
            p += 4;
        } else {
            text[k++] = *p;
        }
    }
    text[k] = '\0';
    baton_error err;
    CHECK_OK(baton_register_definition(c, text, NULL, &err), err);
}

static const char *const ECHO =
    "name: c_test_echo\n"
    "steps:\n"
    "  a: { activity: builtin.echo, input: \"${input}\" }\n"
    "output: \"${steps.a.output}\"\n";

static const char *const APPROVAL =
    "name: c_test_approval\n"
    "steps:\n"
    "  prepare: { activity: builtin.echo, input: { item: \"${input.item}\" } }\n"
    "  approve:\n"
    "    depends_on: [prepare]\n"
    "    wait_for_signal: { name: approve, timeout: 1h, on_timeout: fail }\n"
    "output: { approved: \"${steps.approve.signal.ok}\", item: \"${steps.prepare.output.item}\" }\n";

static const char *const WORKER =
    "name: c_test_worker\n"
    "defaults:\n"
    "  task_queue: QUEUE\n"
    "  retry: { initial_interval: 10ms, maximum_attempts: 3 }\n"
    "steps:\n"
    "  research: { activity: research.market, input: { topic: \"${input.topic}\" }, heartbeat_timeout: 30s }\n"
    "  brief: { activity: content.brief, depends_on: [research], input: { found: \"${steps.research.output.found}\" } }\n"
    "output: { found: \"${steps.brief.output.found}\", brief: \"${steps.brief.output.brief}\" }\n";

static const char *const PIPELINE =
    "name: c_test_pipeline\n"
    "defaults: { task_queue: QUEUE }\n"
    "steps:\n"
    "  one: { activity: pipeline.step, input: { n: 1 }, phase: first }\n"
    "  two: { activity: pipeline.step, depends_on: [one], input: { n: 2 }, phase: second }\n"
    "  three: { activity: pipeline.step, depends_on: [two], input: { n: 3 }, phase: third }\n"
    "output: { last: \"${steps.three.output.n}\" }\n";

static const char *const SINGLE =
    "name: c_test_single\n"
    "defaults: { task_queue: QUEUE, retry: { initial_interval: 10ms, maximum_attempts: 3 } }\n"
    "steps:\n"
    "  charge: { activity: payment.charge, input: { amount: \"${input.amount}\" }, heartbeat_timeout: 30s }\n"
    "output: { receipt: \"${steps.charge.output.receipt}\" }\n";

/* ---- start, describe, query, JSON through the server ---- */

static void test_start_describe_query_json_round_trip(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, ECHO);
    const char *input =
        "{\"int\": 42, \"neg\": -7, \"big\": 1234567890123, \"float\": 2.5, \"zero\": 0,"
        " \"s\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\n\", \"nested\": {\"list\": [1, [2, [3]]], \"t\": true, \"n\": null}}";
    const char *canonical =
        "{\"big\":1234567890123,\"float\":2.5,\"int\":42,\"neg\":-7,\"nested\":{\"list\":[1,[2,[3]]],\"n\":null,"
        "\"t\":true},\"s\":\"caf\xC3\xA9 \xF0\x9F\x98\x80 \\\"q\\\" \\\\ \\n\",\"zero\":0}";
    baton_start_options opts = {.workflow_id = id("echo")};
    char *wid = NULL;
    CHECK_OK(baton_start(c, "c_test_echo", input, &opts, &wid, &err), err);
    CHECK_STR(wid, id("echo"));
    free(wid);

    baton_workflow *run = NULL;
    CHECK_OK(baton_await(c, id("echo"), AWAIT_MS, &run, &err), err);
    if (run) {
        CHECK(run->status == BATON_WORKFLOW_COMPLETED, "status %s", baton_workflow_status_name(run->status));
        CHECK_STR(run->output_json, canonical);
        baton_workflow_free(run);
    }
    run = NULL;
    CHECK_OK(baton_describe(c, id("echo"), &run, &err), err);
    if (run) {
        CHECK_STR(run->workflow_id, id("echo"));
        CHECK_STR(run->definition, "c_test_echo");
        CHECK(run->version >= 1, "version %d", run->version);
        CHECK(run->run_id[0] != '\0', "a run id");
        CHECK(run->status == BATON_WORKFLOW_COMPLETED, "status %s", baton_workflow_status_name(run->status));
        CHECK(run->start_time_ms > 0 && run->close_time_ms >= run->start_time_ms, "times %lld..%lld",
              (long long)run->start_time_ms, (long long)run->close_time_ms);
        CHECK_STR(run->input_json, canonical);
        CHECK_STR(run->output_json, canonical);
        CHECK(run->failure_type == NULL, "no failure");
        CHECK(run->step_count == 1, "%zu steps", run->step_count);
        if (run->step_count == 1) {
            CHECK_STR(run->steps[0].name, "a");
            CHECK(run->steps[0].status == BATON_STEP_COMPLETED, "step %s", baton_step_status_name(run->steps[0].status));
            CHECK(run->steps[0].attempts == 1, "attempts %d", run->steps[0].attempts);
            CHECK_STR(run->steps[0].kind, "activity");
            CHECK_STR(run->steps[0].activity, "builtin.echo");
            CHECK_STR(run->steps[0].output_json, canonical);
        }
        baton_workflow_free(run);
    }

    char *answer = NULL;
    CHECK_OK(baton_query(c, id("echo"), "output", &answer, &err), err);
    CHECK_STR(answer, canonical);
    free(answer);
    answer = NULL;
    CHECK_OK(baton_query(c, id("echo"), "progress", &answer, &err), err);
    CHECK_CONTAINS(answer, "\"percentage\":100");
    CHECK_CONTAINS(answer, "WORKFLOW_STATUS_COMPLETED");
    free(answer);
    answer = NULL;
    CHECK_CODE(baton_query(c, id("echo"), "no_such_query", &answer, &err), BATON_INVALID_ARGUMENT, err);
    CHECK_CONTAINS(err.message, "no_such_query");
    CHECK(answer == NULL, "no answer on error");

    /* The reuse policy: REJECT refuses a taken id. */
    baton_start_options reject = {.workflow_id = id("echo"), .id_reuse_policy = BATON_REUSE_REJECT};
    CHECK_CODE(baton_start(c, "c_test_echo", "1", &reject, NULL, &err), BATON_ALREADY_EXISTS, err);
    /* A generated id, no input. */
    wid = NULL;
    CHECK_OK(baton_start(c, "c_test_echo", NULL, NULL, &wid, &err), err);
    CHECK(wid && wid[0], "a generated workflow id");
    if (wid) {
        run = NULL;
        CHECK_OK(baton_await(c, wid, AWAIT_MS, &run, &err), err);
        if (run) CHECK(run->input_json == NULL || strcmp(run->input_json, "null") == 0, "no input: %s", run->input_json);
        baton_workflow_free(run);
    }
    free(wid);
    baton_close(c);
}

/* ---- signals, queries on an open run, await and its deadline ---- */

static void test_signal_query_and_await(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, APPROVAL);
    baton_start_options opts = {.workflow_id = id("approval")};
    CHECK_OK(baton_start(c, "c_test_approval", "{\"item\": \"lamp\"}", &opts, NULL, &err), err);

    /* Still open: the await ends at its deadline with DEADLINE_EXCEEDED. */
    baton_workflow *run = NULL;
    double start = check_now();
    CHECK_CODE(baton_await(c, id("approval"), 300, &run, &err), BATON_DEADLINE_EXCEEDED, err);
    double took = check_now() - start;
    CHECK(run == NULL, "no description on error");
    CHECK(took >= 0.25 && took < 5.0, "the 300 ms await took %.3f s", took);

    char *answer = NULL;
    CHECK_OK(baton_query(c, id("approval"), "progress", &answer, &err), err);
    CHECK_CONTAINS(answer, "WORKFLOW_STATUS_RUNNING");
    free(answer);
    CHECK_OK(baton_describe(c, id("approval"), &run, &err), err);
    if (run) {
        CHECK(run->status == BATON_WORKFLOW_RUNNING, "status %s", baton_workflow_status_name(run->status));
        CHECK(run->close_time_ms == 0, "open");
        CHECK(run->step_count == 2 && strcmp(run->steps[1].kind, "wait_for_signal") == 0, "the wait step");
        baton_workflow_free(run);
        run = NULL;
    }

    CHECK_OK(baton_signal(c, id("approval"), "approve", "{\"ok\": true}", "req-1", &err), err);
    CHECK_OK(baton_signal(c, id("approval"), "approve", "{\"ok\": false}", "req-1", &err), err); /* a repeat: ignored */
    CHECK_OK(baton_await(c, id("approval"), AWAIT_MS, &run, &err), err);
    if (run) {
        CHECK(run->status == BATON_WORKFLOW_COMPLETED, "status %s", baton_workflow_status_name(run->status));
        CHECK_STR(run->output_json, "{\"approved\":true,\"item\":\"lamp\"}");
        baton_workflow_free(run);
        run = NULL;
    }
    /* A closed run answers at once, and refuses signals. */
    start = check_now();
    CHECK_OK(baton_await(c, id("approval"), AWAIT_MS, &run, &err), err);
    CHECK(check_now() - start < 2.0, "await of a closed run took %.3f s", check_now() - start);
    baton_workflow_free(run);
    CHECK_CODE(baton_signal(c, id("approval"), "approve", "{}", NULL, &err), BATON_FAILED_PRECONDITION, err);
    CHECK_CONTAINS(err.message, "closed");
    baton_close(c);
}

/* ---- progress streams ---- */

#define MAX_UPDATES 64

typedef struct stream_log {
    const char *workflow_id;
    int64_t after;
    int n;
    int status[MAX_UPDATES];
    double percentage[MAX_UPDATES];
    int64_t event_id[MAX_UPDATES];
    size_t completed[MAX_UPDATES];
    int first_update_pipe[2]; /* written at the first update: the stream is live */
    int rc;
    baton_error err;
} stream_log;

static int record(const baton_progress *p, void *user_data) {
    stream_log *log = user_data;
    if (log->n < MAX_UPDATES) {
        log->status[log->n] = p->status;
        log->percentage[log->n] = p->percentage;
        log->event_id[log->n] = p->event_id;
        log->completed[log->n] = p->completed_count;
        log->n++;
    }
    if (log->n == 1 && log->first_update_pipe[1] > 0 && write(log->first_update_pipe[1], "x", 1) != 1) return 1;
    return 0;
}

static void *stream_thread(void *arg) {
    stream_log *log = arg;
    baton_client *c = connect_client();
    log->rc = baton_stream_progress(c, log->workflow_id, log->after, AWAIT_MS, record, log, &log->err);
    baton_close(c);
    return NULL;
}

static int pipeline_step(baton_activity *act, void *user_data, baton_activity_result *result) {
    (void)user_data;
    return baton_complete(result, act->input_json); /* {"n": N} */
}

static void test_stream_progress_to_completion(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, PIPELINE);
    baton_start_options opts = {.workflow_id = id("pipeline")};
    CHECK_OK(baton_start(c, "c_test_pipeline", NULL, &opts, NULL, &err), err);

    stream_log log;
    memset(&log, 0, sizeof log);
    log.workflow_id = id("pipeline");
    CHECK(pipe(log.first_update_pipe) == 0, "a pipe");
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, stream_thread, &log) == 0, "a thread");
    /* The worker starts once the stream is live, so that the stream sees the run progress. */
    struct pollfd live = {.fd = log.first_update_pipe[0], .events = POLLIN};
    CHECK(poll(&live, 1, AWAIT_MS) == 1, "the stream's first update within %d ms", AWAIT_MS);
    int handled = 0;
    baton_worker_options wopts = {.max_tasks = 3, .poll_timeout_ms = 5000, .run_timeout_ms = WORKER_MS,
                                  .tasks_handled = &handled};
    CHECK_OK(baton_worker_run(c, queue, pipeline_step, NULL, &wopts, &err), err);
    CHECK(handled == 3, "handled %d tasks", handled);
    pthread_join(thread, NULL);
    close(log.first_update_pipe[0]);
    close(log.first_update_pipe[1]);

    CHECK(log.rc == BATON_OK, "the stream ended with %s: %s", baton_status_name(log.rc), log.err.message);
    CHECK(log.n >= 2, "%d updates", log.n);
    if (log.n >= 2) {
        CHECK(log.status[log.n - 1] == BATON_WORKFLOW_COMPLETED, "last status %s",
              baton_workflow_status_name(log.status[log.n - 1]));
        CHECK(log.percentage[log.n - 1] == 100.0, "last percentage %g", log.percentage[log.n - 1]);
        CHECK(log.completed[log.n - 1] == 3, "%zu completed", log.completed[log.n - 1]);
        for (int i = 0; i + 1 < log.n; i++) {
            CHECK(log.status[i] == BATON_WORKFLOW_RUNNING, "update %d is %s", i, baton_workflow_status_name(log.status[i]));
            CHECK(log.percentage[i] <= log.percentage[i + 1], "percentage %g then %g", log.percentage[i],
                  log.percentage[i + 1]);
            CHECK(log.event_id[i] < log.event_id[i + 1], "event ids %lld then %lld", (long long)log.event_id[i],
                  (long long)log.event_id[i + 1]);
        }
    }
    baton_workflow *run = NULL;
    CHECK_OK(baton_await(c, id("pipeline"), AWAIT_MS, &run, &err), err);
    if (run) CHECK_STR(run->output_json, "{\"last\":3}");
    baton_workflow_free(run);

    /* A closed run streams one snapshot and ends. */
    stream_log again;
    memset(&again, 0, sizeof again);
    again.workflow_id = id("pipeline");
    CHECK_OK(baton_stream_progress(c, id("pipeline"), 0, AWAIT_MS, record, &again, &err), err);
    CHECK(again.n == 1 && again.status[0] == BATON_WORKFLOW_COMPLETED, "%d updates, first %s", again.n,
          baton_workflow_status_name(again.status[0]));
    CHECK_CODE(baton_stream_progress(c, id("never-started"), 0, AWAIT_MS, record, &again, &err), BATON_NOT_FOUND, err);
    baton_close(c);
}

typedef struct stop_probe {
    baton_client *same;
    int calls;
    int busy_code;
    char busy_message[BATON_ERROR_MESSAGE_MAX];
} stop_probe;

static int stop_at_once(const baton_progress *p, void *user_data) {
    (void)p;
    stop_probe *probe = user_data;
    probe->calls++;
    baton_workflow *w = NULL;
    baton_error err;
    probe->busy_code = baton_describe(probe->same, "anything", &w, &err); /* the client is busy streaming */
    snprintf(probe->busy_message, sizeof probe->busy_message, "%s", err.message);
    baton_workflow_free(w);
    return 1;
}

static void test_stream_stops_when_the_callback_says_so(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, APPROVAL);
    baton_start_options opts = {.workflow_id = id("stopped-stream")};
    CHECK_OK(baton_start(c, "c_test_approval", "{\"item\": \"x\"}", &opts, NULL, &err), err);
    stop_probe probe = {.same = c};
    double start = check_now();
    CHECK_OK(baton_stream_progress(c, id("stopped-stream"), 0, AWAIT_MS, stop_at_once, &probe, &err), err);
    CHECK(check_now() - start < 5.0, "stopping took %.3f s", check_now() - start);
    CHECK(probe.calls == 1, "%d callbacks", probe.calls);
    CHECK(probe.busy_code == BATON_ERR_USAGE, "a call inside the callback gave %s", baton_status_name(probe.busy_code));
    CHECK_CONTAINS(probe.busy_message, "already in progress");
    /* The connection carries on after the cancelled stream. */
    CHECK_OK(baton_terminate(c, id("stopped-stream"), "test over", &err), err);
    baton_workflow *run = NULL;
    CHECK_OK(baton_await(c, id("stopped-stream"), AWAIT_MS, &run, &err), err);
    if (run) CHECK(run->status == BATON_WORKFLOW_TERMINATED, "status %s", baton_workflow_status_name(run->status));
    baton_workflow_free(run);
    baton_close(c);
}

/* ---- the worker ---- */

typedef struct research_log {
    int calls;
    int attempts[4];
    char keys[4][128];
    char inputs[4][128];
    char details[4][128];
    int heartbeat_rc[4];
    int cancelled[4];
} research_log;

static int research_worker(baton_activity *act, void *user_data, baton_activity_result *result) {
    research_log *log = user_data;
    if (strcmp(act->activity, "content.brief") == 0) {
        CHECK_STR(act->input_json, "{\"found\":3}");
        return baton_complete(result, "{\"found\": 3, \"brief\": \"ready\"}");
    }
    int i = log->calls++;
    if (i >= 4) return baton_fail(result, "TooManyCalls", 1, "call %d", i);
    log->attempts[i] = act->attempt;
    snprintf(log->keys[i], sizeof log->keys[i], "%s", act->idempotency_key);
    snprintf(log->inputs[i], sizeof log->inputs[i], "%s", act->input_json);
    snprintf(log->details[i], sizeof log->details[i], "%s", act->heartbeat_details_json ? act->heartbeat_details_json : "(none)");
    char details[64];
    snprintf(details, sizeof details, "{\"page\": %d}", act->attempt);
    baton_error err;
    log->heartbeat_rc[i] = baton_heartbeat(act, details, &log->cancelled[i], &err);
    if (act->attempt == 1) return baton_fail(result, "Flaky", 0, "attempt %d fails", act->attempt);
    return baton_complete(result, "{\"found\": 3}");
}

static void test_worker_retries_and_heartbeats(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, WORKER);
    baton_start_options opts = {.workflow_id = id("worker")};
    CHECK_OK(baton_start(c, "c_test_worker", "{\"topic\": \"widgets\"}", &opts, NULL, &err), err);
    research_log log;
    memset(&log, 0, sizeof log);
    int handled = 0;
    baton_worker_options wopts = {.identity = "c-test-worker", .max_tasks = 3, .poll_timeout_ms = 5000,
                                  .run_timeout_ms = WORKER_MS, .tasks_handled = &handled};
    CHECK_OK(baton_worker_run(c, queue, research_worker, &log, &wopts, &err), err);
    CHECK(handled == 3, "handled %d", handled);
    CHECK(log.calls == 2, "research ran %d times", log.calls);
    char key[160];
    for (int i = 0; i < 2 && i < log.calls; i++) {
        CHECK(log.attempts[i] == i + 1, "call %d had attempt %d", i, log.attempts[i]);
        snprintf(key, sizeof key, "%s/research/%d", id("worker"), i + 1);
        CHECK_STR(log.keys[i], key);
        CHECK_STR(log.inputs[i], "{\"topic\":\"widgets\"}");
        CHECK(log.heartbeat_rc[i] == BATON_OK && log.cancelled[i] == 0, "heartbeat %d: %s, cancelled %d", i,
              baton_status_name(log.heartbeat_rc[i]), log.cancelled[i]);
    }
    CHECK_STR(log.details[0], "(none)");
    CHECK_STR(log.details[1], "{\"page\":1}"); /* the first attempt's heartbeat, handed to the second */

    baton_workflow *run = NULL;
    CHECK_OK(baton_await(c, id("worker"), AWAIT_MS, &run, &err), err);
    if (run) {
        CHECK(run->status == BATON_WORKFLOW_COMPLETED, "status %s", baton_workflow_status_name(run->status));
        CHECK_STR(run->output_json, "{\"brief\":\"ready\",\"found\":3}");
        CHECK(run->step_count == 2 && run->steps[0].attempts == 2, "research attempts %d",
              run->step_count ? run->steps[0].attempts : -1);
        if (run->step_count == 2) {
            CHECK_STR(run->steps[0].failure_type, "Flaky");
            CHECK_STR(run->steps[0].failure_message, "attempt 1 fails");
        }
        baton_workflow_free(run);
    }
    baton_close(c);
}

static int failing_worker(baton_activity *act, void *user_data, baton_activity_result *result) {
    const char *mode = user_data;
    (void)act;
    if (strcmp(mode, "declined") == 0)
        return baton_fail(result, "PaymentDeclined", 1, "card %s declined", "4242");
    return baton_complete(result, "{\"receipt\": oops}"); /* not JSON */
}

static void test_worker_failures_reach_the_run(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, SINGLE);
    const char *modes[] = {"declined", "invalid-output"};
    for (int m = 0; m < 2; m++) {
        baton_start_options opts = {.workflow_id = id(modes[m])};
        CHECK_OK(baton_start(c, "c_test_single", "{\"amount\": 10}", &opts, NULL, &err), err);
        baton_worker_options wopts = {.max_tasks = 1, .poll_timeout_ms = 5000, .run_timeout_ms = WORKER_MS};
        CHECK_OK(baton_worker_run(c, queue, failing_worker, (void *)modes[m], &wopts, &err), err);
        baton_workflow *run = NULL;
        CHECK_OK(baton_await(c, id(modes[m]), AWAIT_MS, &run, &err), err);
        if (!run) continue;
        CHECK(run->status == BATON_WORKFLOW_FAILED, "status %s", baton_workflow_status_name(run->status));
        CHECK(run->output_json == NULL, "no output");
        CHECK(run->step_count == 1 && run->steps[0].attempts == 1, "one attempt (non-retryable)");
        if (m == 0) {
            CHECK_STR(run->failure_type, "PaymentDeclined");
            CHECK_CONTAINS(run->failure_message, "card 4242 declined");
        } else {
            CHECK_STR(run->failure_type, "InvalidOutput");
            CHECK_CONTAINS(run->failure_message, "not valid JSON");
            CHECK_CONTAINS(run->failure_message, "line 1, column 13");
        }
        CHECK_STR(run->failure_step, "charge");
        baton_workflow_free(run);
    }
    baton_close(c);
}

typedef struct cancel_probe {
    int before, after, flag;
    int cancel_rc;
    char cancel_message[BATON_ERROR_MESSAGE_MAX];
} cancel_probe;

static int cancelled_worker(baton_activity *act, void *user_data, baton_activity_result *result) {
    cancel_probe *probe = user_data;
    baton_error err;
    baton_heartbeat(act, NULL, &probe->before, &err);
    baton_client *other = connect_client(); /* the worker's client is busy with this task */
    probe->cancel_rc = baton_cancel(other, act->workflow_id, "the C test cancels", &err);
    snprintf(probe->cancel_message, sizeof probe->cancel_message, "%s", err.message);
    baton_close(other);
    baton_heartbeat(act, "{\"stopping\": true}", &probe->after, &err);
    probe->flag = act->cancel_requested;
    if (probe->after) return baton_fail(result, "Cancelled", 1, "stopped on request");
    return baton_complete(result, "{\"receipt\": \"too late\"}");
}

static void test_cancellation_reaches_the_heartbeat(void) {
    baton_client *c = connect_client();
    baton_error err;
    register_yaml(c, SINGLE);
    baton_start_options opts = {.workflow_id = id("cancel")};
    CHECK_OK(baton_start(c, "c_test_single", "{\"amount\": 5}", &opts, NULL, &err), err);
    cancel_probe probe;
    memset(&probe, 0, sizeof probe);
    baton_worker_options wopts = {.max_tasks = 1, .poll_timeout_ms = 5000, .run_timeout_ms = WORKER_MS};
    CHECK_OK(baton_worker_run(c, queue, cancelled_worker, &probe, &wopts, &err), err);
    CHECK(probe.cancel_rc == BATON_OK, "cancel: %s: %s", baton_status_name(probe.cancel_rc), probe.cancel_message);
    CHECK(probe.before == 0, "no cancel before CancelWorkflow");
    CHECK(probe.after == 1 && probe.flag == 1, "the heartbeat after CancelWorkflow says cancel_requested (%d, %d)",
          probe.after, probe.flag);
    baton_workflow *run = NULL;
    CHECK_OK(baton_await(c, id("cancel"), AWAIT_MS, &run, &err), err);
    if (run) CHECK(run->status == BATON_WORKFLOW_CANCELLED, "status %s", baton_workflow_status_name(run->status));
    baton_workflow_free(run);
    baton_close(c);
}

static void test_worker_stops_on_its_stop_descriptor(void) {
    baton_client *c = connect_client();
    baton_error err;
    int fds[2];
    CHECK(pipe(fds) == 0, "a pipe");
    CHECK(write(fds[1], "x", 1) == 1, "written");
    /* Already readable: the worker returns before polling. */
    baton_worker_options wopts = {.poll_timeout_ms = 20000, .run_timeout_ms = WORKER_MS, .stop_fd = fds[0]};
    double start = check_now();
    CHECK_OK(baton_worker_run(c, "c-test-idle-queue", pipeline_step, NULL, &wopts, &err), err);
    CHECK(check_now() - start < 2.0, "stopping took %.3f s", check_now() - start);
    /* An idle worker with nothing to do gives up at its run timeout. */
    baton_worker_options bounded = {.poll_timeout_ms = 20000, .run_timeout_ms = 300};
    start = check_now();
    CHECK_CODE(baton_worker_run(c, "c-test-idle-queue", pipeline_step, NULL, &bounded, &err), BATON_DEADLINE_EXCEEDED, err);
    CHECK(check_now() - start < 5.0, "the 300 ms worker took %.3f s", check_now() - start);
    close(fds[0]);
    close(fds[1]);
    baton_close(c);
}

/* ---- errors ---- */

static void test_errors_have_codes_and_messages(void) {
    baton_client *c = connect_client();
    baton_error err;
    baton_workflow *run = NULL;
    char *answer = NULL;
    CHECK_CODE(baton_describe(c, id("never-started"), &run, &err), BATON_NOT_FOUND, err);
    CHECK_CONTAINS(err.message, id("never-started"));
    CHECK_CODE(baton_await(c, id("never-started"), 1000, &run, &err), BATON_NOT_FOUND, err);
    CHECK_CODE(baton_query(c, id("never-started"), "progress", &answer, &err), BATON_NOT_FOUND, err);
    CHECK_CODE(baton_signal(c, id("never-started"), "go", NULL, NULL, &err), BATON_NOT_FOUND, err);
    CHECK_CODE(baton_cancel(c, id("never-started"), NULL, &err), BATON_NOT_FOUND, err);
    CHECK_CODE(baton_start(c, "c_test_no_such_definition", NULL, NULL, NULL, &err), BATON_NOT_FOUND, err);
    CHECK_CONTAINS(err.message, "c_test_no_such_definition");

    /* Invalid JSON never leaves the client; the message names the position. */
    CHECK_CODE(baton_start(c, "c_test_echo", "{\"n\": }", NULL, NULL, &err), BATON_ERR_JSON, err);
    CHECK_CONTAINS(err.message, "input is not valid JSON");
    CHECK_CONTAINS(err.message, "line 1, column 7");
    CHECK_CODE(baton_signal(c, id("x"), "go", "[1, 2", NULL, &err), BATON_ERR_JSON, err);
    CHECK_CONTAINS(err.message, "payload is not valid JSON: unexpected end of text");

    CHECK_CODE(baton_register_definition(c, "name: c_test_bad\nsteps:\n  a: { activity: x, depends_on: [ghost] }\n",
                                         NULL, &err), BATON_INVALID_ARGUMENT, err);
    CHECK_CONTAINS(err.message, "ghost");
    CHECK_CONTAINS(err.message, "3:");

    /* Misuse is reported, not crashed on. */
    CHECK_CODE(baton_start(c, "", NULL, NULL, NULL, &err), BATON_ERR_USAGE, err);
    CHECK_CODE(baton_start(NULL, "c_test_echo", NULL, NULL, NULL, &err), BATON_ERR_USAGE, err);
    CHECK_CODE(baton_describe(c, id("x"), NULL, &err), BATON_ERR_USAGE, err);
    CHECK(baton_describe(c, id("never-started"), &run, NULL) == BATON_NOT_FOUND, "a NULL error pointer is fine");

    /* The client still works after all that. */
    CHECK_OK(baton_register_definition(c, ECHO, NULL, &err), err);
    baton_close(c);

    /* Connection failures. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    getsockname(s, (struct sockaddr *)&sa, &len);
    close(s); /* a port nobody listens on */
    char closed[64];
    snprintf(closed, sizeof closed, "127.0.0.1:%d", ntohs(sa.sin_port));
    CHECK(baton_connect(closed, &err) == NULL && err.code == BATON_ERR_CONNECT, "connect to %s: %s", closed,
          baton_status_name(err.code));
    CHECK_CONTAINS(err.message, "refused");
    CHECK(baton_connect("localhost", &err) == NULL && err.code == BATON_ERR_USAGE, "no port: %s", err.message);
    CHECK_CONTAINS(err.message, "HOST:PORT");
    CHECK(baton_connect("127.0.0.1:99999", &err) == NULL && err.code == BATON_ERR_USAGE, "bad port: %s", err.message);
    CHECK(baton_connect(NULL, &err) == NULL && err.code == BATON_ERR_USAGE, "NULL address");
}

int main(void) {
    address = getenv("BATON_ADDRESS");
    if (!address || !address[0]) address = "127.0.0.1:7400";
    snprintf(tag, sizeof tag, "c%ld", (long)getpid());
    snprintf(queue, sizeof queue, "c-test-queue-%ld", (long)getpid());
    printf("test_client against %s (ids %s-*)\n", address, tag);
    RUN(test_start_describe_query_json_round_trip);
    RUN(test_signal_query_and_await);
    RUN(test_stream_progress_to_completion);
    RUN(test_stream_stops_when_the_callback_says_so);
    RUN(test_worker_retries_and_heartbeats);
    RUN(test_worker_failures_reach_the_run);
    RUN(test_cancellation_reaches_the_heartbeat);
    RUN(test_worker_stops_on_its_stop_descriptor);
    RUN(test_errors_have_codes_and_messages);
    return check_summary("test_client");
}
