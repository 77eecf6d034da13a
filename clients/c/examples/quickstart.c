/* quickstart.c — Baton from C in one file: register a three-step workflow, start a run, serve its
 * activities with the C worker, stream its progress from a second connection, and await the result.
 *
 *   BATON_ADDRESS=127.0.0.1:7400 build/examples/quickstart
 *
 * The payment gateway "times out" on the first attempt, so the run shows a retry. Exits 0 when
 * the run COMPLETED; otherwise prints the failure and exits 1 (2 when the client itself failed).
 * QUICKSTART_FAIL=reserve|charge|dispatch makes that step fail for good, to see a failed run.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"

static const char *const DEFINITION =
    "name: c_quickstart\n"
    "defaults:\n"
    "  task_queue: c-quickstart\n"
    "  retry: { initial_interval: 100ms, maximum_attempts: 3 }\n"
    "steps:\n"
    "  reserve:\n"
    "    activity: inventory.reserve\n"
    "    input: { item: \"${input.item}\", quantity: \"${input.quantity}\" }\n"
    "    phase: inventory\n"
    "  charge:\n"
    "    depends_on: [reserve]\n"
    "    activity: payment.charge\n"
    "    input: { reservation: \"${steps.reserve.output.reservation}\" }\n"
    "    phase: payment\n"
    "    heartbeat_timeout: 30s\n"
    "  dispatch:\n"
    "    depends_on: [charge]\n"
    "    activity: shipping.dispatch\n"
    "    input: { payment: \"${steps.charge.output.payment}\" }\n"
    "    phase: shipping\n"
    "output:\n"
    "  reservation: \"${steps.reserve.output.reservation}\"\n"
    "  payment: \"${steps.charge.output.payment}\"\n"
    "  tracking: \"${steps.dispatch.output.tracking}\"\n";

/* ---- the activities ---- */

static int activities(baton_activity *act, void *user_data, baton_activity_result *result) {
    const char *fail_step = user_data;
    printf("worker:   %s (step %s, attempt %d) input %s\n", act->activity, act->step, act->attempt, act->input_json);
    fflush(stdout);
    if (fail_step && strcmp(fail_step, act->step) == 0)
        return baton_fail(result, "QuickstartFailure", 1, "QUICKSTART_FAIL=%s asked this step to fail", fail_step);

    char output[512];
    if (strcmp(act->activity, "inventory.reserve") == 0) {
        snprintf(output, sizeof output, "{\"reservation\": \"R-%s\"}", act->workflow_id);
    } else if (strcmp(act->activity, "payment.charge") == 0) {
        /* A long activity heartbeats; the answer says whether the run was cancelled meanwhile. */
        baton_error err;
        int cancelled = 0;
        if (baton_heartbeat(act, "{\"stage\": \"authorizing\"}", &cancelled, &err) != BATON_OK)
            return baton_fail(result, "HeartbeatFailed", 0, "%s", err.message);
        if (cancelled) return baton_fail(result, "Cancelled", 1, "the run was cancelled");
        if (act->attempt == 1)
            return baton_fail(result, "GatewayTimeout", 0, "the payment gateway did not answer (retryable)");
        snprintf(output, sizeof output, "{\"payment\": \"P-%d-%s\"}", act->attempt, act->workflow_id);
    } else if (strcmp(act->activity, "shipping.dispatch") == 0) {
        snprintf(output, sizeof output, "{\"tracking\": \"T-%s\"}", act->workflow_id);
    } else {
        return baton_fail(result, "ActivityNotRegistered", 1, "this worker has no activity '%s'", act->activity);
    }
    return baton_complete(result, output);
}

/* ---- progress, streamed from a second connection ---- */

typedef struct watcher {
    const char *address;
    const char *workflow_id;
    int live_pipe[2]; /* written at the first update: the stream is live, serving may begin */
    int stop_pipe[2]; /* written when the stream ends: the worker stops */
    int updates;
    int rc;
    baton_error err;
} watcher;

/* The number of attempts of a step so far (0 when none). */
static int attempts_of(const baton_progress *p, const char *step) {
    for (size_t i = 0; i < p->attempts_count; i++)
        if (strcmp(p->attempt_steps[i], step) == 0) return p->attempt_counts[i];
    return 0;
}

