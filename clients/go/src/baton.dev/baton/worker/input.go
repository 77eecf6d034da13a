package worker

import (
	"context"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"google.golang.org/protobuf/types/known/structpb"
)

// ActivityInput is what an activity knows about its attempt.
type ActivityInput struct {
	// WorkflowID is the run's workflow id.
	WorkflowID string
	// Step is the step's name in the definition.
	Step string
	// Activity is the activity name the task asked for.
	Activity string
	// Attempt counts from 1.
	Attempt int
	// IdempotencyKey is "workflow_id/step/attempt", the same on every redelivery of this attempt.
	IdempotencyKey string
	// Input is the step's evaluated input, as baton.FromValue converts it (whole numbers are int64).
	Input any
	// HeartbeatDetails are the last details an earlier attempt recorded with Heartbeat (resume
	// from there), or nil.
	HeartbeatDetails any
	// Deadline is when the attempt must be done (start_to_close); zero when the server gave none.
	// The activity's ctx carries it too.
	Deadline time.Time
	// HeartbeatTimeout is the step's heartbeat timeout; zero when the server gave none.
	HeartbeatTimeout time.Duration
	// Task is the task as the server sent it.
	Task *batonv1.PollActivityTaskResponse
}

func newActivityInput(response *batonv1.PollActivityTaskResponse) ActivityInput {
	in := ActivityInput{
		WorkflowID:       response.GetWorkflowId(),
		Step:             response.GetStep(),
		Activity:         response.GetActivity(),
		Attempt:          int(response.GetAttempt()),
		IdempotencyKey:   response.GetIdempotencyKey(),
		Input:            baton.FromValue(response.GetInput()),
		HeartbeatDetails: baton.FromValue(response.GetHeartbeatDetails()),
		Task:             response,
	}
	if response.GetDeadline() != nil {
		in.Deadline = response.GetDeadline().AsTime()
	}
	if response.GetHeartbeatTimeout() != nil {
		in.HeartbeatTimeout = response.GetHeartbeatTimeout().AsDuration()
	}
	return in
}

// DecodeInput stores the step's input in out (a pointer), the way encoding/json unmarshals.
func (in ActivityInput) DecodeInput(out any) error {
	return baton.Decode(in.Task.GetInput(), out)
}

// DecodeHeartbeatDetails stores an earlier attempt's heartbeat details in out (a pointer); ok is
// false (and out untouched) when there are none.
func (in ActivityInput) DecodeHeartbeatDetails(out any) (ok bool, err error) {
	details := in.Task.GetHeartbeatDetails()
	if details == nil {
		return false, nil
	}
	if _, null := details.GetKind().(*structpb.Value_NullValue); null {
		return false, nil
	}
	return true, baton.Decode(details, out)
}

type taskKey struct{}

// Info returns the ActivityInput of the activity running with ctx (or a context derived from it).
func Info(ctx context.Context) (ActivityInput, bool) {
	t, ok := ctx.Value(taskKey{}).(*task)
	if !ok {
		return ActivityInput{}, false
	}
	return t.input, true
}
