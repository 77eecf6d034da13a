package worker_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/internal/testserver"
	"baton.dev/baton/worker"
)

func TestConcurrencyLimitHolds(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  a: { activity: slow }
  b: { activity: slow }
  c: { activity: slow }
  d: { activity: slow }
`)
	const limit = 2
	var running, most int64
	started := make(chan string, 4)
	release := make(chan struct{})
	startWorker(t, c, worker.Options{TaskQueue: queue, MaxConcurrent: limit, Pollers: 4}, map[string]worker.ActivityFunc{
		"slow": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			now := atomic.AddInt64(&running, 1)
			for {
				seen := atomic.LoadInt64(&most)
				if now <= seen || atomic.CompareAndSwapInt64(&most, seen, now) {
					break
				}
			}
			started <- in.Step
			defer atomic.AddInt64(&running, -1)
			select {
			case <-release:
				return map[string]any{"step": in.Step}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, ctx, started, "the first task")
	receive(t, ctx, started, "the second task")
	// Both slots are taken and two tasks wait on the server. No third may start; this window only
	// gives a broken limit the chance to show (a correct worker passes whatever its length).
	select {
	case step := <-started:
		t.Fatalf("step %s started while %d tasks were running (limit %d)", step, atomic.LoadInt64(&running)-1, limit)
	case <-time.After(300 * time.Millisecond):
	}
	for i := 0; i < 2; i++ {
		release <- struct{}{}
		receive(t, ctx, started, "a task to take the freed slot")
	}
	release <- struct{}{}
	release <- struct{}{}
	await(t, ctx, run, completed)
	if got := atomic.LoadInt64(&most); got != limit {
		t.Fatalf("at most %d tasks ran at once, want exactly %d", got, limit)
	}
}

func TestShutdownFinishesTasksInFlight(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  job: { activity: job }
`)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	stop := startWorker(t, c, worker.Options{TaskQueue: queue, GracePeriod: 45 * time.Second}, map[string]worker.ActivityFunc{
		"job": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			started <- struct{}{}
			select {
			case <-release:
				return "done", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, ctx, started, "the task to start")
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	release <- struct{}{} // received only by the activity, which still runs during the shutdown
	if err := receive(t, ctx, stopped, "the worker to stop"); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	step := await(t, ctx, run, completed).GetSteps()[0]
	if step.GetAttempts() != 1 || baton.JSON(step.GetOutput()) != `"done"` {
		t.Fatalf("step: %d attempts, output %s; want 1 attempt that finished during the shutdown", step.GetAttempts(), baton.JSON(step.GetOutput()))
	}
}

func TestShutdownHandsStragglersToAnotherWorker(t *testing.T) {
	t.Parallel()
	c := dial(t, server.Addr)
	ctx := timeout(t, 60*time.Second)
	queue := unique(t, "queue")
	definition := register(t, c, queue, fastRetry, `
steps:
  job: { activity: job }
`)
	started := make(chan struct{}, 1)
	abandoned := make(chan error, 1)
	stop := startWorker(t, c, worker.Options{TaskQueue: queue, GracePeriod: 200 * time.Millisecond}, map[string]worker.ActivityFunc{
		"job": func(ctx context.Context, in worker.ActivityInput) (any, error) {
			started <- struct{}{}
			<-ctx.Done() // outlives any grace period
			abandoned <- ctx.Err()
			return nil, ctx.Err()
		},
	})
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	receive(t, ctx, started, "the task to start")
	if err := stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if err := receive(t, ctx, abandoned, "the straggler's context to end"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the straggler saw %v, want context.Canceled", err)
	}
	startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"job": func(ctx context.Context, in worker.ActivityInput) (any, error) { return in.Attempt, nil },
	})
	description := await(t, ctx, run, completed)
	if got := baton.JSON(description.GetSteps()[0].GetOutput()); got != "2" {
		t.Fatalf("the second worker's output is %s, want attempt 2", got)
	}
	failures := historyOf(t, ctx, run, "StepFailed")
	if len(failures) != 1 || failures[0].GetStepFailed().GetFailure().GetType() != worker.TypeWorkerShutdown ||
		failures[0].GetStepFailed().GetFailure().GetNonRetryable() {
		t.Fatalf("failures: %v, want one retryable %s", failures, worker.TypeWorkerShutdown)
	}
}

func TestWorkerReconnectsWhenTheServerComesBack(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 90*time.Second)
	// A port where nothing listens yet.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	listener.Close()

	c := dial(t, address)
	queue := unique(t, "queue")
	stopWorker := startWorker(t, c, worker.Options{TaskQueue: queue}, map[string]worker.ActivityFunc{
		"job": func(ctx context.Context, in worker.ActivityInput) (any, error) { return "served", nil },
	})
	// The worker's polls fail (UNAVAILABLE) until a server listens on the port.
	if _, err := c.Workflow("x").Describe(ctx); !baton.IsUnavailable(err) {
		t.Fatalf("describe with no server: got %v, want UNAVAILABLE", err)
	}
	late, err := testserver.Start(testserver.Options{Listen: address})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The worker goes first: a poll in flight would hold up the server's graceful shutdown.
		if err := stopWorker(); err != nil {
			t.Error(err)
		}
		if err := late.Stop(); err != nil {
			t.Error(err)
		}
	}()
	// Drive the run on a connection of its own; the worker's connection recovers by itself.
	driver := dial(t, late.Addr)
	definition := register(t, driver, queue, fastRetry, `
steps:
  job: { activity: job }
`)
	run, err := driver.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	description := await(t, ctx, run, completed)
	if got := baton.JSON(description.GetSteps()[0].GetOutput()); got != `"served"` {
		t.Fatalf("output %s", got)
	}
}

func TestHeartbeatOutsideAnActivity(t *testing.T) {
	if err := worker.Heartbeat(context.Background(), nil); err == nil {
		t.Fatal("Heartbeat accepted a context that is not an activity's")
	}
	if _, ok := worker.Info(context.Background()); ok {
		t.Fatal("Info found an activity in a plain context")
	}
}

func TestRunEndsWhenTheClientIsClosed(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 30*time.Second)
	c, err := baton.Dial(server.Addr)
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, worker.Options{TaskQueue: unique(t, "queue"), Logf: t.Logf})
	result := make(chan error, 1)
	go func() { result <- w.Run(context.Background()) }()
	c.Close()
	if err := receive(t, ctx, result, "Run to return"); !baton.IsCanceled(err) {
		t.Fatalf("Run returned %v, want CANCELLED (the connection is closed)", err)
	}
	if err := w.Run(context.Background()); err == nil {
		t.Fatal("Run on a closed client returned nil")
	}
}
