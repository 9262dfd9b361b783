// Command bench measures the commandcenter stack through a Dagger engine:
// solo starts, warm starts, starts after a source-only change (with the
// install steps the engine re-ran, against the naive layering), restarts,
// readiness lag and a cold start; then capacity: 1, 4 and 8 projects
// launched at once, fresh and warm, with the engine's memory per project.
// Each phase runs in its own engine session through the tests module's
// Bench function; this program reads the engine's record of executed steps
// from the progress output, prints a markdown table, writes JSON and exits
// non-zero when a target is missed.
//
// Last, the frontend phase builds a real-size frontend (about 500 npm
// packages) after a source-only change, with the module and with the naive
// layering; it is skipped, not failed, when its registry is unavailable.
//
// The archiving phase compares pgbench's TPS with WAL archiving to a store
// against the same stack without one, interleaved in one session.
//
// Usage, from the repository root: go -C bench run . -out ../bench-results.json
// (-capacity-only for the capacity phases alone, -capacity 1,4,8 for the
// numbers of projects, -frontend-only or -skip-frontend for the frontend
// phase, -frontend-registry for its registry, -newproject-only for a new
// project's Start against warm Starts, -store-only for the archiving, store
// and crash phases, -archiving-only for the archiving phase).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

var phases = []string{"solo", "warm", "change", "naive", "restart", "cold", "archiving", "store", "crash", "newproject"}

// driver runs the phases, each in its own engine session.
type driver struct {
	dagger, mod, run string
	memory           *engineMemory // nil when the engine's memory cannot be read
}

func main() {
	daggerBin := flag.String("dagger", "dagger", "the Dagger CLI")
	mod := flag.String("mod", "../tests", "the tests module")
	out := flag.String("out", "bench-results.json", "where to write the JSON report")
	capacityOnly := flag.Bool("capacity-only", false, "run only the capacity phases")
	capacity := flag.String("capacity", "1,4,8", "how many projects each capacity phase launches at once, comma-separated; empty for none")
	enginePID := flag.Int("engine-pid", 0, "PID of the engine process as this host sees it, for the memory of the capacity phases; 0 looks for the one process named "+engineComm)
	frontendOnly := flag.Bool("frontend-only", false, "run only the frontend phase")
	skipFrontend := flag.Bool("skip-frontend", false, "leave out the frontend phase")
	storeOnly := flag.Bool("store-only", false, "run only the archiving, store and crash phases (WAL archiving's cost, a 1 GB restore, the RPO)")
	archivingOnly := flag.Bool("archiving-only", false, "run only the archiving phase (pgbench's TPS with the store against without it)")
	newOnly := flag.Bool("newproject-only", false, "run only the newproject phase (a new project's Start against warm Starts, on the default image and on postgres:16-alpine)")
	registry := flag.String("frontend-registry", "", "the npm registry the frontend phase installs the real-size fixture from (--registry of the tests module's Bench); empty for Bench's default, the lab mirror")
	flag.Parse()
	counts, err := parseCapacity(*capacity)
	switch {
	case err != nil:
	case *capacityOnly && len(counts) == 0:
		err = errors.New("-capacity-only with an empty -capacity: nothing to run")
	case *frontendOnly && (*capacityOnly || *skipFrontend):
		err = errors.New("-frontend-only with -capacity-only or -skip-frontend: leave one out")
	case *frontendOnly:
		counts = nil
	case *storeOnly && (*capacityOnly || *frontendOnly):
		err = errors.New("-store-only with -capacity-only or -frontend-only: leave one out")
	case *storeOnly:
		counts = nil
	case *newOnly && (*capacityOnly || *frontendOnly || *storeOnly):
		err = errors.New("-newproject-only with -capacity-only, -frontend-only or -store-only: leave one out")
	case *newOnly:
		counts = nil
	case *archivingOnly && (*capacityOnly || *frontendOnly || *storeOnly || *newOnly):
		err = errors.New("-archiving-only with -capacity-only, -frontend-only, -store-only or -newproject-only: leave one out")
	case *archivingOnly:
		counts = nil
	}
	exitOn(err)

	run := strconv.FormatInt(time.Now().Unix(), 36)
	d := driver{dagger: *daggerBin, mod: *mod, run: run}
	report := Report{Run: run, Machine: machine(), Samples: map[string][]float64{}, Installs: map[string]int{},
		CapacityOnly: *capacityOnly, FrontendOnly: *frontendOnly, StoreOnly: *storeOnly, NewProjectOnly: *newOnly,
		ArchivingOnly: *archivingOnly}
	if len(counts) > 0 {
		d.memory, report.Memory = locateEngine("/proc", *enginePID)
	}
	switch {
	case *newOnly:
		exitOn(d.runPhase("newproject", &report))
	case *archivingOnly:
		exitOn(d.runPhase("archiving", &report))
	case *storeOnly:
		for _, phase := range []string{"archiving", "store", "crash"} {
			exitOn(d.runPhase(phase, &report))
		}
	case !*capacityOnly && !*frontendOnly:
		exitOn(d.runPhases(&report))
	}
	exitOn(d.runCapacity(counts, &report))
	if !*capacityOnly && !*skipFrontend && !*storeOnly && !*newOnly && !*archivingOnly {
		exitOn(d.runFrontend(*registry, &report))
	}
	report.evaluate()
	fmt.Print(report.Markdown())
	exitOn(report.write(*out))
	if !report.AllMet {
		os.Exit(1)
	}
}