static int on_progress(const baton_progress *p, void *user_data) {
    watcher *w = user_data;
    if (w->updates++ == 0 && write(w->live_pipe[1], "x", 1) != 1) perror("quickstart: write");
    flockfile(stdout); /* one whole line, never interleaved with the worker's */
    printf("progress: %3.0f%% %-9s event %-3lld", p->percentage, baton_workflow_status_name(p->status),
           (long long)p->event_id);
    if (p->current_phase[0]) printf(" phase=%s", p->current_phase);
    for (size_t i = 0; i < p->running_count; i++)
        printf(" running=%s(attempt %d)", p->running_steps[i], attempts_of(p, p->running_steps[i]));
    if (p->completed_count) printf(" done=");
    for (size_t i = 0; i < p->completed_count; i++) printf("%s%s", i ? "," : "", p->completed_steps[i]);
    if (p->failed_count) printf(" failed=");
    for (size_t i = 0; i < p->failed_count; i++) printf("%s%s", i ? "," : "", p->failed_steps[i]);
    printf("\n");
    fflush(stdout);
    funlockfile(stdout);
    return 0;
}

static void *watch(void *arg) {
    watcher *w = arg;
    baton_client *c = baton_connect(w->address, &w->err);
    if (c) {
        w->rc = baton_stream_progress(c, w->workflow_id, 0, 120000, on_progress, w, &w->err);
        baton_close(c);
    } else {
        w->rc = w->err.code;
    }
    if (w->updates == 0 && write(w->live_pipe[1], "x", 1) != 1) perror("quickstart: write");
    if (write(w->stop_pipe[1], "x", 1) != 1) perror("quickstart: write");
    return NULL;
}

static int client_error(const char *what, const baton_error *err) {
    fprintf(stderr, "quickstart: %s: %s: %s\n", what, baton_status_name(err->code), err->message);
    return 2;
}

int main(void) {
    const char *address = getenv("BATON_ADDRESS");
    if (!address || !address[0]) address = "127.0.0.1:7400";
    const char *fail_step = getenv("QUICKSTART_FAIL");

    baton_error err;
    baton_client *c = baton_connect(address, &err);
    if (!c) return client_error("connect", &err);

    int version = 0;
    if (baton_register_definition(c, DEFINITION, &version, &err) != BATON_OK) {
        baton_close(c);
        return client_error("register", &err);
    }
    char workflow_id[96];
    snprintf(workflow_id, sizeof workflow_id, "c-quickstart-%lld-%ld", (long long)time(NULL), (long)getpid());
    baton_start_options opts = {.workflow_id = workflow_id};
    if (baton_start(c, "c_quickstart", "{\"item\": \"widget\", \"quantity\": 2}", &opts, NULL, &err) != BATON_OK) {
        baton_close(c);
        return client_error("start", &err);
    }
    printf("started %s (c_quickstart v%d) on %s\n", workflow_id, version, address);
    fflush(stdout);

    watcher w = {.address = address, .workflow_id = workflow_id};
    if (pipe(w.live_pipe) != 0 || pipe(w.stop_pipe) != 0) {
        perror("quickstart: pipe");
        baton_close(c);
        return 2;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, watch, &w) != 0) {
        fprintf(stderr, "quickstart: cannot start the progress thread\n");
        baton_close(c);
        return 2;
    }

    /* Serve the run's activities once the stream is live (so that it shows every step), until the
     * stream ends (the run closed). */
    struct pollfd live = {.fd = w.live_pipe[0], .events = POLLIN};
    if (poll(&live, 1, 30000) != 1) fprintf(stderr, "quickstart: no progress within 30 s; serving anyway\n");
    int handled = 0;
    baton_worker_options wopts = {
        .identity = "c-quickstart-worker", .poll_timeout_ms = 10000, .run_timeout_ms = 120000,
        .stop_fd = w.stop_pipe[0], .tasks_handled = &handled,
    };
    int rc = baton_worker_run(c, "c-quickstart", activities, (void *)fail_step, &wopts, &err);
    if (rc != BATON_OK) client_error("worker", &err);
    pthread_join(thread, NULL);
    close(w.live_pipe[0]);
    close(w.live_pipe[1]);
    close(w.stop_pipe[0]);
    close(w.stop_pipe[1]);
    if (w.rc != BATON_OK) client_error("progress stream", &w.err);

    baton_workflow *run = NULL;
    if (baton_await(c, workflow_id, 30000, &run, &err) != BATON_OK) {
        baton_close(c);
        return client_error("await", &err);
    }
    baton_close(c);
    printf("worker handled %d tasks\n", handled);
    printf("status: %s\n", baton_workflow_status_name(run->status));
    int completed = run->status == BATON_WORKFLOW_COMPLETED;
    if (completed) {
        printf("output: %s\n", run->output_json ? run->output_json : "null");
    } else if (run->failure_type) {
        printf("failure: %s: %s", run->failure_type, run->failure_message);
        if (run->failure_step[0]) printf(" (step %s)", run->failure_step);
        printf("\n");
    }
    baton_workflow_free(run);
    return completed ? 0 : 1;
}
