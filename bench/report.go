package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
)

// Report is the benchmark's result, as written to JSON.
type Report struct {
	Run          string `json:"run"`
	Machine      string `json:"machine"`
	CapacityOnly bool   `json:"capacityOnly,omitempty"` // only the capacity phases ran
	FrontendOnly bool   `json:"frontendOnly,omitempty"` // only the frontend phase ran
	StoreOnly    bool   `json:"storeOnly,omitempty"`    // only the archiving, store and crash phases ran
	// NewProjectOnly: only the newproject phase ran.
	NewProjectOnly bool `json:"newProjectOnly,omitempty"`
	// ArchivingOnly: only the archiving phase ran.
	ArchivingOnly bool                 `json:"archivingOnly,omitempty"`
	Samples       map[string][]float64 `json:"samples"`          // seconds; capacity/…/failures and …-rows are counts, …-mib MiB, …-tps transactions per second
	Installs      map[string]int       `json:"installs"`         // install steps executed, by phase/step
	Errors        map[string][]string  `json:"errors,omitempty"` // failures a phase measured rather than stopped at, by phase
	Memory        string               `json:"memory,omitempty"` // how the capacity phases' memory is measured, or why not
	Stats         map[string]Stat      `json:"stats"`
	Capacity      []CapacityRow        `json:"capacity,omitempty"`
	Frontend      *FrontendRun         `json:"frontend,omitempty"` // absent when the frontend phase was left out
	Targets       []Target             `json:"targets"`
	AllMet        bool                 `json:"allMet"`

	missing []string // measurements read since the last check that were never taken
}

// Stat summarises the samples of one measurement.
type Stat struct {
	N                int
	Min, Median, Max float64
}

// Target is one goal the benchmark checks.
type Target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Met   bool    `json:"met"`
	// Missing names the measurements the target needs that the run did not
	// take: such a target is not met, whatever its value reads.
	Missing []string `json:"missing,omitempty"`
}

