package baton

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorCarriesCodeAndMessage(t *testing.T) {
	err := WrapRPCError("DescribeWorkflow", status.Error(codes.NotFound, "no workflow 'x'"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is not *baton.Error", err)
	}
	if e.Op != "DescribeWorkflow" || e.Code != codes.NotFound || e.Message != "no workflow 'x'" {
		t.Fatalf("got %+v", e)
	}
	if got, want := err.Error(), "baton: DescribeWorkflow: NOT_FOUND: no workflow 'x'"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !IsNotFound(err) || IsInvalidArgument(err) {
		t.Fatal("IsNotFound/IsInvalidArgument disagree with the code")
	}
	if status.Code(err) != codes.NotFound {
		t.Fatal("status.Code does not see the code")
	}
	if !IsNotFound(fmt.Errorf("loading: %w", err)) {
		t.Fatal("a wrapped *Error lost its code")
	}
}

func TestCodeOfOtherErrors(t *testing.T) {
	cases := []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{fmt.Errorf("x: %w", context.Canceled), codes.Canceled},
		{errors.New("plain"), codes.Unknown},
		{status.Error(codes.Unavailable, "down"), codes.Unavailable},
	}
	for _, c := range cases {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if WrapRPCError("X", nil) != nil {
		t.Error("WrapRPCError(nil) is not nil")
	}
}
