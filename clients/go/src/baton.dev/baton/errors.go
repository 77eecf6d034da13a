package baton

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed call to the server: the RPC, the gRPC status code and the server's message.
// Every method of Client and WorkflowRun returns one for a failed RPC; test for a kind with
// IsNotFound and friends, or read Code.
//
//	if _, err := run.Describe(ctx); baton.IsNotFound(err) { ... }
type Error struct {
	// Op is the RPC that failed, e.g. "StartWorkflow".
	Op string
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the server's message (grpc-message), e.g. "no definition 'nope'".
	Message string
}

// Error reads "baton: StartWorkflow: NOT_FOUND: no definition 'nope'".
func (e *Error) Error() string {
	return fmt.Sprintf("baton: %s: %s: %s", e.Op, CodeName(e.Code), e.Message)
}

// GRPCStatus makes status.FromError and status.Code work on an *Error.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// WrapRPCError turns an error of a gRPC call into an *Error naming the RPC op; nil stays nil and
// an *Error is returned as is. For calls made through the generated stubs directly.
func WrapRPCError(op string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	if s, ok := status.FromError(err); ok {
		return &Error{Op: op, Code: s.Code(), Message: s.Message()}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Op: op, Code: codes.DeadlineExceeded, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &Error{Op: op, Code: codes.Canceled, Message: err.Error()}
	}
	return &Error{Op: op, Code: codes.Unknown, Message: err.Error()}
}

// Code returns err's gRPC code: codes.OK for nil, the code of an *Error or a gRPC status
// error, DeadlineExceeded/Canceled for context errors, and codes.Unknown otherwise.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Unknown
}

// IsNotFound reports an unknown workflow, run, definition or task token.
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

// IsAlreadyExists reports a workflow id taken under the REJECT reuse policy.
func IsAlreadyExists(err error) bool { return Code(err) == codes.AlreadyExists }

// IsInvalidArgument reports a request the server refused as malformed (the message names the field).
func IsInvalidArgument(err error) bool { return Code(err) == codes.InvalidArgument }

// IsFailedPrecondition reports a call that does not fit the run's state, e.g. a signal to a closed run.
func IsFailedPrecondition(err error) bool { return Code(err) == codes.FailedPrecondition }

// IsDeadlineExceeded reports a call that ran out of time (e.g. Await while the run is still open).
func IsDeadlineExceeded(err error) bool { return Code(err) == codes.DeadlineExceeded }

// IsCanceled reports a call whose context was cancelled.
func IsCanceled(err error) bool { return Code(err) == codes.Canceled }

// IsUnavailable reports a server that cannot be reached or is shutting down; retry later.
func IsUnavailable(err error) bool { return Code(err) == codes.Unavailable }

// IsUnimplemented reports an RPC the server does not know (an older server).
func IsUnimplemented(err error) bool { return Code(err) == codes.Unimplemented }

var codeNames = map[codes.Code]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

// CodeName is the canonical gRPC name of c ("NOT_FOUND"), as the server, the CLI and the other
// clients print it.
func CodeName(c codes.Code) string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("CODE(%d)", uint32(c))
}