func stat(values []float64) Stat {
	v := slices.Sorted(slices.Values(values))
	if len(v) == 0 {
		return Stat{}
	}
	median := v[len(v)/2]
	if len(v)%2 == 0 {
		median = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Stat{N: len(v), Min: v[0], Median: median, Max: v[len(v)-1]}
}

// dependents of each service: the services that a restart used to start
// again with it, before restarts were in place.
var dependents = map[string][]string{
	"postgres": {"backend", "frontend"}, "redis": {"backend", "frontend"},
	"backend": {"frontend"}, "frontend": nil,
}

// evaluate computes the statistics and checks the targets: those of the
// first six phases unless only capacity or only frontend ran, then
// capacity's, then frontend's.
func (r *Report) evaluate() {
	r.Stats = map[string]Stat{}
	for name, values := range r.Samples {
		r.Stats[name] = stat(values)
	}
	if !r.CapacityOnly && !r.FrontendOnly && !r.StoreOnly && !r.NewProjectOnly && !r.ArchivingOnly {
		r.phaseTargets()
	}
	r.Capacity = capacityRows(r.Stats)
	r.capacityTargets()
	r.frontendTargets()
	r.newProjectTargets()
	if !r.CapacityOnly && !r.FrontendOnly && !r.NewProjectOnly {
		r.archivingTargets()
		if !r.ArchivingOnly {
			r.storeTargets()
		}
	}
	r.AllMet = true
	for _, t := range r.Targets {
		r.AllMet = r.AllMet && t.Met
	}
}

// check records a target: value must be at most limit, and every
// measurement read for it (through median, maximum or installs, since the
// last check) must have been taken.
func (r *Report) check(name string, value, limit float64) {
	r.Targets = append(r.Targets, Target{Name: name, Value: value, Limit: limit,
		Met: value <= limit && len(r.missing) == 0, Missing: r.missing})
	r.missing = nil
}

// median is the median of measurement name; a measurement never taken
// is noted missing for the next check, not read as 0.
func (r *Report) median(name string) float64 {
	return r.taken(name).Median
}

// maximum is the largest sample of measurement name, noted as median is.
func (r *Report) maximum(name string) float64 {
	return r.taken(name).Max
}

func (r *Report) taken(name string) Stat {
	s := r.Stats[name]
	if s.N == 0 {
		r.missing = append(r.missing, name)
	}
	return s
}

// installs is the sum of the install counts of the steps; a step never
// counted is noted missing for the next check.
func (r *Report) installs(steps ...string) float64 {
	n := 0
	for _, step := range steps {
		c, ok := r.Installs[step]
		if !ok {
			r.missing = append(r.missing, "installs "+step)
		}
		n += c
	}
	return float64(n)
}

// storeTargets checks what a crash loses: no row acknowledged more than
// the server's archive_timeout (60 s) before it, in any of the crashes.
func (r *Report) storeTargets() {
	r.check("rows acknowledged more than 60 s (archive_timeout) before a crash and lost (max)", r.maximum("store/rpo-kill-lost-old-rows"), 0)
}

// archivingTargets checks what WAL archiving costs: pgbench's median TPS
// with the store at most 10 % below its median without one, both measured
// in the archiving phase's one session.
func (r *Report) archivingTargets() {
	with, without := r.median("store/pgbench-archiving-tps"), r.median("store/pgbench-plain-tps")
	lost := 1.0
	if without > 0 {
		lost = 1 - with/without
	}
	r.check("TPS lost to WAL archiving: 1 - median with the store / median without (pgbench, one session) <= 0.10", lost, 0.10)
}

// addErrors records errors of a phase.
func (r *Report) addErrors(label string, errs ...string) {
	if r.Errors == nil {
		r.Errors = map[string][]string{}
	}
	r.Errors[label] = append(r.Errors[label], errs...)
}

// phaseTargets checks the targets of the solo, warm, change, lag and restart measurements.
func (r *Report) phaseTargets() {
	med := r.median
	check := r.check
	chain := max(med("solo/postgres"), med("solo/redis")) + med("solo/backend") + med("solo/frontend")
	check("warm stack Start (median) <= 1.3 x longest chain of solo starts", med("warm/start"), 1.3*chain)
	check("install steps re-run after a source-only change", r.installs("change/pip", "change/npm"), 0)
	for _, s := range []string{"postgres", "redis", "backend", "frontend"} {
		check("readiness lag of "+s+" (median) <= 0.5 s", med("lag/"+s), 0.5)
	}
	for _, s := range []string{"postgres", "redis", "backend", "frontend"} {
		// The earlier Restart stopped and started s and its dependents; a
		// restart in place must beat that.
		solo := med("solo/" + s)
		for _, d := range dependents[s] {
			solo += med("solo/" + d)
		}
		check("Restart("+s+") in place (median) <= 1.5 x solo start of "+strings.Join(append([]string{s}, dependents[s]...), "+"), med("restart/"+s), 1.5*solo)
		check("Restart("+s+") from another session (median) <= 1.5 x Restart("+s+") in the session", med("restart-elsewhere/"+s), 1.5*med("restart/"+s))
	}
	check("Stop from another session (median) <= 1.5 x the engine's stop in the session", med("stop/elsewhere"), 1.5*med("stop/session"))
	check("install steps run for a new project", r.installs("cold/pip", "cold/npm"), 0)
	check("new project's Start (median) <= warm Start + its initdb", med("cold/start"), med("warm/start")+med("cold/initdb"))
}

// Markdown renders the report as tables.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Benchmark run %s\n\nMachine: %s\n", r.Run, r.Machine)
	r.measurementsMarkdown(&b)
	if naive, layered := r.Stats["naive/backend-build"].Median, r.Stats["change/backend-build"].Median; layered > 0 {
		fmt.Fprintf(&b, "\nBackend build after a source-only change: naive layering %.2f s, the module's %.2f s (ratio %.1f).\n", naive, layered, naive/layered)
	}
	r.frontendMarkdown(&b)
	r.capacityMarkdown(&b)
	b.WriteString("\n| Install steps executed (not cached) | count |\n|---|---|\n")
	for _, name := range slices.Sorted(maps.Keys(r.Installs)) {
		fmt.Fprintf(&b, "| %s | %d |\n", name, r.Installs[name])
	}
	b.WriteString("\n| Target | value | limit | met |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		met := "yes"
		switch {
		case len(t.Missing) > 0:
			met = "**no**: not measured: " + strings.Join(t.Missing, ", ")
		case !t.Met:
			met = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %s |\n", t.Name, t.Value, t.Limit, met)
	}
	return b.String()
}

// measurementsMarkdown renders the statistics of the phases other than
// capacity, which has a table of its own.
func (r *Report) measurementsMarkdown(b *strings.Builder) {
	names := slices.DeleteFunc(slices.Sorted(maps.Keys(r.Stats)), func(name string) bool {
		return strings.HasPrefix(name, "capacity/")
	})
	if len(names) == 0 {
		return
	}
	b.WriteString("\n| Measurement (s, unless its name gives the unit) | n | min | median | max |\n|---|---|---|---|---|\n")
	for _, name := range names {
		s := r.Stats[name]
		fmt.Fprintf(b, "| %s | %d | %.2f | %.2f | %.2f |\n", name, s.N, s.Min, s.Median, s.Max)
	}
}

// write writes the report as JSON to path.
func (r *Report) write(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(data, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// machine describes where the benchmark ran.
func machine() string {
	kernel, _ := exec.Command("uname", "-srm").Output()
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem, _, _ = strings.Cut(string(data), "\n")
		mem = strings.Join(strings.Fields(mem)[1:], " ")
	}
	return fmt.Sprintf("%s, %d CPUs, %s memory", strings.TrimSpace(string(kernel)), runtime.NumCPU(), mem)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// newProjectTargets checks the newproject phase, when it ran: a new
// project's Start costs at most 1.05 x a warm Start of a known one, both
// on the default image, in one session.
func (r *Report) newProjectTargets() {
	fresh, warm := r.Stats["new/start"], r.Stats["new/warm-start"]
	if fresh.N == 0 || warm.N == 0 {
		return
	}
	r.check("new project's Start (median) <= 1.05 x warm Start (median), default image, one session", fresh.Median, 1.05*warm.Median)
}
