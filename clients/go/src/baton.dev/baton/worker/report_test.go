package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeServer records what a task reports, answering heartbeats with cancelRequested.
type fakeServer struct {
	mu              sync.Mutex
	cancelRequested bool
	heartbeats      []string // details of each heartbeat, as JSON
	completed       []string
	failures        []*batonv1.Failure
	beat            chan struct{}
}

func (f *fakeServer) PollActivityTask(ctx context.Context, in *batonv1.PollActivityTaskRequest, _ ...grpc.CallOption) (*batonv1.PollActivityTaskResponse, error) {
	return nil, status.Error(codes.Unimplemented, "not in this fake")
}

func (f *fakeServer) CompleteActivityTask(ctx context.Context, in *batonv1.CompleteActivityTaskRequest, _ ...grpc.CallOption) (*batonv1.CompleteActivityTaskResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completed = append(f.completed, baton.JSON(in.GetOutput()))
	return &batonv1.CompleteActivityTaskResponse{}, nil
}

func (f *fakeServer) FailActivityTask(ctx context.Context, in *batonv1.FailActivityTaskRequest, _ ...grpc.CallOption) (*batonv1.FailActivityTaskResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, in.GetFailure())
	return &batonv1.FailActivityTaskResponse{}, nil
}

func (f *fakeServer) RecordHeartbeat(ctx context.Context, in *batonv1.RecordHeartbeatRequest, _ ...grpc.CallOption) (*batonv1.RecordHeartbeatResponse, error) {
	f.mu.Lock()
	f.heartbeats = append(f.heartbeats, baton.JSON(in.GetDetails()))
	cancel := f.cancelRequested
	f.mu.Unlock()
	if f.beat != nil {
		f.beat <- struct{}{}
	}
	return &batonv1.RecordHeartbeatResponse{CancelRequested: cancel}, nil
}

// runTask runs fn as a leased task with the given earlier heartbeat details and waits for it.
func runTask(t *testing.T, fake *fakeServer, opts Options, details any, fn ActivityFunc) {
	t.Helper()
	w := newWorker(fake, opts)
	w.Register("act", fn)
	response := &batonv1.PollActivityTaskResponse{TaskToken: "t", WorkflowId: "w", Step: "s", Activity: "act", Attempt: 2, IdempotencyKey: "w/s/2"}
	if details != nil {
		response.HeartbeatDetails = baton.MustValue(details)
	}
	slots := make(chan struct{}, 1)
	slots <- struct{}{}
	w.start(response, slots)
	done := make(chan struct{})
	go func() {
		w.inFlight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the task did not finish within 30s")
	}
	if len(slots) != 0 {
		t.Fatal("the task's slot was not freed")
	}
}

func TestCancelledActivityIsReportedAsCancelled(t *testing.T) {
	fake := &fakeServer{cancelRequested: true}
	runTask(t, fake, Options{TaskQueue: "q", Logf: t.Logf}, nil, func(ctx context.Context, in ActivityInput) (any, error) {
		if err := Heartbeat(ctx, "working"); !errors.Is(err, context.Canceled) {
			return nil, NonRetryable("Unexpected", "Heartbeat returned %v", err)
		}
		return nil, errors.New("stopped early")
	})
	if len(fake.failures) != 1 {
		t.Fatalf("failures reported: %v", fake.failures)
	}
	f := fake.failures[0]
	if f.GetType() != TypeCancelled || !f.GetNonRetryable() || f.GetMessage() != "the run was cancelled: stopped early" {
		t.Fatalf("reported %v, want a non-retryable Cancelled failure", f)
	}
}

func TestAutomaticHeartbeatsCarryTheLatestDetails(t *testing.T) {
	fake := &fakeServer{beat: make(chan struct{}, 100)}
	runTask(t, fake, Options{TaskQueue: "q", Logf: t.Logf, HeartbeatInterval: 10 * time.Millisecond},
		map[string]any{"done": 2}, func(ctx context.Context, in ActivityInput) (any, error) {
			<-fake.beat // an automatic heartbeat, carrying the earlier attempt's details
			if err := Heartbeat(ctx, map[string]any{"done": 5}); err != nil {
				return nil, err
			}
			<-fake.beat // the explicit one
			<-fake.beat // an automatic one after it
			return in.HeartbeatDetails, nil
		})
	if len(fake.heartbeats) < 3 {
		t.Fatalf("heartbeats: %v", fake.heartbeats)
	}
	if fake.heartbeats[0] != `{"done":2}` || fake.heartbeats[len(fake.heartbeats)-1] != `{"done":5}` {
		t.Fatalf("heartbeat details: %v; want the earlier attempt's first and the latest last", fake.heartbeats)
	}
	if len(fake.completed) != 1 || fake.completed[0] != `{"done":2}` {
		t.Fatalf("completed: %v", fake.completed)
	}
}

func TestAbandonedTaskIsFailedOnceAsRetryable(t *testing.T) {
	fake := &fakeServer{}
	w := newWorker(fake, Options{TaskQueue: "q", Logf: t.Logf})
	ctx, cancel := context.WithCancel(context.Background())
	tk := &task{w: w, token: "t", input: ActivityInput{Activity: "act", IdempotencyKey: "w/s/1"}, ctx: ctx, cancel: cancel}
	tk.abandon(time.Second)
	if ctx.Err() == nil {
		t.Fatal("abandon did not cancel the activity's context")
	}
	tk.finish("late result", nil) // the activity returns after the shutdown gave it up
	if len(fake.failures) != 1 || len(fake.completed) != 0 {
		t.Fatalf("reported failures %v and completions %v, want one failure", fake.failures, fake.completed)
	}
	if f := fake.failures[0]; f.GetType() != TypeWorkerShutdown || f.GetNonRetryable() {
		t.Fatalf("reported %v, want a retryable %s", f, TypeWorkerShutdown)
	}
}
