package baton

import (
	"context"
	"io"

	"baton.dev/baton/batonv1"
	"baton.dev/baton/internal/backoff"
)

// StreamProgress calls fn with a snapshot of the run's progress, then once per change, and
// returns nil when the run has closed (the last update carries its final status). An error
// from fn stops the stream and is returned as is.
//
// If the connection drops (UNAVAILABLE), the stream resumes after the last event id it saw,
// with backoff, so fn misses nothing; it gives up when ctx ends. fn runs on the calling
// goroutine, one update at a time.
//
//	err := run.StreamProgress(ctx, func(p *batonv1.Progress) error {
//		fmt.Printf("%3.0f%% %s\n", p.Percentage, p.CurrentPhase)
//		return nil
//	})
func (r *WorkflowRun) StreamProgress(ctx context.Context, fn func(*batonv1.Progress) error) error {
	var after int64
	var wait backoff.Backoff
	for {
		received, err := r.streamProgressOnce(ctx, after, fn)
		if received > after {
			after = received
			wait.Reset()
		}
		if err == nil || !IsUnavailable(err) || ctx.Err() != nil {
			return err
		}
		if wait.Sleep(ctx) != nil {
			return err
		}
	}
}

// streamProgressOnce runs one StreamProgress call; it returns the last event id delivered and
// nil at the end of the stream, fn's error, or the RPC's error as an *Error.
func (r *WorkflowRun) streamProgressOnce(ctx context.Context, after int64, fn func(*batonv1.Progress) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := r.client.workflows.StreamProgress(ctx, &batonv1.StreamProgressRequest{
		WorkflowId: r.id, RunId: r.runID, AfterEventId: after,
	})
	if err != nil {
		return after, WrapRPCError("StreamProgress", err)
	}
	for {
		progress, err := stream.Recv()
		if err == io.EOF {
			return after, nil
		}
		if err != nil {
			return after, WrapRPCError("StreamProgress", err)
		}
		if progress.GetEventId() > after {
			after = progress.GetEventId()
		}
		if err := fn(progress); err != nil {
			return after, err
		}
	}
}
