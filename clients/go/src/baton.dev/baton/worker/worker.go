package worker

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
)

// ActivityFunc is an activity: it gets the attempt's context (cancelled when the run is
// cancelled or the worker gives the task up) and its input, and returns a JSON-able output
// (see baton.ToValue) or an error (see ActivityError).
type ActivityFunc func(ctx context.Context, in ActivityInput) (any, error)

// Options configure a Worker. Only TaskQueue is required.
type Options struct {
	// TaskQueue is the queue to poll, as named by the definitions' task_queue.
	TaskQueue string
	// Identity names this worker in history and logs; default "worker@HOST:PID".
	Identity string
	// MaxConcurrent is the most tasks running at once in this worker; default 10.
	MaxConcurrent int
	// Pollers is the number of concurrent long polls; default min(2, MaxConcurrent), at most
	// MaxConcurrent.
	Pollers int
	// PollTimeout bounds each long poll; default 30s (the server answers "no task" before it ends).
	PollTimeout time.Duration
	// CallTimeout bounds each heartbeat, complete and fail call; default 10s.
	CallTimeout time.Duration
	// HeartbeatInterval is the automatic heartbeat period for tasks that do not carry a heartbeat
	// timeout (steps without one, or servers that do not send it); default 10s. Tasks that do are
	// heartbeated every max(heartbeat_timeout/3, 1s).
	HeartbeatInterval time.Duration
	// GracePeriod is how long a shutdown waits for running activities before failing them with
	// the retryable type "WorkerShutdown"; default 10s.
	GracePeriod time.Duration
	// Logf receives the worker's log lines (dropped results, retries, panics); default log.Printf.
	Logf func(format string, args ...any)
}

// Worker polls one task queue and runs registered activities. Register activities, then call Run.
type Worker struct {
	stub batonv1.WorkerServiceClient
	opts Options

	mu         sync.Mutex
	activities map[string]ActivityFunc
	running    map[*task]struct{}
	inFlight   sync.WaitGroup
	active     bool
}

// New makes a worker on client's connection; see Options for the defaults.
func New(client *baton.Client, opts Options) *Worker {
	return newWorker(client.WorkerService(), opts)
}

func newWorker(stub batonv1.WorkerServiceClient, opts Options) *Worker {
	if opts.Identity == "" {
		host, _ := os.Hostname()
		opts.Identity = fmt.Sprintf("worker@%s:%d", host, os.Getpid())
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 10
	}
	if opts.Pollers <= 0 {
		opts.Pollers = 2
	}
	if opts.Pollers > opts.MaxConcurrent {
		opts.Pollers = opts.MaxConcurrent
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 30 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 10 * time.Second
	}
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = 10 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	return &Worker{
		stub:       stub,
		opts:       opts,
		activities: map[string]ActivityFunc{},
		running:    map[*task]struct{}{},
	}
}

// Register serves the activity name with fn. It panics on an empty name, a nil fn or a name
// registered twice (programming errors, like http.HandleFunc).
func (w *Worker) Register(name string, fn ActivityFunc) {
	if name == "" || fn == nil {
		panic("worker.Register: the activity needs a name and a function")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, taken := w.activities[name]; taken {
		panic(fmt.Sprintf("worker.Register: activity %q is registered twice", name))
	}
	w.activities[name] = fn
}

func (w *Worker) activity(name string) ActivityFunc {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.activities[name]
}

// Run polls and runs tasks until ctx ends, then shuts down gracefully (see the package doc) and
// returns nil. It returns an error early if the server refuses the worker for good
// (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, UNIMPLEMENTED) or the client was
// closed (CANCELLED) — after the same graceful shutdown. A Worker runs once at a time.
func (w *Worker) Run(ctx context.Context) error {
	if w.opts.TaskQueue == "" {
		return errors.New("worker: Options.TaskQueue is empty: name the queue to poll")
	}
	w.mu.Lock()
	if w.active {
		w.mu.Unlock()
		return errors.New("worker: Run is already running")
	}
	w.active = true
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.active = false
		w.mu.Unlock()
	}()

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	slots := make(chan struct{}, w.opts.MaxConcurrent)
	fatal := make(chan error, w.opts.Pollers)
	var pollers sync.WaitGroup
	for i := 0; i < w.opts.Pollers; i++ {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			if err := w.pollLoop(pollCtx, slots); err != nil {
				fatal <- err
			}
		}()
	}
	var result error
	select {
	case <-ctx.Done():
	case result = <-fatal:
	}
	stopPolling()
	pollers.Wait()
	w.drain()
	return result
}

// drain waits up to the grace period for running tasks, then gives up the rest.
func (w *Worker) drain() {
	done := make(chan struct{})
	go func() {
		w.inFlight.Wait()
		close(done)
	}()
	grace := time.NewTimer(w.opts.GracePeriod)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	}
	w.mu.Lock()
	left := make([]*task, 0, len(w.running))
	for t := range w.running {
		left = append(left, t)
	}
	w.mu.Unlock()
	var abandoning sync.WaitGroup
	for _, t := range left {
		abandoning.Add(1)
		go func(t *task) {
			defer abandoning.Done()
			t.abandon(w.opts.GracePeriod)
		}(t)
	}
	abandoning.Wait()
}

func (w *Worker) track(t *task) {
	w.mu.Lock()
	w.running[t] = struct{}{}
	w.mu.Unlock()
}

func (w *Worker) untrack(t *task) {
	w.mu.Lock()
	delete(w.running, t)
	w.mu.Unlock()
}
