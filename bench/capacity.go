package main

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The capacity phases: N projects launched at once in one engine session,
// fresh (new projects, so initdb runs) or warm (projects that earlier runs
// created), with the engine's memory while they all run.

// allHealthyLine is what the tests module's capacity phase prints on stderr
// once every project is healthy or has failed; it then keeps them running
// for 8 s, while memory is sampled.
const allHealthyLine = "commandcenter-bench: all healthy"

// Memory samples taken while the projects run: the largest counts.
const (
	memorySamples = 3
	memoryEvery   = time.Second
)

// capacityGrowth bounds the time until N projects are all healthy at
// capacityGrowth × N × the time of one: near-linear growth.
const capacityGrowth = 1.5

// parseCapacity reads -capacity: distinct positive numbers of projects,
// comma-separated.
func parseCapacity(s string) ([]int, error) {
	var counts []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-capacity %q: %q is not a positive number of projects", s, f)
		}
		if slices.Contains(counts, n) {
			return nil, fmt.Errorf("-capacity %q: %d is listed twice", s, n)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// capacityPhase is one run of the capacity phase.
type capacityPhase struct {
	projects int
	fresh    bool
	measured bool // false for the warm-up, which creates the warm projects
}

func (c capacityPhase) mode() string {
	if c.fresh {
		return "fresh"
	}
	return "warm"
}

// label prefixes the phase's samples: capacity/<mode>/<N>.
func (c capacityPhase) label() string {
	return fmt.Sprintf("capacity/%s/%d", c.mode(), c.projects)
}

func (c capacityPhase) args() []string {
	return []string{"--phase", "capacity", "--projects", strconv.Itoa(c.projects), "--fresh=" + strconv.FormatBool(c.fresh)}
}

// capacityPlan orders the capacity runs: for each number of projects, a
// warm run that is not measured, so that the warm projects exist and have
// run once, then fresh, then warm.
func capacityPlan(counts []int) []capacityPhase {
	var plan []capacityPhase
	for _, n := range counts {
		plan = append(plan,
			capacityPhase{projects: n},
			capacityPhase{projects: n, fresh: true, measured: true},
			capacityPhase{projects: n, measured: true})
	}
	return plan
}

// runCapacity runs the capacity phases for each number of projects.
func (d driver) runCapacity(counts []int, report *Report) error {
	for _, c := range capacityPlan(counts) {
		if !c.measured {
			fmt.Fprintf(os.Stderr, "bench: phase %s (warm-up, not measured)\n", c.label())
			out, err := d.call(c.args(), nil)
			if err != nil {
				return fmt.Errorf("%s warm-up: %w", c.label(), err)
			}
			printErrors(c.label()+" warm-up", out.Errors)
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: phase %s\n", c.label())
		if err := d.measureCapacity(c, report); err != nil {
			return fmt.Errorf("%s: %w", c.label(), err)
		}
	}
	return nil
}

// measureCapacity runs one capacity phase and adds to report its samples,
// install steps, errors and the engine's memory per project.
func (d driver) measureCapacity(c capacityPhase, report *Report) error {
	watch := watchMemory(d.memory)
	out, err := d.call(c.args(), watch.onLine)
	before, peak, memErr := watch.result()
	if err != nil {
		return err
	}
	label := c.label()
	report.addOutput(label, out)
	switch {
	case memErr == nil:
		report.Samples[label+"/engine-before-mib"] = []float64{mib(before)}
		report.Samples[label+"/engine-peak-mib"] = []float64{mib(peak)}
		report.Samples[label+"/memory-per-project-mib"] = []float64{mib(peak-before) / float64(c.projects)}
	case d.memory != nil:
		fmt.Fprintf(os.Stderr, "bench: %s: memory not measured: %v\n", label, memErr)
		report.addErrors(label+"/memory", "not measured: "+memErr.Error())
	}
	return nil
}

func printErrors(label string, errs []string) {
	for _, e := range errs {
		fmt.Fprintf(os.Stderr, "bench: %s: %s\n", label, e)
	}
}

// CapacityRow is one measured capacity phase.
type CapacityRow struct {
	Projects      int      `json:"projects"`
	Mode          string   `json:"mode"`                          // fresh or warm
	AllHealthy    float64  `json:"allHealthy"`                    // s, until every project was healthy or had failed
	Healthy       int      `json:"healthy"`                       // projects that became healthy
	ProjectMedian float64  `json:"projectMedian"`                 // s, from the launch to healthy, of the healthy projects
	Failures      int      `json:"failures"`                      // projects whose start or health check failed
	MemoryMiB     *float64 `json:"memoryPerProjectMiB,omitempty"` // absent when not measured
	Relative      *float64 `json:"relativeToOne,omitempty"`       // AllHealthy / that of 1 project, same mode; absent without it
}

var capacityName = regexp.MustCompile(`^(capacity/(fresh|warm)/(\d+))/all-healthy$`)

// capacityRows gathers the capacity phases' statistics, by mode, then by
// number of projects.
func capacityRows(stats map[string]Stat) []CapacityRow {
	var rows []CapacityRow
	for name, s := range stats {
		m := capacityName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		label := m[1]
		n, _ := strconv.Atoi(m[3]) // digits, by the pattern
		row := CapacityRow{
			Projects: n, Mode: m[2], AllHealthy: s.Median,
			Healthy: stats[label+"/project"].N, ProjectMedian: stats[label+"/project"].Median,
			Failures: int(stats[label+"/failures"].Median),
		}
		if mem, ok := stats[label+"/memory-per-project-mib"]; ok {
			row.MemoryMiB = &mem.Median
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b CapacityRow) int {
		return cmp.Or(strings.Compare(a.Mode, b.Mode), cmp.Compare(a.Projects, b.Projects))
	})
	for i, row := range rows {
		if one, ok := allHealthyOfOne(rows, row.Mode); ok {
			rel := row.AllHealthy / one
			rows[i].Relative = &rel
		}
	}
	return rows
}

// allHealthyOfOne is the all-healthy time of one project in the given mode.
func allHealthyOfOne(rows []CapacityRow, mode string) (float64, bool) {
	for _, row := range rows {
		if row.Mode == mode && row.Projects == 1 && row.AllHealthy > 0 {
			return row.AllHealthy, true
		}
	}
	return 0, false
}

// capacityTargets checks that no project failed and that the time until
// all are healthy grows near-linearly with their number.
func (r *Report) capacityTargets() {
	for _, c := range r.Capacity {
		r.check(fmt.Sprintf("capacity/%s/%d/failures", c.Mode, c.Projects), float64(c.Failures), 0)
		one, ok := allHealthyOfOne(r.Capacity, c.Mode)
		if c.Projects == 1 || !ok {
			continue
		}
		r.check(fmt.Sprintf("capacity/%s/%d all healthy <= %.1f x %d x all healthy of 1 project (near-linear growth)", c.Mode, c.Projects, capacityGrowth, c.Projects),
			c.AllHealthy, capacityGrowth*float64(c.Projects)*one)
	}
}

// capacityMarkdown renders the capacity table, how memory was measured and
// the errors of the phases.
func (r *Report) capacityMarkdown(b *strings.Builder) {
	if len(r.Capacity) == 0 {
		return
	}
	b.WriteString("\n| N | mode | all healthy (s) | per project median (s) | failures | memory per project (MiB) | time vs N=1 |\n|---|---|---|---|---|---|---|\n")
	for _, c := range r.Capacity {
		median, memory, relative := "–", "not measured", "–"
		if c.Healthy > 0 {
			median = fmt.Sprintf("%.2f", c.ProjectMedian)
		}
		if c.MemoryMiB != nil {
			memory = fmt.Sprintf("%.1f", *c.MemoryMiB)
		}
		if c.Relative != nil {
			relative = fmt.Sprintf("%.2fx", *c.Relative)
		}
		fmt.Fprintf(b, "| %d | %s | %.2f | %s | %d | %s | %s |\n", c.Projects, c.Mode, c.AllHealthy, median, c.Failures, memory, relative)
	}
	if r.Memory != "" {
		fmt.Fprintf(b, "\nMemory: %s.\n", r.Memory)
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nErrors (the first line of each; the JSON has them whole):\n\n")
	}
	for _, label := range slices.Sorted(maps.Keys(r.Errors)) {
		for _, e := range r.Errors[label] {
			first, _, _ := strings.Cut(e, "\n")
			fmt.Fprintf(b, "- %s: %s\n", label, first)
		}
	}
}
