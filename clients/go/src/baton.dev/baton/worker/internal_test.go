package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHeartbeatInterval(t *testing.T) {
	w := &Worker{opts: Options{HeartbeatInterval: 7 * time.Second}}
	cases := []struct{ timeout, want time.Duration }{
		{0, 7 * time.Second},                  // not given: the option
		{30 * time.Second, 10 * time.Second},  // a third
		{2 * time.Second, time.Second},        // the 1s floor
		{time.Second, 500 * time.Millisecond}, // the floor never reaches half the timeout
		{300 * time.Millisecond, 150 * time.Millisecond},
	}
	for _, c := range cases {
		tk := &task{w: w, input: ActivityInput{HeartbeatTimeout: c.timeout}}
		if got := tk.heartbeatInterval(); got != c.want {
			t.Errorf("heartbeat_timeout %s: interval %s, want %s", c.timeout, got, c.want)
		}
	}
}

type quotaError struct{}

func (quotaError) Error() string { return "over quota" }

func TestFailureOf(t *testing.T) {
	_, pathErr := os.Open("/no/such/file")
	cases := []struct {
		err          error
		typ, message string
		nonRetryable bool
	}{
		{errors.New("plain"), "Error", "plain", false},
		{fmt.Errorf("wrapped: %w", errors.New("inner")), "Error", "wrapped: inner", false},
		{fmt.Errorf("config: %w", pathErr), "PathError", "config: open /no/such/file: no such file or directory", false},
		{quotaError{}, "quotaError", "over quota", false},
		{context.DeadlineExceeded, "DeadlineExceeded", "context deadline exceeded", false},
		{ActivityError{Type: "Value", Message: "m"}, "Value", "m", false},
		{fmt.Errorf("ctx: %w", NonRetryable("Typed", "n=%d", 1)), "Typed", "n=1", true},
		{&ActivityError{Message: "no type"}, "ActivityError", "no type", false},
		{&ActivityError{Type: "bad\ntype", Message: "x"}, "bad?type", "x", false},
	}
	for _, c := range cases {
		f := failureOf(c.err)
		if f.GetType() != c.typ || f.GetMessage() != c.message || f.GetNonRetryable() != c.nonRetryable {
			t.Errorf("failureOf(%v) = %v, want %s %q non_retryable=%v", c.err, f, c.typ, c.message, c.nonRetryable)
		}
	}
	long := failureOf(errors.New(strings.Repeat("é", maxMessageBytes)))
	if len(long.GetMessage()) > maxMessageBytes || !strings.HasSuffix(long.GetMessage(), "(cut to 32 KiB)") {
		t.Errorf("a long message is %d bytes: %q", len(long.GetMessage()), long.GetMessage()[len(long.GetMessage())-30:])
	}
	withBadDetails := failureOf(&ActivityError{Type: "T", Message: "m", Details: make(chan int)})
	if withBadDetails.GetDetails() != nil || !strings.Contains(withBadDetails.GetMessage(), "details left out") {
		t.Errorf("details that are not JSON: %v", withBadDetails)
	}
}
