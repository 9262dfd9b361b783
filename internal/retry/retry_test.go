package retry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder is an injected sleep that records each wait and returns at once.
type recorder struct {
	waits []time.Duration
	err   error // returned by every sleep
}

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return r.err
}

func policy(rec *recorder, r float64) Policy {
	return Policy{
		Attempts: 6, BaseDelay: time.Second, MaxDelay: 10 * time.Second, Jitter: 0.2,
		Sleep: rec.sleep, Rand: func() float64 { return r },
	}
}

// failing returns an op that fails n times, then succeeds, counting its calls.
func failing(n int, calls *int) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= n {
			return fmt.Errorf("transient failure %d", *calls)
		}
		return nil
	}
}

func TestScheduleWithoutJitter(t *testing.T) {
	rec := &recorder{}
	calls := 0
	// r = 0.5 puts the jitter factor at exactly 1.
	err := policy(rec, 0.5).Do(context.Background(), failing(5, &calls))
	if err != nil {
		t.Fatalf("Do() = %v, want success on the 6th attempt", err)
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, rec.waits); diff != "" {
		t.Errorf("waits mismatch (-want +got):\n%s", diff)
	}
	if calls != 6 {
		t.Errorf("op called %d times, want 6", calls)
	}
}

func TestJitterBounds(t *testing.T) {
	p := Policy{BaseDelay: time.Second, MaxDelay: 10 * time.Second, Jitter: 0.2}
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0, 800 * time.Millisecond},              // lowest: -20%
		{1, 0.999999, 1199999600 * time.Nanosecond}, // just under +20%
		{2, 0, 1600 * time.Millisecond},
		{3, 0.75, 4400 * time.Millisecond},
		{4, 0.999999, 9599996800 * time.Nanosecond},
		{5, 0.5, 10 * time.Second},      // 16s is capped
		{5, 0, 8 * time.Second},         // the cap applies before jitter, so waits at the cap still spread
		{5, 0.999999, 10 * time.Second}, // and after it: 10s +20% stays at the cap
		{60, 0.5, 10 * time.Second},     // no overflow on long runs
	}
	for _, tt := range tests {
		if got := p.Delay(tt.n, tt.r); got != tt.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tt.n, tt.r, got, tt.want)
		}
	}
	for n := 1; n <= 8; n++ {
		for _, r := range []float64{0, 0.25, 0.5, 0.999} {
			d := p.Delay(n, r)
			base := min(time.Second<<(n-1), 10*time.Second)
			if d > p.MaxDelay || float64(d) < 0.8*float64(base)-1 || float64(d) > 1.2*float64(base)+1 {
				t.Errorf("Delay(%d, %v) = %v, outside ±20%% of %v or over the cap", n, r, d, base)
			}
		}
	}
}

func TestAttemptsRunOut(t *testing.T) {
	rec := &recorder{}
	calls := 0
	p := policy(rec, 0.5)
	p.Attempts = 3
	err := p.Do(context.Background(), failing(10, &calls))
	var gaveUp *GaveUpError
	if !errors.As(err, &gaveUp) {
		t.Fatalf("Do() = %v, want a *GaveUpError", err)
	}
	if gaveUp.Attempts != 3 || calls != 3 {
		t.Errorf("gave up after %d attempts with %d calls, want 3 and 3", gaveUp.Attempts, calls)
	}
	if want := "failed 3 attempts; last failure: transient failure 3"; err.Error() != want {
		t.Errorf("Do() error = %q, want %q", err, want)
	}
	if len(rec.waits) != 2 {
		t.Errorf("waited %d times, want 2 (no wait after the last attempt)", len(rec.waits))
	}
}

func TestLastFailureIsWrapped(t *testing.T) {
	sentinel := errors.New("connection refused")
	p := policy(&recorder{}, 0.5)
	p.Attempts = 2
	err := p.Do(context.Background(), func(context.Context) error { return fmt.Errorf("start: %w", sentinel) })
	if !errors.Is(err, sentinel) {
		t.Errorf("Do() = %v, want it to wrap the last failure", err)
	}
}

func TestPermanentStopsAtOnce(t *testing.T) {
	rec := &recorder{}
	calls := 0
	bad := errors.New(`unknown service "db"`)
	err := policy(rec, 0.5).Do(context.Background(), func(context.Context) error {
		calls++
		return Permanent(fmt.Errorf("restart: %w", bad))
	})
	if calls != 1 || len(rec.waits) != 0 {
		t.Errorf("op called %d times and waited %d times, want 1 and 0", calls, len(rec.waits))
	}
	if !errors.Is(err, bad) || err.Error() != `restart: unknown service "db"` {
		t.Errorf("Do() = %q, want the permanent error itself", err)
	}
	var gaveUp *GaveUpError
	if errors.As(err, &gaveUp) {
		t.Error("a permanent error must not be reported as a run that gave up")
	}
}

func TestPermanentNil(t *testing.T) {
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}

func TestCancelledWhileSleeping(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("user pressed ctrl-c")
	calls := 0
	p := Policy{
		Attempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour,
		Sleep: func(ctx context.Context, d time.Duration) error {
			cancel(stop)
			return sleepContext(ctx, d) // the real sleep must return at once
		},
	}
	start := time.Now()
	err := p.Do(ctx, failing(10, &calls))
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Do() took %v after cancellation, want it to return at once", elapsed)
	}
	if !errors.Is(err, stop) {
		t.Errorf("Do() = %v, want it to wrap the cancellation cause", err)
	}
	if calls != 1 {
		t.Errorf("op called %d times, want 1", calls)
	}
	if !strings.Contains(err.Error(), "stopped after 1 attempt") || !strings.Contains(err.Error(), "transient failure 1") {
		t.Errorf("Do() error = %q, want the attempts and the last failure", err)
	}
}

func TestCancelledDuringAttempt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	rec := &recorder{}
	err := policy(rec, 0.5).Do(ctx, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) || len(rec.waits) != 0 {
		t.Errorf("Do() = %v after %d waits, want the deadline and no wait", err, len(rec.waits))
	}
}

func TestRealSleepWaits(t *testing.T) {
	start := time.Now()
	if err := sleepContext(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 20*time.Millisecond {
		t.Errorf("sleepContext returned after %v, want at least 20ms", elapsed)
	}
}
