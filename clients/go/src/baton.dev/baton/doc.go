// Package baton is the Go client of Baton, the durable workflow orchestrator: register
// definitions, start runs, signal and query them, follow their progress, await their result,
// read their history, cancel or terminate them. Package baton.dev/baton/worker runs Go
// functions as activities; baton.dev/baton/batonv1 holds the generated API types and stubs.
//
//	c, err := baton.Dial("") // $BATON_ADDRESS, else 127.0.0.1:7400
//	if err != nil { ... }
//	defer c.Close()
//	run, err := c.Start(ctx, "order", map[string]any{"id": 7}, baton.StartOptions{ID: "order-7"})
//	if err != nil { ... }
//	_ = run.StreamProgress(ctx, func(p *batonv1.Progress) error {
//		fmt.Printf("%3.0f%% %v\n", p.Percentage, p.RunningSteps)
//		return nil
//	})
//	var out struct{ Total int `json:"total"` }
//	err = run.Get(ctx, &out) // a *baton.WorkflowError unless the run COMPLETED
//
// Errors: a failed RPC is an *Error carrying the gRPC code and the server's message; test it
// with IsNotFound, IsInvalidArgument, IsFailedPrecondition, IsDeadlineExceeded, ... or Code.
//
// Values: inputs, outputs, payloads and query results are JSON values (google.protobuf.Value).
// ToValue converts Go values (maps, slices, structs with json tags, numbers, ...); FromValue
// converts back to plain Go values, returning whole numbers within ±2^53 as int64 and other
// numbers as float64, so {"i": 7} prints as {"i":7}; Decode unmarshals into a typed value.
//
// Every call is bounded by its context: give unary calls a deadline, and Await one as long as you
// are prepared to wait (DEADLINE_EXCEEDED while the run is still open).
package baton
