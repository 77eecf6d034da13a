package worker

import (
	"context"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"baton.dev/baton/internal/backoff"
	"google.golang.org/grpc/codes"
)

// pollLoop takes a free slot, long-polls for a task and hands it to a goroutine, until ctx
// ends (nil) or the server refuses the worker for good (the error).
func (w *Worker) pollLoop(ctx context.Context, slots chan struct{}) error {
	var wait backoff.Backoff
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		response, err := w.pollOnce(ctx)
		if err != nil || response.GetTaskToken() == "" {
			<-slots
		}
		switch {
		case ctx.Err() != nil:
			if response.GetTaskToken() != "" {
				// Leased as the poll was cancelled: run it like any task in flight (the shutdown
				// waits for it within the grace period).
				w.start(response, slots)
			}
			return nil
		case err != nil:
			if fatalPollError(err) {
				return err
			}
			w.opts.Logf("worker %s: poll %q failed, retrying: %v", w.opts.Identity, w.opts.TaskQueue, err)
			if wait.Sleep(ctx) != nil {
				return nil
			}
			continue
		}
		wait.Reset()
		if response.GetTaskToken() != "" {
			w.start(response, slots)
		}
	}
}

func (w *Worker) pollOnce(ctx context.Context) (*batonv1.PollActivityTaskResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.PollTimeout)
	defer cancel()
	response, err := w.stub.PollActivityTask(ctx, &batonv1.PollActivityTaskRequest{
		TaskQueue: w.opts.TaskQueue, WorkerIdentity: w.opts.Identity,
	})
	if err != nil {
		if baton.IsDeadlineExceeded(err) && ctx.Err() != nil {
			return &batonv1.PollActivityTaskResponse{}, nil // an empty long poll on a slow machine
		}
		return nil, baton.WrapRPCError("PollActivityTask", err)
	}
	return response, nil
}

// fatalPollError: errors that retrying cannot fix — including CANCELLED while the worker's own
// context is live, which means the client's connection was closed.
func fatalPollError(err error) bool {
	switch baton.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented, codes.Canceled:
		return true
	}
	return false
}
