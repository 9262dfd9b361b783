package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseCapacity(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"1,4,8", []int{1, 4, 8}, ""},
		{" 2 , 3 ", []int{2, 3}, ""},
		{"1,,4", []int{1, 4}, ""},
		{"", nil, ""},
		{"0", nil, `"0" is not a positive number`},
		{"1,x", nil, `"x" is not a positive number`},
		{"4,1,4", nil, "4 is listed twice"},
	}
	for _, tt := range tests {
		got, err := parseCapacity(tt.in)
		if !reflect.DeepEqual(got, tt.want) || !errorContains(err, tt.wantErr) {
			t.Errorf("parseCapacity(%q) = %v, %v; want %v, error %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCapacityPlan(t *testing.T) {
	got := capacityPlan([]int{1, 8})
	want := []capacityPhase{
		{projects: 1}, {projects: 1, fresh: true, measured: true}, {projects: 1, measured: true},
		{projects: 8}, {projects: 8, fresh: true, measured: true}, {projects: 8, measured: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("capacityPlan() = %+v\nwant %+v", got, want)
	}
	fresh, warm := capacityPhase{projects: 8, fresh: true}, capacityPhase{projects: 4}
	if args := strings.Join(fresh.args(), " "); args != "--phase capacity --projects 8 --fresh=true" {
		t.Errorf("args() = %q", args)
	}
	if fresh.label() != "capacity/fresh/8" || warm.label() != "capacity/warm/4" {
		t.Errorf("labels = %q, %q", fresh.label(), warm.label())
	}
}

// capacitySamples: fresh misses both targets at N=8 (2 failures, 70 s >
// 1.5 x 8 x 5 s); warm meets them; memory was not measured for fresh/8.
func capacitySamples() map[string][]float64 {
	return map[string][]float64{
		"capacity/fresh/1/all-healthy": {5}, "capacity/fresh/1/project": {5}, "capacity/fresh/1/failures": {0},
		"capacity/fresh/1/memory-per-project-mib": {300},
		"capacity/fresh/4/all-healthy":            {12}, "capacity/fresh/4/project": {9, 10, 11, 12}, "capacity/fresh/4/failures": {0},
		"capacity/fresh/4/memory-per-project-mib": {250.25},
		"capacity/fresh/8/all-healthy":            {70}, "capacity/fresh/8/project": {30, 40, 50, 60, 61, 62}, "capacity/fresh/8/failures": {2},
		"capacity/warm/1/all-healthy": {2}, "capacity/warm/1/project": {2}, "capacity/warm/1/failures": {0},
		"capacity/warm/1/memory-per-project-mib": {280},
		"capacity/warm/8/all-healthy":            {20}, "capacity/warm/8/project": {10, 12, 14, 16, 17, 18, 19, 20}, "capacity/warm/8/failures": {0},
		"capacity/warm/8/memory-per-project-mib": {200},
	}
}

func ptr(f float64) *float64 { return &f }

func TestCapacityEvaluate(t *testing.T) {
	r := Report{CapacityOnly: true, Samples: capacitySamples()}
	r.evaluate()
	wantRows := []CapacityRow{
		{Projects: 1, Mode: "fresh", AllHealthy: 5, Healthy: 1, ProjectMedian: 5, MemoryMiB: ptr(300), Relative: ptr(1)},
		{Projects: 4, Mode: "fresh", AllHealthy: 12, Healthy: 4, ProjectMedian: 10.5, MemoryMiB: ptr(250.25), Relative: ptr(2.4)},
		{Projects: 8, Mode: "fresh", AllHealthy: 70, Healthy: 6, ProjectMedian: 55, Failures: 2, Relative: ptr(14)},
		{Projects: 1, Mode: "warm", AllHealthy: 2, Healthy: 1, ProjectMedian: 2, MemoryMiB: ptr(280), Relative: ptr(1)},
		{Projects: 8, Mode: "warm", AllHealthy: 20, Healthy: 8, ProjectMedian: 16.5, MemoryMiB: ptr(200), Relative: ptr(10)},
	}
	if !reflect.DeepEqual(r.Capacity, wantRows) {
		t.Errorf("Capacity = %s\nwant %s", rowsString(r.Capacity), rowsString(wantRows))
	}
	growth := " all healthy <= 1.5 x %d x all healthy of 1 project (near-linear growth)"
	wantTargets := []Target{
		{Name: "capacity/fresh/1/failures", Value: 0, Limit: 0, Met: true},
		{Name: "capacity/fresh/4/failures", Value: 0, Limit: 0, Met: true},
		{Name: "capacity/fresh/4" + strings.Replace(growth, "%d", "4", 1), Value: 12, Limit: 30, Met: true},
		{Name: "capacity/fresh/8/failures", Value: 2, Limit: 0, Met: false},
		{Name: "capacity/fresh/8" + strings.Replace(growth, "%d", "8", 1), Value: 70, Limit: 60, Met: false},
		{Name: "capacity/warm/1/failures", Value: 0, Limit: 0, Met: true},
		{Name: "capacity/warm/8/failures", Value: 0, Limit: 0, Met: true},
		{Name: "capacity/warm/8" + strings.Replace(growth, "%d", "8", 1), Value: 20, Limit: 24, Met: true},
	}
	if !reflect.DeepEqual(r.Targets, wantTargets) {
		t.Errorf("Targets =\n%+v\nwant\n%+v", r.Targets, wantTargets)
	}
	if r.AllMet {
		t.Error("AllMet = true with missed targets")
	}
}

// rowsString shows rows with the values their pointers point at.
func rowsString(rows []CapacityRow) string {
	var b strings.Builder
	for _, row := range rows {
		fmt.Fprintf(&b, "\n%+v memory %s relative %s", row, deref(row.MemoryMiB), deref(row.Relative))
	}
	return b.String()
}

func deref(f *float64) string {
	if f == nil {
		return "none"
	}
	return fmt.Sprint(*f)
}

func TestCapacityTargetsOfPartialRuns(t *testing.T) {
	warmFour := map[string][]float64{
		"capacity/warm/4/all-healthy": {9}, "capacity/warm/4/project": {8, 8, 9, 9}, "capacity/warm/4/failures": {0},
	}
	tests := []struct {
		name         string
		capacityOnly bool
		wantCapacity []string // names of the capacity targets
		wantOthers   int      // targets of the other phases
		wantRelative bool
	}{
		{"without N=1, no growth target", true, []string{"capacity/warm/4/failures"}, 0, false},
		{"with the other phases, their targets too", false, []string{"capacity/warm/4/failures"}, 19, false},
	}
	for _, tt := range tests {
		r := Report{CapacityOnly: tt.capacityOnly, Samples: warmFour}
		r.evaluate()
		var capacity []string
		for _, target := range r.Targets {
			if strings.HasPrefix(target.Name, "capacity/") {
				capacity = append(capacity, target.Name)
			}
		}
		if !reflect.DeepEqual(capacity, tt.wantCapacity) || len(r.Targets)-len(capacity) != tt.wantOthers {
			t.Errorf("%s: targets %+v; want capacity %v and %d others", tt.name, r.Targets, tt.wantCapacity, tt.wantOthers)
		}
		if (r.Capacity[0].Relative != nil) != tt.wantRelative {
			t.Errorf("%s: Relative = %s, want one: %v", tt.name, deref(r.Capacity[0].Relative), tt.wantRelative)
		}
	}
}

func TestCapacityMarkdown(t *testing.T) {
	r := Report{
		CapacityOnly: true, Samples: capacitySamples(), Memory: "the PSS of the engine (pid 10)",
		Errors: map[string][]string{
			"capacity/fresh/8":        {"cap-x-8-6: start the stack: postgres did not start\nstderr: …", "cap-x-8-7: health: timeout"},
			"capacity/fresh/8/memory": {"not measured: no process 10"},
		},
	}
	r.evaluate()
	var b strings.Builder
	r.capacityMarkdown(&b)
	want := `
| N | mode | all healthy (s) | per project median (s) | failures | memory per project (MiB) | time vs N=1 |
|---|---|---|---|---|---|---|
| 1 | fresh | 5.00 | 5.00 | 0 | 300.0 | 1.00x |
| 4 | fresh | 12.00 | 10.50 | 0 | 250.2 | 2.40x |
| 8 | fresh | 70.00 | 55.00 | 2 | not measured | 14.00x |
| 1 | warm | 2.00 | 2.00 | 0 | 280.0 | 1.00x |
| 8 | warm | 20.00 | 16.50 | 0 | 200.0 | 10.00x |

Memory: the PSS of the engine (pid 10).

Errors (the first line of each; the JSON has them whole):

- capacity/fresh/8: cap-x-8-6: start the stack: postgres did not start
- capacity/fresh/8: cap-x-8-7: health: timeout
- capacity/fresh/8/memory: not measured: no process 10
`
	if got := b.String(); got != want {
		t.Errorf("capacityMarkdown() =\n%s\nwant\n%s", got, want)
	}
	md := r.Markdown()
	if strings.Contains(md, "| Measurement |") || !strings.Contains(md, want) {
		t.Errorf("Markdown() of a capacity-only run: wanted the capacity table and no measurement table, got\n%s", md)
	}
}

func TestCapacityRowWithoutHealthyProject(t *testing.T) {
	r := Report{CapacityOnly: true, Samples: map[string][]float64{
		"capacity/fresh/2/all-healthy": {40}, "capacity/fresh/2/failures": {2},
	}}
	r.evaluate()
	var b strings.Builder
	r.capacityMarkdown(&b)
	if !strings.Contains(b.String(), "| 2 | fresh | 40.00 | – | 2 | not measured | – |") {
		t.Errorf("capacityMarkdown() with no healthy project =\n%s", b.String())
	}
}

func TestReadLines(t *testing.T) {
	in := "\x1b[95m12  : \x1b[0m┆ [2.1s] | " + allHealthyLine + "\r\nplain\n\nlast, no newline"
	var lines []string
	got, err := readLines(strings.NewReader(in), func(line string) { lines = append(lines, line) })
	want := []string{"12  : ┆ [2.1s] | " + allHealthyLine, "plain", "", "last, no newline"}
	if err != nil || got != in || !reflect.DeepEqual(lines, want) {
		t.Errorf("readLines() = %q, %v, lines %q; want the input whole, lines %q", got, err, lines, want)
	}
	if got, err := readLines(strings.NewReader(in), nil); err != nil || got != in {
		t.Errorf("readLines(nil) = %q, %v", got, err)
	}
}
