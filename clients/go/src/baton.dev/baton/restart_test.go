package baton_test

import (
	"net"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"baton.dev/baton/internal/testserver"
)

func TestProgressStreamResumesAcrossAServerRestart(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 90*time.Second)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	listener.Close()
	options := testserver.Options{Listen: address, DataDir: t.TempDir(), Args: []string{"--shutdown-grace", "1"}}
	first, err := testserver.Start(options)
	if err != nil {
		t.Fatal(err)
	}
	c, err := baton.Dial(address)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	definition := register(t, c, signalDefinition)
	run, err := c.Start(ctx, definition, map[string]any{"i": 3}, baton.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}

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
	case <-updates:
	case <-ctx.Done():
		t.Fatal("no first snapshot")
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	second, err := testserver.Start(options)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := second.Stop(); err != nil {
			t.Error(err)
		}
	}()
	driver, err := baton.Dial(address)
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close()
	if err := driver.WorkflowRun(run.ID(), run.RunID()).Signal(ctx, "approve", map[string]any{"approved": true}); err != nil {
		t.Fatal(err)
	}
	var last *batonv1.Progress
	for p := range updates {
		last = p
	}
	if err := <-streamDone; err != nil {
		t.Fatalf("the stream did not survive the restart: %v", err)
	}
	if last.GetStatus() != batonv1.WorkflowStatus_WORKFLOW_STATUS_COMPLETED {
		t.Fatalf("last update %v", last)
	}
	description, err := run.Await(ctx)
	if err != nil || baton.JSON(description.GetOutput()) != `{"approved":true,"i":3}` {
		t.Fatalf("await after the restart: %v %v", description, err)
	}
}
