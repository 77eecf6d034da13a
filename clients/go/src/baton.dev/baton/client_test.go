package baton_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
)

// signalDefinition waits for "approve", then echoes the payload and the input through a builtin.
const signalDefinition = `
steps:
  wait: { wait_for_signal: { name: approve } }
  echo: { activity: builtin.echo, depends_on: [wait], input: { approved: "${steps.wait.signal.approved}", i: "${input.i}" } }
output: { approved: "${steps.echo.output.approved}", i: "${steps.echo.output.i}" }
queries:
  approved: "${steps.wait.signal.approved}"
`

func TestStartSignalQueryStreamAwait(t *testing.T) {
	t.Parallel()
	c := dial(t)
	ctx := timeout(t, 60*time.Second)
	definition := register(t, c, signalDefinition)
	id := unique(t, "run")

	run, err := c.Start(ctx, definition, map[string]any{"i": 7}, baton.StartOptions{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Started() || run.ID() != id || run.RunID() == "" || run.Definition().Name != definition {
		t.Fatalf("start: started=%v id=%q run=%q definition=%+v", run.Started(), run.ID(), run.RunID(), run.Definition())
	}

	// The id is taken: the default policy returns the open run, REJECT refuses.
	again, err := c.Start(ctx, definition, nil, baton.StartOptions{ID: id})
	if err != nil || again.Started() || again.RunID() != run.RunID() {
		t.Fatalf("second start: %v started=%v run=%q, want the existing run %q", err, again.Started(), again.RunID(), run.RunID())
	}
	if _, err := c.Start(ctx, definition, nil, baton.StartOptions{ID: id, ReusePolicy: baton.ReuseReject}); !baton.IsAlreadyExists(err) {
		t.Fatalf("start with REJECT: got %v, want ALREADY_EXISTS", err)
	}

	// Queries answer from the waiting run.
	var progress struct {
		Status            string            `json:"status"`
		WaitingForSignals map[string]string `json:"waitingForSignals"`
	}
	if err := run.QueryInto(ctx, "progress", &progress); err != nil {
		t.Fatal(err)
	}
	if progress.Status != "WORKFLOW_STATUS_RUNNING" || progress.WaitingForSignals["wait"] != "approve" {
		t.Fatalf("progress query: %+v", progress)
	}
	state, err := run.Query(ctx, "state")
	if err != nil {
		t.Fatal(err)
	}
	if input := state.(map[string]any)["input"]; baton.JSON(baton.MustValue(input)) != `{"i":7}` {
		t.Fatalf("state query input: %v", input)
	}

	// Await is bounded by its deadline while the run waits.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = run.Await(short)
	cancel()
	if !baton.IsDeadlineExceeded(err) {
		t.Fatalf("await on a waiting run: got %v, want DEADLINE_EXCEEDED", err)
	}

	// Follow progress; signal once the stream has delivered its first snapshot.
	updates := make(chan *batonv1.Progress, 100)
	streamDone := make(chan error, 1)
	go func() {
		streamDone <- run.StreamProgress(ctx, func(p *batonv1.Progress) error {
			updates <- p
			return nil
		})
		close(updates)
	}()
	select {
	case first := <-updates:
		if first.GetStatus() != batonv1.WorkflowStatus_WORKFLOW_STATUS_RUNNING {
			t.Fatalf("first snapshot: %v", first)
		}
	case <-ctx.Done():
		t.Fatal("no progress snapshot before the deadline")
	}
	if err := run.Signal(ctx, "approve", map[string]any{"approved": true}); err != nil {
		t.Fatal(err)
	}
	var last *batonv1.Progress
	for p := range updates {
		last = p
	}
	if err := <-streamDone; err != nil {
		t.Fatalf("stream: %v", err)
	}
	if last.GetStatus() != batonv1.WorkflowStatus_WORKFLOW_STATUS_COMPLETED || last.GetPercentage() != 100 {
		t.Fatalf("last progress: %v", last)
	}

	description, err := run.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := baton.StatusName(description.GetInfo().GetStatus()); got != "COMPLETED" {
		t.Fatalf("await: status %s", got)
	}
	if got := baton.JSON(description.GetOutput()); got != `{"approved":true,"i":7}` {
		t.Fatalf("output %s", got)
	}
	var output struct {
		Approved bool `json:"approved"`
		I        int  `json:"i"`
	}
	if err := run.Get(ctx, &output); err != nil || !output.Approved || output.I != 7 {
		t.Fatalf("get: %+v %v", output, err)
	}
	approved, err := run.Query(ctx, "approved")
	if err != nil || approved != true {
		t.Fatalf("named query on the closed run: %v %v", approved, err)
	}

	// A closed run accepts no signal.
	err = run.Signal(ctx, "approve", nil)
	if !baton.IsFailedPrecondition(err) {
		t.Fatalf("signal to a closed run: got %v, want FAILED_PRECONDITION", err)
	}
	var e *baton.Error
	if !errors.As(err, &e) || e.Op != "Signal" || !strings.Contains(e.Message, "closed") {
		t.Fatalf("signal error: %#v", err)
	}
}

func TestHistoryPages(t *testing.T) {
	t.Parallel()
	c := dial(t)
	ctx := timeout(t, 60*time.Second)
	definition := register(t, c, signalDefinition)
	run, err := c.Start(ctx, definition, map[string]any{"i": 1}, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Signal(ctx, "approve", map[string]any{"approved": false}); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Await(ctx); err != nil {
		t.Fatal(err)
	}
	var events []*batonv1.HistoryEvent
	pages := 0
	for token := ""; ; {
		page, err := run.History(ctx, baton.HistoryOptions{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Events) > 2 {
			t.Fatalf("page %d has %d events, asked for 2", pages, len(page.Events))
		}
		events = append(events, page.Events...)
		if token = page.NextPageToken; token == "" {
			break
		}
		if pages > 100 {
			t.Fatal("history does not end")
		}
	}
	if len(events) < 6 || pages < 3 {
		t.Fatalf("%d events in %d pages", len(events), pages)
	}
	var types []string
	for i, e := range events {
		if e.GetEventId() != int64(i+1) {
			t.Fatalf("event %d has id %d", i+1, e.GetEventId())
		}
		types = append(types, e.GetType())
	}
	if types[0] != "WorkflowStarted" || types[len(types)-1] != "WorkflowCompleted" {
		t.Fatalf("history: %v", types)
	}
	if got := baton.JSON(events[0].GetWorkflowStarted().GetInput()); got != `{"i":1}` {
		t.Fatalf("WorkflowStarted input %s", got)
	}
	all, err := run.HistoryEvents(ctx)
	if err != nil || len(all) != len(events) {
		t.Fatalf("HistoryEvents: %d events, %v; paging found %d", len(all), err, len(events))
	}
}

func TestCancelAndTerminate(t *testing.T) {
	t.Parallel()
	c := dial(t)
	ctx := timeout(t, 60*time.Second)
	definition := register(t, c, signalDefinition)
	for _, stop := range []struct {
		name   string
		do     func(*baton.WorkflowRun) error
		status batonv1.WorkflowStatus
	}{
		{"cancel", func(r *baton.WorkflowRun) error { return r.Cancel(ctx, "test cancel") }, batonv1.WorkflowStatus_WORKFLOW_STATUS_CANCELLED},
		{"terminate", func(r *baton.WorkflowRun) error { return r.Terminate(ctx, "test terminate") }, batonv1.WorkflowStatus_WORKFLOW_STATUS_TERMINATED},
	} {
		run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := stop.do(run); err != nil {
			t.Fatalf("%s: %v", stop.name, err)
		}
		err = run.Get(ctx, nil)
		var closed *baton.WorkflowError
		if !errors.As(err, &closed) || closed.Status != stop.status || closed.WorkflowID != run.ID() {
			t.Fatalf("%s: Get returned %v, want a *WorkflowError with status %v", stop.name, err, stop.status)
		}
		if !strings.Contains(err.Error(), baton.StatusName(stop.status)) {
			t.Fatalf("%s: error text %q does not name the status", stop.name, err)
		}
		// The handle on "the latest run" sees the same run.
		description, err := c.Workflow(run.ID()).Describe(ctx)
		if err != nil || description.GetInfo().GetStatus() != stop.status {
			t.Fatalf("%s: describe: %v %v", stop.name, description.GetInfo(), err)
		}
	}
}

func TestErrorsCarryCodeAndMessage(t *testing.T) {
	t.Parallel()
	c := dial(t)
	ctx := timeout(t, 30*time.Second)
	cases := []struct {
		name    string
		call    func() error
		is      func(error) bool
		op      string
		message string
	}{
		{"unknown workflow", func() error { _, err := c.Workflow("go-no-such-workflow").Describe(ctx); return err },
			baton.IsNotFound, "DescribeWorkflow", "go-no-such-workflow"},
		{"unknown definition", func() error { _, err := c.Start(ctx, "go_no_such_definition", nil, baton.StartOptions{}); return err },
			baton.IsNotFound, "StartWorkflow", "go_no_such_definition"},
		{"invalid JSON definition", func() error { _, err := c.RegisterDefinition(ctx, `{"name": "broken", "steps": `); return err },
			baton.IsInvalidArgument, "RegisterDefinition", "invalid definition"},
		{"unknown step field", func() error {
			_, err := c.RegisterDefinition(ctx, "name: go_bad_field\nsteps:\n  a: { activity: builtin.echo, colour: red }\n")
			return err
		}, baton.IsInvalidArgument, "RegisterDefinition", "colour"},
		{"unknown run id", func() error { _, err := c.WorkflowRun("go-no-such-workflow", "no-such-run").Describe(ctx); return err },
			baton.IsNotFound, "DescribeWorkflow", ""},
	}
	for _, tc := range cases {
		err := tc.call()
		var e *baton.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %T %v, want *baton.Error", tc.name, err, err)
			continue
		}
		if !tc.is(err) || e.Op != tc.op || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: got %v", tc.name, err)
		}
	}
}

func TestStreamProgressStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	c := dial(t)
	ctx := timeout(t, 30*time.Second)
	definition := register(t, c, signalDefinition)
	run, err := c.Start(ctx, definition, nil, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("seen enough")
	if err := run.StreamProgress(ctx, func(*batonv1.Progress) error { return stop }); err != stop {
		t.Fatalf("StreamProgress returned %v, want the callback's error", err)
	}
	if err := run.Terminate(ctx, "done"); err != nil {
		t.Fatal(err)
	}
}
