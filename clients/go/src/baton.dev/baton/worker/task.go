package worker

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"baton.dev/baton/internal/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
)

// reportPatience bounds the retries of a complete or fail call while the server is unreachable.
const reportPatience = time.Minute

// stopReason says why the worker cancelled an activity's context.
type stopReason int

const (
	notStopped      stopReason = iota
	cancelRequested            // the run was cancelled: report "Cancelled"
	leaseLost                  // the server no longer knows the token: report nothing
	shutdown                   // the worker gave the task up: already failed with "WorkerShutdown"
)

// task is one leased attempt running in this worker.
type task struct {
	w      *Worker
	input  ActivityInput
	token  string
	ctx    context.Context
	cancel context.CancelFunc
	beat   chan struct{} // an explicit heartbeat went out: restart the automatic period

	sendMu  sync.Mutex      // heartbeats go out one at a time, in order
	mu      sync.Mutex      // guards the fields below
	details *structpb.Value // the details every heartbeat carries
	stop    stopReason
	settled bool // a result is being or was reported; later ones are dropped
}

// start runs a leased task on its own goroutine; the slot is freed once its result is reported.
func (w *Worker) start(response *batonv1.PollActivityTaskResponse, slots chan struct{}) {
	var ctx context.Context
	var cancel context.CancelFunc
	if deadline := response.GetDeadline(); deadline != nil {
		ctx, cancel = context.WithDeadline(context.Background(), deadline.AsTime())
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	t := &task{
		w:       w,
		input:   newActivityInput(response),
		token:   response.GetTaskToken(),
		cancel:  cancel,
		beat:    make(chan struct{}, 1),
		details: response.GetHeartbeatDetails(), // carried forward until the activity records its own
	}
	t.ctx = context.WithValue(ctx, taskKey{}, t)
	w.track(t)
	w.inFlight.Add(1)
	go func() {
		defer func() {
			t.cancel()
			w.untrack(t)
			<-slots
			w.inFlight.Done()
		}()
		t.run()
	}()
}

func (t *task) run() {
	fn := t.w.activity(t.input.Activity)
	if fn == nil {
		t.finish(nil, &ActivityError{
			Type: TypeNotRegistered,
			Message: fmt.Sprintf("worker %s on queue %q has no activity %q (it serves: %s)",
				t.w.opts.Identity, t.w.opts.TaskQueue, t.input.Activity, t.w.activityNames()),
		})
		return
	}
	stopBeats := t.startHeartbeats()
	output, err := t.call(fn)
	stopBeats()
	t.finish(output, err)
}

// call runs the activity, turning a panic into a "Panic" failure.
func (t *task) call(fn ActivityFunc) (output any, err error) {
	defer func() {
		if p := recover(); p != nil {
			stack := string(debug.Stack())
			t.w.opts.Logf("worker %s: activity %q (%s) panicked: %v\n%s", t.w.opts.Identity, t.input.Activity, t.input.IdempotencyKey, p, stack)
			output, err = nil, &ActivityError{
				Type:    TypePanic,
				Message: fmt.Sprintf("activity %q panicked: %v", t.input.Activity, p),
				Details: map[string]any{"stack": stack},
			}
		}
	}()
	return fn(t.ctx, t.input)
}

// stopWith cancels the activity's context, remembering the first reason.
func (t *task) stopWith(reason stopReason) {
	t.mu.Lock()
	if t.stop == notStopped {
		t.stop = reason
	}
	t.mu.Unlock()
	t.cancel()
}

// settle claims the right to report; false when a result was already reported.
func (t *task) settle() (stopReason, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.settled {
		return t.stop, false
	}
	t.settled = true
	return t.stop, true
}

// finish reports the activity's result.
func (t *task) finish(output any, err error) {
	reason, ok := t.settle()
	if !ok {
		t.w.opts.Logf("worker %s: result of %s dropped: the task was already given up (%v)", t.w.opts.Identity, t.input.IdempotencyKey, err)
		return
	}
	switch {
	case reason == leaseLost:
		t.w.opts.Logf("worker %s: result of %s dropped: the server no longer leases the attempt (it timed out or the run closed)", t.w.opts.Identity, t.input.IdempotencyKey)
	case err == nil:
		t.complete(output)
	case reason == cancelRequested:
		t.fail(&batonv1.Failure{Type: TypeCancelled, Message: clipMessage("the run was cancelled: " + err.Error()), NonRetryable: true})
	default:
		t.fail(failureOf(err))
	}
}

// abandon gives a task up at shutdown: cancels its context and fails it (retryable) at once.
func (t *task) abandon(grace time.Duration) {
	t.stopWith(shutdown)
	if _, ok := t.settle(); !ok {
		return
	}
	t.fail(&batonv1.Failure{
		Type: TypeWorkerShutdown,
		Message: fmt.Sprintf("worker %s shut down and activity %q did not finish within the %s grace period; another worker will retry it",
			t.w.opts.Identity, t.input.Activity, grace),
	})
}

func (t *task) complete(output any) {
	value, err := baton.ToValue(output)
	if err != nil {
		t.fail(&batonv1.Failure{Type: TypeInvalidOutput, Message: clipMessage(fmt.Sprintf("activity %q returned an output that is not JSON: %v", t.input.Activity, err)), NonRetryable: true})
		return
	}
	err = t.send("CompleteActivityTask", func(ctx context.Context) error {
		_, err := t.w.stub.CompleteActivityTask(ctx, &batonv1.CompleteActivityTaskRequest{TaskToken: t.token, Output: value})
		return err
	})
	if baton.IsInvalidArgument(err) {
		t.fail(&batonv1.Failure{Type: TypeInvalidOutput, Message: clipMessage(fmt.Sprintf("the server refused the output of activity %q: %v", t.input.Activity, err)), NonRetryable: true})
		return
	}
	t.logReportError(err)
}

func (t *task) fail(failure *batonv1.Failure) {
	send := func(failure *batonv1.Failure) error {
		return t.send("FailActivityTask", func(ctx context.Context) error {
			_, err := t.w.stub.FailActivityTask(ctx, &batonv1.FailActivityTaskRequest{TaskToken: t.token, Failure: failure})
			return err
		})
	}
	err := send(failure)
	if baton.IsInvalidArgument(err) && failure.Details != nil {
		// Most likely the details are too large: report the failure without them.
		failure.Details = nil
		failure.Message = clipMessage(failure.Message + " (details left out: " + err.Error() + ")")
		err = send(failure)
	}
	t.logReportError(err)
}

func (t *task) logReportError(err error) {
	switch {
	case err == nil:
	case baton.IsNotFound(err):
		t.w.opts.Logf("worker %s: result of %s not accepted: the attempt is no longer leased (it timed out, or the run was cancelled or closed)", t.w.opts.Identity, t.input.IdempotencyKey)
	default:
		t.w.opts.Logf("worker %s: reporting %s failed: %v", t.w.opts.Identity, t.input.IdempotencyKey, err)
	}
}

// send makes a report call, retrying with backoff while the server is unreachable.
func (t *task) send(op string, call func(ctx context.Context) error) error {
	giveUp := time.Now().Add(reportPatience)
	var wait backoff.Backoff
	for {
		ctx, cancel := context.WithTimeout(context.Background(), t.w.opts.CallTimeout)
		err := call(ctx)
		cancel()
		if err == nil {
			return nil
		}
		code := baton.Code(err)
		if (code != codes.Unavailable && code != codes.DeadlineExceeded) || time.Now().After(giveUp) {
			return baton.WrapRPCError(op, err)
		}
		t.w.opts.Logf("worker %s: %s for %s failed, retrying: %v", t.w.opts.Identity, op, t.input.IdempotencyKey, err)
		if err := wait.Sleep(context.Background()); err != nil {
			return err
		}
	}
}

func (w *Worker) activityNames() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.activities))
	for name := range w.activities {
		names = append(names, fmt.Sprintf("%q", name))
	}
	if len(names) == 0 {
		return "nothing"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