// exitOn ends the program with status 2 when err is not nil: the benchmark
// could not run, or its report could not be written.
func exitOn(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
}

// runPhases runs the phases other than capacity and frontend, one after another.
func (d driver) runPhases(report *Report) error {
	for _, phase := range phases {
		if err := d.runPhase(phase, report); err != nil {
			return err
		}
	}
	return nil
}

// runPhase runs one phase in its own session and adds its samples.
func (d driver) runPhase(phase string, report *Report) error {
	fmt.Fprintf(os.Stderr, "bench: phase %s\n", phase)
	out, err := d.call([]string{"--phase", phase}, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", phase, err)
	}
	report.addOutput(phase, out)
	return nil
}

// addOutput adds what one session of Bench printed: its samples, the
// install steps the engine ran (under label/), and its errors.
func (r *Report) addOutput(label string, out *benchOutput) {
	for name, values := range out.Samples {
		r.Samples[name] = values
	}
	for name, n := range countInstalls(out.progress) {
		r.Installs[label+"/"+name] = n
	}
	printErrors(label, out.Errors)
	if len(out.Errors) > 0 {
		r.addErrors(label, out.Errors...)
	}
}

// benchOutput is what one session of the tests module's Bench printed.
type benchOutput struct {
	Samples  map[string][]float64 `json:"samples"`
	Errors   []string             `json:"errors"` // failures the phase measured rather than stopped at
	progress string               // the CLI's progress output: the engine's record of the session
}

// call runs Bench with args, and the run's identifier, in its own engine
// session. onLine, when not nil, sees each line of the progress output,
// without colours, as it arrives.
func (d driver) call(args []string, onLine func(string)) (*benchOutput, error) {
	args = append([]string{"call", "-m", d.mod, "--progress=plain", "bench", "--run", d.run}, args...)
	cmd := exec.Command(d.dagger, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("pipe stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", d.dagger, err)
	}
	progress, readErr := readLines(stderr, onLine)
	if err := errors.Join(cmd.Wait(), readErr); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, tail(progress, 30))
	}
	out := &benchOutput{progress: progress}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), out); err != nil {
		return nil, fmt.Errorf("read the phase's JSON %q: %v", stdout.String(), err)
	}
	return out, nil
}

// readLines reads r to its end and returns all of it, passing each line,
// without colours, to onLine (when not nil) as soon as it is complete.
func readLines(r io.Reader, onLine func(string)) (string, error) {
	var all strings.Builder
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		all.WriteString(line)
		if onLine != nil && line != "" {
			onLine(ansi.ReplaceAllString(strings.TrimRight(line, "\r\n"), ""))
		}
		if err == io.EOF {
			return all.String(), nil
		}
		if err != nil {
			return all.String(), fmt.Errorf("read progress: %w", err)
		}
	}
}
