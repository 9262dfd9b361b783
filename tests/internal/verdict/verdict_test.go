package verdict

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOf(t *testing.T) {
	skip := &Skip{Reason: "no postgres:17-alpine here"}
	for _, c := range []struct {
		err  error
		want Outcome
	}{
		{nil, Pass},
		{errors.New("wanted 1, got 0"), Fail},
		{skip, Skipped},
		{fmt.Errorf("MajorSwitch: %w", skip), Skipped},
		{errors.Join(errors.New("stop: refused"), skip), Skipped},
	} {
		if got := Of(c.err); got != c.want {
			t.Errorf("Of(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestReport(t *testing.T) {
	r := New([]string{"A", "B", "C"}, []error{nil, errors.New("wanted 7,\ngot 0"), &Skip{Reason: "no mirror"}})
	want := `PASS A
FAIL B
    wanted 7,
    got 0
SKIP C
    SKIP: no mirror
1 passed, 1 failed, 1 skipped
`
	if diff := cmp.Diff(want, r.String()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestVerdict(t *testing.T) {
	passed := []error{nil, nil}
	withSkip := []error{nil, &Skip{Reason: "no mirror"}}
	withFail := []error{errors.New("boom"), &Skip{Reason: "no mirror"}}
	for _, c := range []struct {
		name       string
		results    []error
		allowSkips bool
		wantErr    string
	}{
		{"all pass", passed, false, ""},
		{"a skip is not a pass", withSkip, false, "0 failed, 1 skipped"},
		{"skips allowed", withSkip, true, ""},
		{"a failure fails even with skips allowed", withFail, true, "1 failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := New([]string{"A", "B"}, c.results).Verdict(c.allowSkips)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("wanted no error, got %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("wanted an error containing %q, got %v", c.wantErr, err)
			}
		})
	}
}

func TestAddCountsTheCleanUp(t *testing.T) {
	r := New([]string{"A"}, []error{nil})
	r.Add("StopTheSharedProject", errors.New("stop: timed out"))
	if p, f, s := r.Counts(); p != 1 || f != 1 || s != 0 {
		t.Fatalf("counts: wanted 1 passed, 1 failed, 0 skipped, got %d, %d, %d", p, f, s)
	}
}
