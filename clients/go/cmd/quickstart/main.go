// Command quickstart runs one Baton workflow end to end with the Go client and worker: it
// registers a three-step definition, serves its activities itself, starts a run, prints the
// run's progress as it streams and then its output as JSON on the last line. It exits 0 only
// when the run COMPLETED, and 1 with the reason on stderr otherwise.
//
//	BATON_ADDRESS=127.0.0.1:7400 go run ./cmd/quickstart [-name Gopher] [-timeout 2m]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
	"baton.dev/baton/worker"
)

const taskQueue = "go-quickstart"

const definition = `name: go_quickstart
defaults: { task_queue: go-quickstart, retry: { initial_interval: 100ms, maximum_attempts: 3 } }
steps:
  greet: { activity: greet, input: { name: "${input.name}" } }
  shout: { activity: shout, depends_on: [greet], input: { text: "${steps.greet.output.text}" } }
  count: { activity: count, depends_on: [shout], input: { text: "${steps.shout.output.text}" } }
output: { text: "${steps.shout.output.text}", length: "${steps.count.output.n}" }
`

func main() {
	name := flag.String("name", "Gopher", "who to greet")
	limit := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	if err := run(ctx, *name); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, name string) error {
	c, err := baton.Dial("") // $BATON_ADDRESS, else 127.0.0.1:7400
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf("server %s\n", c.Address())

	def, err := c.RegisterDefinition(ctx, definition)
	if err != nil {
		return err
	}
	fmt.Printf("definition %s version %d\n", def.Name, def.Version)

	// Serve the activities in this process until the run is over.
	w := worker.New(c, worker.Options{TaskQueue: taskQueue, MaxConcurrent: 4})
	w.Register("greet", greet)
	w.Register("shout", shout)
	w.Register("count", count)
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	go func() { workerDone <- w.Run(workerCtx) }()
	defer func() {
		stopWorker()
		<-workerDone
	}()

	run, err := c.Start(ctx, def.Name, map[string]any{"name": name}, baton.StartOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("started %s\n", run)

	err = run.StreamProgress(ctx, func(p *batonv1.Progress) error {
		fmt.Printf("progress %3.0f%% %-9s running=%s completed=%s\n", p.GetPercentage(),
			baton.StatusName(p.GetStatus()), list(p.GetRunningSteps()), list(p.GetCompletedSteps()))
		return nil
	})
	if err != nil {
		return err
	}

	description, err := run.Await(ctx)
	if err != nil {
		return err
	}
	if status := description.GetInfo().GetStatus(); status != batonv1.WorkflowStatus_WORKFLOW_STATUS_COMPLETED {
		return fmt.Errorf("the run did not complete: %w", &baton.WorkflowError{
			WorkflowID: run.ID(), RunID: run.RunID(), Status: status, Failure: description.GetFailure(),
		})
	}
	fmt.Printf("output %s\n", baton.JSON(description.GetOutput()))
	return nil
}

func greet(ctx context.Context, in worker.ActivityInput) (any, error) {
	var input struct {
		Name string `json:"name"`
	}
	if err := in.DecodeInput(&input); err != nil || input.Name == "" {
		return nil, worker.NonRetryable("BadInput", "greet needs {\"name\": \"...\"}, got %s", baton.JSON(in.Task.GetInput()))
	}
	return map[string]any{"text": "Hello, " + input.Name}, nil
}

func shout(ctx context.Context, in worker.ActivityInput) (any, error) {
	var input struct {
		Text string `json:"text"`
	}
	if err := in.DecodeInput(&input); err != nil {
		return nil, worker.NonRetryable("BadInput", "shout: %v", err)
	}
	return map[string]any{"text": strings.ToUpper(input.Text) + "!"}, nil
}

func count(ctx context.Context, in worker.ActivityInput) (any, error) {
	var input struct {
		Text string `json:"text"`
	}
	if err := in.DecodeInput(&input); err != nil {
		return nil, worker.NonRetryable("BadInput", "count: %v", err)
	}
	return map[string]any{"n": len([]rune(input.Text))}, nil
}

func list(steps []string) string {
	sorted := append([]string(nil), steps...)
	sort.Strings(sorted)
	return "[" + strings.Join(sorted, ",") + "]"
}
