package worker

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"baton.dev/baton"
	"baton.dev/baton/batonv1"
)

// ActivityError is a typed activity failure: return it (or a pointer to it, or an error
// wrapping either) from an activity to choose what the server records.
type ActivityError struct {
	// Type names the error, e.g. "PaymentDeclined"; matched against the step's
	// non_retryable_error_types. Empty means "ActivityError".
	Type string
	// Message says what went wrong.
	Message string
	// NonRetryable, when true, ends the step whatever its retry policy says.
	NonRetryable bool
	// Details is any JSON value (see baton.ToValue) kept with the failure.
	Details any
}

// Error reads "TYPE: message".
func (e ActivityError) Error() string { return e.typeName() + ": " + e.Message }

func (e ActivityError) typeName() string {
	if e.Type == "" {
		return "ActivityError"
	}
	return e.Type
}

// NewError is a retryable ActivityError of type typ with a formatted message.
func NewError(typ, format string, args ...any) *ActivityError {
	return &ActivityError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// NonRetryable is an ActivityError of type typ that ends the step at once.
func NonRetryable(typ, format string, args ...any) *ActivityError {
	return &ActivityError{Type: typ, Message: fmt.Sprintf(format, args...), NonRetryable: true}
}

// The failure types the worker itself reports.
const (
	// TypeCancelled: the run was cancelled and the activity stopped.
	TypeCancelled = "Cancelled"
	// TypeWorkerShutdown: the worker shut down before the activity finished; retryable.
	TypeWorkerShutdown = "WorkerShutdown"
	// TypePanic: the activity panicked; retryable.
	TypePanic = "Panic"
	// TypeNotRegistered: this worker has no activity of the task's name; retryable (another
	// worker on the queue may have it).
	TypeNotRegistered = "ActivityNotRegistered"
	// TypeInvalidOutput: the activity's output is not a JSON value, or the server refused it.
	TypeInvalidOutput = "InvalidOutput"
)

// Server limits on failures (see the server's Validate): type up to 200 characters, message up
// to 32 KiB.
const (
	maxTypeChars    = 200
	maxMessageBytes = 32 * 1024
)

// failureOf converts an activity's error to the Failure reported to the server.
func failureOf(err error) *batonv1.Failure {
	var value ActivityError
	var pointer *ActivityError
	switch {
	case errors.As(err, &pointer) && pointer != nil:
		return activityFailure(*pointer)
	case errors.As(err, &value):
		return activityFailure(value)
	}
	return &batonv1.Failure{Type: errorTypeName(err), Message: clipMessage(err.Error())}
}

func activityFailure(e ActivityError) *batonv1.Failure {
	failure := &batonv1.Failure{
		Type:         cleanType(e.typeName()),
		Message:      clipMessage(e.Message),
		NonRetryable: e.NonRetryable,
	}
	if e.Details != nil {
		details, err := baton.ToValue(e.Details)
		if err != nil {
			failure.Message = clipMessage(e.Message + " (details left out: " + err.Error() + ")")
		} else {
			failure.Details = details
		}
	}
	return failure
}

// genericErrorTypes are standard-library error types whose names say nothing.
var genericErrorTypes = map[string]bool{
	"errorString": true, "wrapError": true, "wrapErrors": true, "joinError": true,
}

// errorTypeName is the first meaningful Go type name in err's chain, else "Error".
func errorTypeName(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return TypeCancelled
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Ptr {
			t = t.Elem()
		}
		if name := t.Name(); name != "" && !genericErrorTypes[name] {
			return cleanType(name)
		}
	}
	return "Error"
}

// cleanType keeps a type name within the server's rules: no control characters, 200 characters.
func cleanType(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > maxTypeChars {
		name = string([]rune(name)[:maxTypeChars])
	}
	if name == "" {
		return "Error"
	}
	return name
}

// clipMessage cuts a message to the server's limit on a UTF-8 boundary, saying so.
func clipMessage(message string) string {
	if len(message) <= maxMessageBytes {
		return message
	}
	const marker = " … (cut to 32 KiB)"
	cut := maxMessageBytes - len(marker)
	for cut > 0 && !utf8.RuneStart(message[cut]) {
		cut--
	}
	return message[:cut] + marker
}
