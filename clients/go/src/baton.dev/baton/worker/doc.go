// Package worker runs Go functions as Baton activities: it long-polls a task queue, runs each
// task's activity with a context, heartbeats, and reports the result or a typed failure.
//
//	c, _ := baton.Dial("")
//	w := worker.New(c, worker.Options{TaskQueue: "orders", MaxConcurrent: 8})
//	w.Register("charge", func(ctx context.Context, in worker.ActivityInput) (any, error) {
//		var order struct{ Amount int `json:"amount"` }
//		if err := in.DecodeInput(&order); err != nil {
//			return nil, worker.NonRetryable("BadInput", err.Error())
//		}
//		return map[string]any{"charged": order.Amount}, nil
//	})
//	err := w.Run(ctx) // until ctx ends, then a graceful shutdown
//
// Concurrency: at most Options.MaxConcurrent tasks run at once; pollers only ask for a task
// when a slot is free, so the server never leases a task this process cannot start.
//
// Heartbeats: while an activity runs the worker heartbeats for it, every max(heartbeat_timeout/3,
// 1s) when the task carries its heartbeat timeout and every Options.HeartbeatInterval otherwise,
// resending the last details the activity gave Heartbeat (so the details survive into the next
// attempt's ActivityInput.HeartbeatDetails). Heartbeat(ctx, details) records details at once.
//
// Cancellation: when a heartbeat learns that the run was cancelled, the activity's ctx is
// cancelled; the error the activity then returns is reported as failure type "Cancelled".
//
// Failures: return an ActivityError (or one made with NewError / NonRetryable) to choose the
// failure type, message, details and retryability; any other error is reported with its Go type
// name as the type ("Error" for plain errors.New / fmt.Errorf errors); a panic is type "Panic".
//
// Shutdown: when Run's ctx ends the worker stops polling, lets running activities finish within
// Options.GracePeriod, then cancels the rest and fails them with the retryable type
// "WorkerShutdown" so that their next attempt runs on another worker.
//
// Connection loss: polls and reports that fail with UNAVAILABLE are retried with exponential
// backoff (100ms up to 5s, jittered) until the server is back.
package worker
