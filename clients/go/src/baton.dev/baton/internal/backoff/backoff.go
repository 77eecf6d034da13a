// Package backoff computes jittered exponential waits between retries of a failed call and
// sleeps them bounded by a context.
package backoff

import (
	"context"
	"math/rand"
	"time"
)

// Backoff yields growing waits: Initial, then ×2 per failure up to Max, each with ±20% jitter.
// The zero value uses 100ms and 5s. Not safe for concurrent use.
type Backoff struct {
	// Initial is the first wait (default 100ms).
	Initial time.Duration
	// Max bounds the wait (default 5s).
	Max time.Duration

	next time.Duration
}

// Next returns the wait before the next retry and grows the one after.
func (b *Backoff) Next() time.Duration {
	initial, max := b.Initial, b.Max
	if initial <= 0 {
		initial = 100 * time.Millisecond
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	if b.next < initial {
		b.next = initial
	}
	wait := b.next
	b.next *= 2
	if b.next > max {
		b.next = max
	}
	jitter := time.Duration(rand.Int63n(int64(wait)/5*2+1)) - wait/5
	return wait + jitter
}

// Reset starts over from Initial after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Sleep waits Next(); it returns ctx.Err() early if ctx ends first.
func (b *Backoff) Sleep(ctx context.Context) error {
	timer := time.NewTimer(b.Next())
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
