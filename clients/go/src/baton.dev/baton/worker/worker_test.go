package worker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"baton.dev/baton/worker"
)

const (
	completed = batonv1.WorkflowStatus_WORKFLOW_STATUS_COMPLETED
	failed    = batonv1.WorkflowStatus_WORKFLOW_STATUS_FAILED
	cancelled = batonv1.WorkflowStatus_WORKFLOW_STATUS_CANCELLED
	fastRetry = "initial_interval: 100ms, maximum_attempts: 3"
)

func TestWorkerRunsActivities(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  greet: { activity: greet, input: { name: "${input.name}", n: "${input.n}" } }
  shout: { activity: shout, depends_on: [greet], input: { text: "${steps.greet.output.text}" } }
output: { text: "${steps.shout.output.text}", n: "${steps.greet.output.n}" }
`)
	infos := make(chan worker.ActivityInput, 2)
	startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"greet": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			infos <- in
			var input struct {
				Name string `json:"name"`
				N    int    `json:"n"`
			}
			if err := in.DecodeInput(&input); err != nil {
				return nil, err
			}
			return map[string]any{"text": "hello " + input.Name, "n": input.N}, nil
		},
		"shout": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			if info, ok := worker.Info(ctx); !ok || info.Step != "shout" {
				return nil, errors.New("worker.Info does not know the activity")
			}
			return map[string]any{"text": strings.ToUpper(in.Input.(map[string]any)["text"].(string))}, nil
		},
	})
	run, err := c.Start(ctx, definition, map[string]any{"name": "gopher", "n": 7}, baton.StartOptions{ID: unique(t, "run")})
	if err != nil {
		t.Fatal(err)
	}
	description := await(t, ctx, run, completed)
	if got := baton.JSON(description.GetOutput()); got != `{"n":7,"text":"HELLO GOPHER"}` {
		t.Fatalf("output %s", got)
	}
	in := receive(t, ctx, infos, "greet's input")
	if in.WorkflowID != run.ID() || in.Step != "greet" || in.Activity != "greet" || in.Attempt != 1 ||
		in.IdempotencyKey != run.ID()+"/greet/1" || in.HeartbeatDetails != nil {
		t.Fatalf("greet's ActivityInput: %+v", in)
	}
	if n := in.Input.(map[string]any)["n"]; n != int64(7) {
		t.Fatalf("input n is %T %v, want int64 7", n, n)
	}
}

func TestFailedAttemptIsRetried(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  flaky: { activity: flaky }
output: { attempt: "${steps.flaky.output.attempt}" }
`)
	startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"flaky": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			if in.Attempt == 1 {
				return nil, &worker.ActivityError{Type: "Flaky", Message: "the first attempt fails", Details: map[string]any{"n": 1}}
			}
			return map[string]any{"attempt": in.Attempt}, nil
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	description := await(t, ctx, run, completed)
	if got := baton.JSON(description.GetOutput()); got != `{"attempt":2}` {
		t.Fatalf("output %s", got)
	}
	if attempts := description.GetSteps()[0].GetAttempts(); attempts != 2 {
		t.Fatalf("flaky ran %d attempts, want 2", attempts)
	}
	failures := historyOf(t, ctx, run, "StepFailed")
	if len(failures) != 1 {
		t.Fatalf("%d StepFailed events, want 1", len(failures))
	}
	f := failures[0].GetStepFailed().GetFailure()
	if f.GetType() != "Flaky" || f.GetMessage() != "the first attempt fails" || f.GetNonRetryable() || baton.JSON(f.GetDetails()) != `{"n":1}` {
		t.Fatalf("recorded failure: %v", f)
	}
}

func TestFailureTypes(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 90*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, "initial_interval: 100ms, maximum_attempts: 2", `
steps:
  fail: { activity: fail, input: { mode: "${input.mode}" } }
`)
	unserved := register(t, c, queue, "maximum_attempts: 1", `
steps:
  other: { activity: not_served_here }
`)
	startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"fail": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			switch mode := in.Input.(map[string]any)["mode"]; mode {
			case "plain":
				return nil, errors.New("plain trouble")
			case "typed":
				return nil, fmt.Errorf("charging: %w", worker.NonRetryable("PaymentDeclined", "card %s expired", "4242"))
			case "wrapped":
				_, err := os.Open("/no/such/file")
				return nil, fmt.Errorf("loading config: %w", err)
			case "panic":
				panic("boom")
			case "output":
				return make(chan int), nil
			default:
				return nil, fmt.Errorf("unknown mode %v", mode)
			}
		},
	})
	cases := []struct {
		definition, mode, failureType, message string
		attempts                               int32
	}{
		{definition, "plain", "Error", "plain trouble", 2},
		{definition, "typed", "PaymentDeclined", "card 4242 expired", 1},
		{definition, "wrapped", "PathError", "loading config: open /no/such/file", 2},
		{definition, "panic", worker.TypePanic, `activity "fail" panicked: boom`, 2},
		{definition, "output", worker.TypeInvalidOutput, "not JSON", 1},
		{unserved, "", worker.TypeNotRegistered, `no activity "not_served_here"`, 1},
	}
	for _, tc := range cases {
		run, err := c.Start(ctx, tc.definition, map[string]any{"mode": tc.mode}, baton.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		description := await(t, ctx, run, failed)
		f := description.GetFailure()
		if f.GetType() != tc.failureType || !strings.Contains(f.GetMessage(), tc.message) {
			t.Errorf("%s %q: failure %s: %q, want %s containing %q", tc.definition, tc.mode, f.GetType(), f.GetMessage(), tc.failureType, tc.message)
		}
		if attempts := description.GetSteps()[0].GetAttempts(); attempts != tc.attempts {
			t.Errorf("%s %q: %d attempts, want %d", tc.definition, tc.mode, attempts, tc.attempts)
		}
	}
}

