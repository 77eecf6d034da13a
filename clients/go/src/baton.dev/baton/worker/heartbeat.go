package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"google.golang.org/protobuf/types/known/structpb"
)

// minHeartbeatInterval is the shortest automatic heartbeat period.
const minHeartbeatInterval = time.Second

// Heartbeat records that the activity running with ctx is alive, with progress details (any
// JSON value, see baton.ToValue) that a later attempt receives as ActivityInput.HeartbeatDetails
// if this one fails. nil details keep the last ones. Each call is one RPC; the automatic
// heartbeats resend the latest details in between.
//
// It returns nil while the activity should go on, and ctx's error once it should stop: the run
// was cancelled (the failure is then reported as "Cancelled"), the server no longer leases the
// attempt, or the worker is shutting down. A failed heartbeat call (server unreachable) is
// logged, not returned: the next automatic heartbeat tries again.
func Heartbeat(ctx context.Context, details any) error {
	t, ok := ctx.Value(taskKey{}).(*task)
	if !ok {
		return errors.New("worker.Heartbeat: ctx is not the context of a running activity")
	}
	var value *structpb.Value
	if details != nil {
		converted, err := baton.ToValue(details)
		if err != nil {
			return fmt.Errorf("worker.Heartbeat: details: %w", err)
		}
		value = converted
	}
	if err := t.ctx.Err(); err != nil {
		return err
	}
	t.heartbeat(value)
	select {
	case t.beat <- struct{}{}:
	default:
	}
	return t.ctx.Err()
}

// heartbeatInterval is max(heartbeat_timeout/3, 1s) — the floor lowered to heartbeat_timeout/2
// for timeouts under 2s, so a beat always lands in time — or Options.HeartbeatInterval when the
// task does not carry its heartbeat timeout.
func (t *task) heartbeatInterval() time.Duration {
	timeout := t.input.HeartbeatTimeout
	if timeout <= 0 {
		return t.w.opts.HeartbeatInterval
	}
	floor := minHeartbeatInterval
	if half := timeout / 2; half < floor {
		floor = half
	}
	if interval := timeout / 3; interval > floor {
		return interval
	}
	return floor
}

// startHeartbeats heartbeats every interval (restarted by explicit heartbeats) until the
// returned stop is called or the activity's context ends.
func (t *task) startHeartbeats() (stop func()) {
	interval := t.heartbeatInterval()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		timer := time.NewTimer(interval)
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.ctx.Done():
				return
			case <-t.beat:
				if !timer.Stop() {
					<-timer.C
				}
			case <-timer.C:
				t.heartbeat(nil)
			}
			timer.Reset(interval)
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// heartbeat sends one heartbeat with details (nil: the last details) and acts on the answer.
func (t *task) heartbeat(details *structpb.Value) {
	t.sendMu.Lock()
	defer t.sendMu.Unlock()
	t.mu.Lock()
	if details != nil {
		t.details = details
	}
	details = t.details
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), t.w.opts.CallTimeout)
	defer cancel()
	response, err := t.w.stub.RecordHeartbeat(ctx, &batonv1.RecordHeartbeatRequest{TaskToken: t.token, Details: details})
	switch {
	case err == nil && response.GetCancelRequested():
		t.stopWith(cancelRequested)
	case err == nil:
	case baton.IsNotFound(err):
		t.stopWith(leaseLost)
	default:
		t.w.opts.Logf("worker %s: heartbeat of %s failed: %v", t.w.opts.Identity, t.input.IdempotencyKey, baton.WrapRPCError("RecordHeartbeat", err))
	}
}
