package baton

import (
	"context"
	"fmt"

	"baton.dev/baton/batonv1"
	"google.golang.org/protobuf/types/known/structpb"
)

// ReusePolicy says what Start does when a run with the same workflow id exists.
type ReusePolicy = batonv1.WorkflowIdReusePolicy

// The reuse policies of StartOptions.ReusePolicy.
const (
	// ReuseDefault returns the existing run while it is open and starts a new one once it closed.
	ReuseDefault ReusePolicy = batonv1.WorkflowIdReusePolicy_WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED
	// ReuseReturnExisting returns the existing run, open or closed, and starts nothing.
	ReuseReturnExisting ReusePolicy = batonv1.WorkflowIdReusePolicy_WORKFLOW_ID_REUSE_POLICY_RETURN_EXISTING
	// ReuseReject fails with ALREADY_EXISTS if a run with the id exists, open or closed.
	ReuseReject ReusePolicy = batonv1.WorkflowIdReusePolicy_WORKFLOW_ID_REUSE_POLICY_REJECT
	// ReuseAllowAfterClose starts a new run if the existing one closed; returns it while open.
	ReuseAllowAfterClose ReusePolicy = batonv1.WorkflowIdReusePolicy_WORKFLOW_ID_REUSE_POLICY_ALLOW_AFTER_CLOSE
)

// StartOptions are Start's optional settings; the zero value starts the latest version under a
// server-generated id.
type StartOptions struct {
	// ID is the workflow id; the server generates one when empty.
	ID string
	// Version pins a definition version; 0 is the latest.
	Version int32
	// ReusePolicy decides what happens when ID is taken.
	ReusePolicy ReusePolicy
}

// Start starts a run of definition with input (any Go value ToValue accepts; nil for none) and
// returns a handle pinned to the run it started — or to the existing run the reuse policy
// returned (then Started() is false).
//
//	run, err := c.Start(ctx, "order", map[string]any{"id": 7}, baton.StartOptions{ID: "order-7"})
func (c *Client) Start(ctx context.Context, definition string, input any, opts StartOptions) (*WorkflowRun, error) {
	value, err := ToValue(input)
	if err != nil {
		return nil, fmt.Errorf("baton: StartWorkflow: input: %w", err)
	}
	response, err := c.workflows.StartWorkflow(ctx, &batonv1.StartWorkflowRequest{
		Definition:    definition,
		Version:       opts.Version,
		WorkflowId:    opts.ID,
		Input:         value,
		IdReusePolicy: opts.ReusePolicy,
	})
	if err != nil {
		return nil, WrapRPCError("StartWorkflow", err)
	}
	return &WorkflowRun{
		client:        c,
		id:            response.GetWorkflowId(),
		runID:         response.GetRunId(),
		started:       response.GetStarted(),
		definition:    Definition{Name: response.GetDefinition().GetName(), Version: response.GetDefinition().GetVersion()},
		previousRunID: response.GetPreviousRunId(),
	}, nil
}

// Workflow returns a handle on the latest run of workflowID (each call resolves "latest" anew).
func (c *Client) Workflow(workflowID string) *WorkflowRun {
	return &WorkflowRun{client: c, id: workflowID}
}

// WorkflowRun returns a handle on one run of workflowID; an empty runID means the latest run.
func (c *Client) WorkflowRun(workflowID, runID string) *WorkflowRun {
	return &WorkflowRun{client: c, id: workflowID, runID: runID}
}

// WorkflowRun is a handle on a workflow run: signal it, query it, follow its progress, await
// its result, cancel or terminate it. A handle with a run id addresses that run even after its
// workflow id was reused by a later run. Handles are cheap and safe for concurrent use.
type WorkflowRun struct {
	client        *Client
	id            string
	runID         string
	started       bool
	definition    Definition
	previousRunID string
}

// ID is the workflow id.
func (r *WorkflowRun) ID() string { return r.id }

// RunID is the run's id; empty for a handle on "the latest run" (Client.Workflow).
func (r *WorkflowRun) RunID() string { return r.runID }