func TestHeartbeatDetailsReachTheNextAttempt(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  resumable: { activity: resumable }
output: { resumed_from: "${steps.resumable.output.resumed_from}" }
`)
	startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"resumable": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			if in.Attempt == 1 {
				if err := worker.Heartbeat(ctx, map[string]any{"done": 3}); err != nil {
					return nil, err
				}
				return nil, worker.NewError("Interrupted", "stopped after %d items", 3)
			}
			var progress struct {
				Done int `json:"done"`
			}
			if ok, err := in.DecodeHeartbeatDetails(&progress); !ok || err != nil {
				return nil, worker.NonRetryable("NoDetails", "attempt %d got no heartbeat details (%v)", in.Attempt, err)
			}
			if done := in.HeartbeatDetails.(map[string]any)["done"]; done != int64(3) {
				return nil, worker.NonRetryable("BadDetails", "details.done is %T %v", done, done)
			}
			return map[string]any{"resumed_from": progress.Done}, nil
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	description := await(t, ctx, run, completed)
	if got := baton.JSON(description.GetOutput()); got != `{"resumed_from":3}` {
		t.Fatalf("output %s", got)
	}
}

func TestCancellationCancelsTheActivityContext(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  long: { activity: long }
`)
	started := make(chan struct{}, 1)
	stopped := make(chan error, 1)
	startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"long": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			started <- struct{}{}
			pace := time.NewTicker(50 * time.Millisecond) // the activity's own heartbeat rhythm
			defer pace.Stop()
			for beat := 0; ; beat++ {
				if err := worker.Heartbeat(ctx, map[string]any{"beat": beat}); err != nil {
					stopped <- err
					return nil, err
				}
				select {
				case <-ctx.Done():
					stopped <- ctx.Err()
					return nil, ctx.Err()
				case <-pace.C:
				}
			}
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, ctx, started, "the activity to start")
	if err := run.Cancel(ctx, "no longer needed"); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, ctx, stopped, "the activity to see the cancellation"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the activity stopped with %v, want context.Canceled", err)
	}
	await(t, ctx, run, cancelled)
}

func TestAutomaticHeartbeatsKeepTheLeaseAndSeeCancellation(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 90*time.Second)
	queue := unique(t, "queue")
	const heartbeatTimeout = 2 * time.Second
	definition := register(t, c, queue, fastRetry, `
steps:
  quiet: { activity: quiet, heartbeat_timeout: 2s }
`)
	started := make(chan struct{}, 1)
	stopped := make(chan error, 1)
	startWorker(t, c, worker.Options{TaskQueue: queue, HeartbeatInterval: 200 * time.Millisecond}, map[string]worker.ActivityFunc{
		"quiet": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			started <- struct{}{}
			<-ctx.Done() // never heartbeats itself
			stopped <- ctx.Err()
			return nil, ctx.Err()
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, ctx, started, "the activity to start")

	// Follow the history until it shows the attempt alive for 1.5 heartbeat timeouts (the server
	// re-arms its heartbeat-timeout timer when heartbeats came meanwhile, a recorded event).
	var startedAt time.Time
	for token := ""; ; {
		page, err := run.History(ctx, baton.HistoryOptions{PageToken: token, Wait: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		token = page.NextPageToken
		for _, e := range page.Events {
			switch e.GetType() {
			case "StepStarted":
				startedAt = e.GetTime().AsTime()
			case "StepTimedOut":
				t.Fatalf("the attempt timed out despite automatic heartbeats: %v", e)
			}
		}
		if n := len(page.Events); n > 0 && !startedAt.IsZero() &&
			page.Events[n-1].GetTime().AsTime().Sub(startedAt) > heartbeatTimeout+heartbeatTimeout/2 {
			break
		}
	}
	if err := run.Cancel(ctx, "enough"); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, ctx, stopped, "an automatic heartbeat to see the cancellation"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the activity stopped with %v, want context.Canceled", err)
	}
	description := await(t, ctx, run, cancelled)
	if attempts := description.GetSteps()[0].GetAttempts(); attempts != 1 {
		t.Fatalf("%d attempts, want 1 (the lease never expired)", attempts)
	}
	// The server records the first heartbeat of an attempt (later ones at most every 30s).
	if beats := historyOf(t, ctx, run, "StepHeartbeat"); len(beats) == 0 {
		t.Fatal("no heartbeat recorded")
	}
}
