// Package verdict turns the engine tests' results into the suite's report:
// each test PASS, FAIL or SKIP with its reason, then the counts. It is
// plain Go, so `go test` checks it without an engine.
package verdict

import (
	"errors"
	"fmt"
	"strings"
)

// Skip is the result of a test that could not run where the engine is:
// a missing precondition, such as an image or a mirror. It is an error,
// so that no caller takes a skip for a pass.
type Skip struct{ Reason string }

func (s *Skip) Error() string { return "SKIP: " + s.Reason }

// Outcome is a test's verdict.
type Outcome string

const (
	Pass    Outcome = "PASS"
	Fail    Outcome = "FAIL"
	Skipped Outcome = "SKIP"
)

// Of classifies a test's result: nil passes, a Skip anywhere in the chain
// skips, any other error fails.
func Of(err error) Outcome {
	var s *Skip
	switch {
	case err == nil:
		return Pass
	case errors.As(err, &s):
		return Skipped
	default:
		return Fail
	}
}

// Report is the suite's results, in the order the tests were listed.
type Report struct {
	names   []string
	results []error
}

// New reports results[i] as the result of names[i].
func New(names []string, results []error) *Report {
	return &Report{names: append([]string(nil), names...), results: append([]error(nil), results...)}
}

// Add appends one more result, such as the suite's own clean-up.
func (r *Report) Add(name string, err error) {
	r.names = append(r.names, name)
	r.results = append(r.results, err)
}

// Counts says how many tests passed, failed and skipped.
func (r *Report) Counts() (passed, failed, skipped int) {
	for _, err := range r.results {
		switch Of(err) {
		case Pass:
			passed++
		case Fail:
			failed++
		default:
			skipped++
		}
	}
	return passed, failed, skipped
}

// String is one line per test, its failure or skip reason indented below
// it, and the closing line "N passed, N failed, N skipped".
func (r *Report) String() string {
	var b strings.Builder
	for i, name := range r.names {
		err := r.results[i]
		fmt.Fprintf(&b, "%s %s\n", Of(err), name)
		if err != nil {
			for _, line := range strings.Split(strings.TrimSpace(err.Error()), "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	passed, failed, skipped := r.Counts()
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return b.String()
}

// Verdict is nil only when no test failed and, unless allowSkips, none
// skipped. Its error holds the whole report, so that a caller who sees
// only the error still sees every test.
func (r *Report) Verdict(allowSkips bool) error {
	_, failed, skipped := r.Counts()
	if failed == 0 && (skipped == 0 || allowSkips) {
		return nil
	}
	why := fmt.Sprintf("%d failed", failed)
	if skipped > 0 && !allowSkips {
		why += fmt.Sprintf(", %d skipped (a skip is not a pass; --allow-skips accepts them)", skipped)
	}
	return fmt.Errorf("engine tests: %s\n%s", why, r.String())
}
