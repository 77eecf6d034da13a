package baton

import (
	"context"
	"fmt"
	"strings"

	"baton.dev/baton/batonv1"
)

// Await waits until the run closes and returns its description (status, output or failure,
// steps); a closed run answers at once. It is bounded by ctx: while the run is still open when
// ctx's deadline passes, the error is DEADLINE_EXCEEDED (IsDeadlineExceeded). A run that closed
// unsuccessfully is not an error here: read the description's status, or use Get.
//
// Against a server without AwaitWorkflow (UNIMPLEMENTED), Await follows StreamProgress until
// the run closes and then describes it, with the same result.
func (r *WorkflowRun) Await(ctx context.Context) (*batonv1.WorkflowDescription, error) {
	response, err := r.client.workflows.AwaitWorkflow(ctx, &batonv1.AwaitWorkflowRequest{WorkflowId: r.id, RunId: r.runID})
	if err == nil {
		return response.GetWorkflow(), nil
	}
	if !IsUnimplemented(err) {
		return nil, WrapRPCError("AwaitWorkflow", err)
	}
	for {
		if err := r.StreamProgress(ctx, func(*batonv1.Progress) error { return nil }); err != nil {
			return nil, err
		}
		description, err := r.Describe(ctx)
		if err != nil {
			return nil, err
		}
		if IsClosed(description.GetInfo().GetStatus()) {
			return description, nil
		}
	}
}

// Get awaits the run (see Await) and decodes its output into out (a pointer, or nil to ignore
// the output). A run that closed with any status but COMPLETED is a *WorkflowError.
//
//	var result struct{ URL string `json:"url"` }
//	err := run.Get(ctx, &result)
func (r *WorkflowRun) Get(ctx context.Context, out any) error {
	description, err := r.Await(ctx)
	if err != nil {
		return err
	}
	if description.GetInfo().GetStatus() != batonv1.WorkflowStatus_WORKFLOW_STATUS_COMPLETED {
		return &WorkflowError{
			WorkflowID: description.GetInfo().GetWorkflowId(),
			RunID:      description.GetInfo().GetRunId(),
			Status:     description.GetInfo().GetStatus(),
			Failure:    description.GetFailure(),
		}
	}
	if out == nil {
		return nil
	}
	return Decode(description.GetOutput(), out)
}

// WorkflowError is a run that closed without completing (failed, cancelled, terminated,
// compensated, ...), as Get reports it.
type WorkflowError struct {
	// WorkflowID and RunID name the run.
	WorkflowID, RunID string
	// Status is how the run closed.
	Status batonv1.WorkflowStatus
	// Failure is why, when the server recorded a failure (nil for cancel and terminate).
	Failure *batonv1.Failure
}

// Error reads "baton: workflow ID (run R) closed FAILED: step charge: PaymentDeclined: card expired".
func (e *WorkflowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "baton: workflow %s", e.WorkflowID)
	if e.RunID != "" {
		fmt.Fprintf(&b, " (run %s)", e.RunID)
	}
	fmt.Fprintf(&b, " closed %s", StatusName(e.Status))
	if e.Failure != nil {
		b.WriteString(": ")
		b.WriteString(FailureText(e.Failure))
	}
	return b.String()
}

// FailureText renders a failure as "step S: TYPE: message" (parts left out when empty).
func FailureText(f *batonv1.Failure) string {
	var parts []string
	if f.GetStep() != "" {
		parts = append(parts, "step "+f.GetStep())
	}
	if f.GetType() != "" {
		parts = append(parts, f.GetType())
	}
	if f.GetMessage() != "" {
		parts = append(parts, f.GetMessage())
	}
	return strings.Join(parts, ": ")
}

// StatusName is a status without its enum prefix: "COMPLETED", "FAILED", ...
func StatusName(s batonv1.WorkflowStatus) string {
	return strings.TrimPrefix(s.String(), "WORKFLOW_STATUS_")
}

// IsClosed reports whether a run in status s is done for good (anything but RUNNING and unset).
func IsClosed(s batonv1.WorkflowStatus) bool {
	return s != batonv1.WorkflowStatus_WORKFLOW_STATUS_RUNNING && s != batonv1.WorkflowStatus_WORKFLOW_STATUS_UNSPECIFIED
}
