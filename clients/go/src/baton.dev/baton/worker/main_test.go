package worker_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"baton.dev/baton/internal/testserver"
	"baton.dev/baton/worker"
)

// server is the live `$BATON_BIN server` every test of this package talks to.
var server *testserver.Server

func TestMain(m *testing.M) { os.Exit(testserver.Main(m, &server)) }

func dial(t *testing.T, address string) *baton.Client {
	t.Helper()
	c, err := baton.Dial(address)
	if err != nil {
		t.Fatalf("dial %s: %v", address, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var serial int64

// unique is a definition, queue or workflow name no other test uses.
func unique(t *testing.T, kind string) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return fmt.Sprintf("go_%s_%s_%d", strings.ToLower(name), kind, atomic.AddInt64(&serial, 1))
}

// register registers "name: <generated>\ndefaults: { task_queue: QUEUE, ... }\n" + body.
func register(t *testing.T, c *baton.Client, queue, retry, body string) string {
	t.Helper()
	name := unique(t, "def")
	source := fmt.Sprintf("name: %s\ndefaults: { task_queue: %s, retry: { %s } }\n%s", name, queue, retry, body)
	if _, err := c.RegisterDefinition(timeout(t, 10*time.Second), source); err != nil {
		t.Fatalf("register %s: %v\n%s", name, err, source)
	}
	return name
}

// testLog sends the worker's log lines to the test log while the test runs, and drops them after.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("worker: "+format, args...)
	}
}

// startWorker runs a worker with activities until the returned stop is called (or the test
// ends); stop returns Run's result.
func startWorker(t *testing.T, c *baton.Client, opts worker.Options, activities map[string]worker.ActivityFunc) (stop func() error) {
	t.Helper()
	log := &testLog{t: t}
	opts.Logf = log.logf
	if opts.Identity == "" {
		opts.Identity = t.Name()
	}
	w := worker.New(c, opts)
	for name, fn := range activities {
		w.Register(name, fn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-result:
			case <-time.After(60 * time.Second):
				err = fmt.Errorf("worker.Run did not return within 60s of its context ending")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("worker: %v", err)
		}
		log.mu.Lock()
		log.done = true
		log.mu.Unlock()
	})
	return stop
}

// await awaits the run and checks its status.
func await(t *testing.T, ctx context.Context, run *baton.WorkflowRun, want batonv1.WorkflowStatus) *batonv1.WorkflowDescription {
	t.Helper()
	description, err := run.Await(ctx)
	if err != nil {
		t.Fatalf("await %s: %v", run, err)
	}
	if got := description.GetInfo().GetStatus(); got != want {
		t.Fatalf("%s closed %s, want %s; failure: %v", run, baton.StatusName(got), baton.StatusName(want), description.GetFailure())
	}
	return description
}

// historyOf returns the run's events of the given type.
func historyOf(t *testing.T, ctx context.Context, run *baton.WorkflowRun, eventType string) []*batonv1.HistoryEvent {
	t.Helper()
	events, err := run.HistoryEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var matching []*batonv1.HistoryEvent
	for _, e := range events {
		if e.GetType() == eventType {
			matching = append(matching, e)
		}
	}
	return matching
}

// receive waits for a value from ch, failing the test when ctx ends first.
func receive[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