// Started is true when Start started this run, false when it returned an existing one.
func (r *WorkflowRun) Started() bool { return r.started }

// Definition is the definition version the run is pinned to (set by Start).
func (r *WorkflowRun) Definition() Definition { return r.definition }

// PreviousRunID is, after a Start that replaced a closed run of the same id, that run's id.
func (r *WorkflowRun) PreviousRunID() string { return r.previousRunID }

// Signal sends the named signal with payload (any Go value ToValue accepts).
// FAILED_PRECONDITION if the run is closed.
func (r *WorkflowRun) Signal(ctx context.Context, name string, payload any) error {
	_, err := r.SignalWithRequestID(ctx, "", name, payload)
	return err
}

// SignalWithRequestID sends a signal deduplicated by requestID: a repeat of an earlier request
// id is accepted and ignored (accepted is then false), so a sender can retry safely.
func (r *WorkflowRun) SignalWithRequestID(ctx context.Context, requestID, name string, payload any) (accepted bool, err error) {
	value, err := ToValue(payload)
	if err != nil {
		return false, fmt.Errorf("baton: Signal %q: payload: %w", name, err)
	}
	response, err := r.client.workflows.Signal(ctx, &batonv1.SignalRequest{
		WorkflowId: r.id, RunId: r.runID, Name: name, Payload: value, RequestId: requestID,
	})
	if err != nil {
		return false, WrapRPCError("Signal", err)
	}
	return response.GetAccepted(), nil
}

// Query answers a read-only query from the run's state: "progress", "state", "steps",
// "output", or a named query of the definition. The result is converted with FromValue.
func (r *WorkflowRun) Query(ctx context.Context, query string) (any, error) {
	value, err := r.QueryValue(ctx, query)
	if err != nil {
		return nil, err
	}
	return FromValue(value), nil
}

// QueryInto answers a query and decodes the result into out (see Decode).
func (r *WorkflowRun) QueryInto(ctx context.Context, query string, out any) error {
	value, err := r.QueryValue(ctx, query)
	if err != nil {
		return err
	}
	return Decode(value, out)
}

// QueryValue answers a query with the raw JSON value.
func (r *WorkflowRun) QueryValue(ctx context.Context, query string) (*structpb.Value, error) {
	response, err := r.client.workflows.Query(ctx, &batonv1.QueryRequest{WorkflowId: r.id, RunId: r.runID, Query: query})
	if err != nil {
		return nil, WrapRPCError("Query", err)
	}
	return response.GetResult(), nil
}

// Describe returns the run's summary, input, output, failure and steps.
func (r *WorkflowRun) Describe(ctx context.Context) (*batonv1.WorkflowDescription, error) {
	response, err := r.client.workflows.DescribeWorkflow(ctx, &batonv1.DescribeWorkflowRequest{WorkflowId: r.id, RunId: r.runID})
	if err != nil {
		return nil, WrapRPCError("DescribeWorkflow", err)
	}
	return response.GetWorkflow(), nil
}

// Cancel asks the run to stop: scheduling stops, running activities learn it from their next
// heartbeat, then completed steps are compensated if the definition says so.
func (r *WorkflowRun) Cancel(ctx context.Context, reason string) error {
	_, err := r.client.workflows.CancelWorkflow(ctx, &batonv1.CancelWorkflowRequest{WorkflowId: r.id, RunId: r.runID, Reason: reason})
	return WrapRPCError("CancelWorkflow", err)
}

// Terminate stops the run at once: nothing more runs, no compensation.
func (r *WorkflowRun) Terminate(ctx context.Context, reason string) error {
	_, err := r.client.workflows.TerminateWorkflow(ctx, &batonv1.TerminateWorkflowRequest{WorkflowId: r.id, RunId: r.runID, Reason: reason})
	return WrapRPCError("TerminateWorkflow", err)
}

// String reads "workflow ID (run RUN)".
func (r *WorkflowRun) String() string {
	if r.runID == "" {
		return fmt.Sprintf("workflow %s", r.id)
	}
	return fmt.Sprintf("workflow %s (run %s)", r.id, r.runID)
}
