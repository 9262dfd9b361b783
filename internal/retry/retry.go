// Package retry runs an operation again after transient failures, waiting
// an exponentially growing, jittered and capped delay between attempts.
//
// What to retry is the caller's decision: an error wrapped with Permanent
// stops at once. How long to wait is the Policy's. The time bound comes
// from the context, which is also honoured while waiting.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy says how often to try and how long to wait in between.
type Policy struct {
	// Attempts is the maximum number of calls, the first included (at least 1).
	Attempts int
	// BaseDelay is the wait after the first failure; it doubles after each one.
	BaseDelay time.Duration
	// MaxDelay caps every wait, before and after jitter, so waits at the cap
	// still spread below it.
	MaxDelay time.Duration
	// Jitter spreads each wait uniformly over ±Jitter of its value (0 to 1),
	// so that callers failing together do not retry together.
	Jitter float64

	// Sleep waits for d or until ctx is done; nil means a timer. Tests inject it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1); nil means math/rand/v2. Tests inject it.
	Rand func() float64
}

// Delay is the wait after failed attempt n (1-based), given a random number r in [0, 1).
func (p Policy) Delay(n int, r float64) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	jittered := time.Duration(float64(d) * (1 + p.Jitter*(2*r-1)))
	return min(jittered, p.MaxDelay)
}

// Do calls op until it succeeds, returns a permanent error, the attempts
// run out or ctx is done. The error of a run that gave up names the number
// of attempts and wraps the last failure.
func (p Policy) Do(ctx context.Context, op func(context.Context) error) error {
	sleep, random := p.Sleep, p.Rand
	if sleep == nil {
		sleep = sleepContext
	}
	if random == nil {
		random = rand.Float64
	}
	for n := 1; ; n++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if ctx.Err() != nil {
			return &GaveUpError{Attempts: n, Last: err, Cause: context.Cause(ctx)}
		}
		if n >= p.Attempts {
			return &GaveUpError{Attempts: n, Last: err}
		}
		if serr := sleep(ctx, p.Delay(n, random())); serr != nil {
			return &GaveUpError{Attempts: n, Last: err, Cause: serr}
		}
	}
}

// GaveUpError is the error of a run that did not succeed.
type GaveUpError struct {
	// Attempts is the number of calls made.
	Attempts int
	// Last is the error of the last call.
	Last error
	// Cause is why the run stopped early (the context's cause), or nil when
	// the attempts ran out.
	Cause error
}

func (e *GaveUpError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("stopped after %s (%v); last failure: %v", plural(e.Attempts), e.Cause, e.Last)
	}
	return fmt.Sprintf("failed %s; last failure: %v", plural(e.Attempts), e.Last)
}

// Unwrap exposes both the last failure and the cause to errors.Is and errors.As.
func (e *GaveUpError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Last, e.Cause}
	}
	return []error{e.Last}
}

func plural(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// Permanent marks err as not worth retrying: Do returns it at once, unwrapped.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
