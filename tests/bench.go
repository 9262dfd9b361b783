package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// The benchmark's engine side. bench/ (a Go program) runs each phase in its
// own session with `dagger call -m tests bench --phase <phase>`, reads the
// engine's record of executed steps from the progress output, and reports.

// benchRepeats is how often each measurement is taken.
const benchRepeats = 3

// benchResult is what one phase measured, in seconds unless its name says
// otherwise, and the failures it measured rather than stopped at.
type benchResult struct {
	Phase   string               `json:"phase"`
	Samples map[string][]float64 `json:"samples"`
	Errors  []string             `json:"errors,omitempty"`
}

// Measure one phase of the benchmark and return its samples as JSON: solo, warm, change, naive, restart, cold, capacity, frontend, archiving, store, crash or newproject.
//
// Run it through bench/ (see the README), which also counts the install
// steps the engine ran, computes the statistics, reads the engine's memory
// during the capacity phase and checks the targets. The capacity phase
// launches --projects stacks at once and prints "commandcenter-bench: all
// healthy" on stderr when all are up (or failed), then keeps them running
// for 8 s before it stops them. The frontend phase builds a real-size
// frontend (testdata/realsize, about 500 npm packages from --registry)
// after source-only changes, with the module and with the naive layering;
// it prints "commandcenter-bench: frontend warm" once the module's install
// is warm. The archiving phase measures pgbench's TPS with WAL archiving
// to an S3 server in the engine against the same stack without a store,
// interleaved in one session; the store phase, the restore of a database
// of about 1 GB after the drill; the crash phase, the acknowledged writes
// that a crash (postgres killed, then the drill) loses. The newproject
// phase times a new project's Start against warm Starts of known projects,
// on the default image and on postgres:16-alpine, interleaved.
func (m *Tests) Bench(
	ctx context.Context,
	// solo, warm, change, naive, restart, cold, capacity, frontend,
	// archiving, store, crash or newproject.
	phase string,
	// An identifier of the benchmark run; the change, naive, cold and fresh
	// capacity phases use it to make a change, or a project, no earlier run
	// has seen.
	run string,
	// How many projects the capacity phase launches at once (1-32). Other
	// phases ignore it.
	// +default=1
	projects int,
	// Whether the capacity phase launches new projects (cap-<run>-<projects>-<i>),
	// whose empty volumes make initdb run and which it resets afterwards,
	// rather than the warm ones (cap-warm-<i>) that every run reuses. Other
	// phases ignore it.
	// +optional
	fresh bool,
	// The npm registry the frontend phase installs the real-size fixture's
	// packages from, e.g. the lab mirror: it must serve every tarball of
	// testdata/realsize/frontend/package-lock.json. Other phases ignore it.
	// +default="http://10.87.0.1:4873/"
	registry string,
) (string, error) {
	phases := map[string]func(context.Context, string, *benchResult) error{
		"solo": benchSolo, "warm": benchWarm, "change": benchChange,
		"naive": benchNaive, "restart": benchRestart, "cold": benchCold, "archiving": benchArchiving, "store": benchStore, "crash": benchCrash,
		"newproject": benchNewProject,
		"capacity": func(ctx context.Context, run string, res *benchResult) error {
			return benchCapacity(ctx, run, projects, fresh, res)
		},
		"frontend": func(ctx context.Context, run string, res *benchResult) error {
			return benchFrontend(ctx, run, registry, res)
		},
	}
	f, ok := phases[phase]
	if !ok {
		return "", fmt.Errorf("unknown phase %q: want solo, warm, change, naive, restart, cold, capacity, frontend, archiving, store, crash or newproject", phase)
	}
	res := &benchResult{Phase: phase, Samples: map[string][]float64{}}
	if err := f(ctx, run, res); err != nil {
		return "", fmt.Errorf("%s: %w", phase, err)
	}
	out, err := json.Marshal(res)
	return string(out), err
}

// add records a sample, and prints it on stderr as it is taken, so that the
// progress output keeps the samples of a phase whose session fails to close.
func (r *benchResult) add(name string, d time.Duration) {
	r.Samples[name] = append(r.Samples[name], d.Seconds())
	fmt.Fprintf(os.Stderr, "commandcenter-bench: sample %s %.3f\n", name, d.Seconds())
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	begin := time.Now()
	err := f()
	return time.Since(begin), err
}

func benchStack(project string) *dagger.Commandcenter {
	return dag.Commandcenter(withPasswords(fixture(project)))
}

func startAll(ctx context.Context, cc *dagger.Commandcenter) error {
	_, err := cc.Start().Project(ctx)
	return err
}

func serviceOf(ctx context.Context, cc *dagger.Commandcenter, name string) *dagger.Service {
	return map[string]*dagger.Service{
		"postgres": cc.Postgres(), "redis": cc.Redis(), "backend": cc.Backend(), "frontend": cc.Frontend(),
	}[name]
}

// dependents of each service, in reverse start order: stopping a service
// stops them anyway.
var benchDependents = map[string][]string{
	"postgres": {"frontend", "backend"}, "redis": {"frontend", "backend"},
	"backend": {"frontend"}, "frontend": nil,
}

// benchSolo starts each service alone, its dependencies running, and
// records the time to healthy and the readiness lag: from the moment the
// server logged that it listens to the moment Start returned.
func benchSolo(ctx context.Context, _ string, res *benchResult) error {
	return withStack(ctx, withPasswords(fixture("bench")), func(cc *dagger.Commandcenter) error {
		return soloStarts(ctx, cc, res)
	})
}

func soloStarts(ctx context.Context, cc *dagger.Commandcenter, res *benchResult) error {
	for range benchRepeats {
		for _, s := range appServices {
			for _, d := range append(benchDependents[s], s) {
				if _, err := serviceOf(ctx, cc, d).Stop(ctx); err != nil {
					return fmt.Errorf("stop %s: %w", d, err)
				}
			}
			took, err := timed(func() error { _, err := serviceOf(ctx, cc, s).Start(ctx); return err })
			if err != nil {
				return fmt.Errorf("start %s: %w", s, err)
			}
			returned := time.Now()
			res.add("solo/"+s, took)
			listening, err := listeningSince(ctx, cc, s)
			if err != nil {
				return err
			}
			res.add("lag/"+s, returned.Sub(listening))
			if err := startAll(ctx, cc); err != nil {
				return err
			}
		}
	}
	return nil
}

// Where each server logs that it accepts connections, and how to read the time.
var readyLines = map[string]struct {
	pattern *regexp.Regexp
	parse   func(string) (time.Time, error)
}{
	"postgres": {regexp.MustCompile(`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[\d+\] LOG:  database system is ready to accept connections`),
		func(s string) (time.Time, error) { return time.Parse("2006-01-02 15:04:05.000", s) }},
	"redis": {regexp.MustCompile(`(\d\d? \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) \* Ready to accept connections`),
		func(s string) (time.Time, error) { return time.Parse("2 Jan 2006 15:04:05.000", s) }},
	"backend":  {regexp.MustCompile(`fixture backend listening on :8000 at (\d+\.\d+)`), parseEpoch},
	"frontend": {regexp.MustCompile(`fixture frontend listening on :3000 at (\d+\.\d+)`), parseEpoch},
}

func parseEpoch(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	return time.UnixMilli(int64(f * 1000)), err
}

// listeningSince reads from the service's log when its last start began to listen.
func listeningSince(ctx context.Context, cc *dagger.Commandcenter, s string) (time.Time, error) {
	logs, err := serviceLogs(ctx, cc, s, 200)
	if err != nil {
		return time.Time{}, err
	}
	line := readyLines[s]
	found := line.pattern.FindAllStringSubmatch(logs, -1)
	if len(found) == 0 {
		return time.Time{}, fmt.Errorf("%s: no line saying it listens in its last 200 log lines", s)
	}
	return line.parse(found[len(found)-1][1])
}

// benchWarm times Start of the whole stack, nothing changed, nothing running.
func benchWarm(ctx context.Context, _ string, res *benchResult) error {
	cc := benchStack("bench")
	if err := startAll(ctx, cc); err != nil {
		return err
	}
	for range benchRepeats {
		if err := stop(ctx, cc); err != nil {
			return err
		}
		took, err := timed(func() error { return startAll(ctx, cc) })
		if err != nil {
			return err
		}
		res.add("warm/start", took)
	}
	return stop(ctx, cc)
}

// changedSource is the fixture with one new backend file: a source-only change.
func changedSource(run string, rep int) *dagger.Directory {
	return dag.CurrentModule().Source().Directory("testdata/app").
		WithNewFile("backend/app/bench_change.py", fmt.Sprintf("# benchmark run %s, change %d\n", run, rep))
}

// benchChange times Start of the whole stack after a backend-only change,
// then the backend's build alone after one more change. bench/ counts the
// install steps the engine ran meanwhile.
func benchChange(ctx context.Context, run string, res *benchResult) error {
	// Stopping a stack makes the engine name its services, which builds them;
	// stopping the previous stack keeps the changed build inside the timing.
	previous := benchStack("bench")
	for rep := range benchRepeats {
		if err := stop(ctx, previous); err != nil {
			return err
		}
		cc := changedStack(run, rep)
		took, err := timed(func() error { return startAll(ctx, cc) })
		if err != nil {
			return err
		}
		res.add("change/start", took)
		buildTook, err := timed(func() error {
			_, err := changedStack(run, rep+benchRepeats).Container("backend").Sync(ctx)
			return err
		})
		if err != nil {
			return err
		}
		res.add("change/backend-build", buildTook)
		previous = cc
	}
	return stop(ctx, previous)
}

// changedStack is the bench project on the fixture with one source-only change.
func changedStack(run string, rep int) *dagger.Commandcenter {
	opts := withPasswords(fixture("bench"))
	opts.Source = changedSource(run, rep)
	return dag.Commandcenter(opts)
}

// benchNaive builds the backend after a source-only change the way the
// earlier Python orchestration did, source first, then the install: the
// baseline for the module's layering.
func benchNaive(ctx context.Context, run string, res *benchResult) error {
	for rep := range benchRepeats {
		src := changedSource(run+"-naive", rep).Directory("backend")
		took, err := timed(func() error {
			_, err := dag.Container().
				From("python:3.12-slim").
				WithDirectory("/app", src).
				WithWorkdir("/app").
				WithExec([]string{"pip", "install", "-r", "requirements.txt"}).
				Sync(ctx)
			return err
		})
		if err != nil {
			return err
		}
		res.add("naive/backend-build", took)
	}
	return nil
}

// benchRestart times a restart in place of each service, asked for from
// the same definition and from another one (as from another session), and
// a stop of the project from another definition against the engine's stop
// of this session's services.
func benchRestart(ctx context.Context, _ string, res *benchResult) error {
	return withStack(ctx, withPasswords(fixture("bench")), func(cc *dagger.Commandcenter) error {
		other := dag.Commandcenter(elsewhere(withPasswords(fixture("bench"))))
		for range benchRepeats {
			for _, s := range appServices {
				for _, by := range []struct {
					label string
					cc    *dagger.Commandcenter
				}{{"restart/", cc}, {"restart-elsewhere/", other}} {
					took, err := timed(func() error { _, err := by.cc.Restart(ctx, s); return err })
					if err != nil {
						return fmt.Errorf("restart %s: %w", s, err)
					}
					res.add(by.label+s, took)
				}
			}
			if err := timedStops(ctx, cc, other, res); err != nil {
				return err
			}
		}
		return nil
	})
}

// timedStops times Stop from other, then the engine's stop of cc's
// services in this session, dependents first, starting cc again after each.
func timedStops(ctx context.Context, cc, other *dagger.Commandcenter, res *benchResult) error {
	took, err := timed(func() error { _, err := other.Stop(ctx); return err })
	if err != nil {
		return fmt.Errorf("stop from elsewhere: %w", err)
	}
	res.add("stop/elsewhere", took)
	if err := startAll(ctx, cc); err != nil {
		return err
	}
	took, err = timed(func() error {
		for _, s := range []string{"frontend", "backend", "redis", "postgres"} {
			if _, err := serviceOf(ctx, cc, s).Stop(ctx); err != nil {
				return fmt.Errorf("stop %s in the session: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.add("stop/session", took)
	return startAll(ctx, cc)
}

// initdbPattern is the line the postgres launcher logs once it made a new
// cluster: by initdb, or a copy of the image's template.
var initdbPattern = regexp.MustCompile(`\[commandcenter\] postgres (?:initdb took|cluster copied from the image.s template in) (\d+) ms`)

// initdbTime reads from postgres's log how long its initdb took.
func initdbTime(ctx context.Context, cc *dagger.Commandcenter) (time.Duration, error) {
	logs, err := serviceLogs(ctx, cc, "postgres", 200)
	if err != nil {
		return 0, err
	}
	found := initdbPattern.FindStringSubmatch(logs)
	if found == nil {
		return 0, fmt.Errorf("postgres: no initdb line in its log of a new project")
	}
	ms, _ := strconv.Atoi(found[1])
	return time.Duration(ms) * time.Millisecond, nil
}

// benchCold times Start of a new project: fresh volumes, so initdb runs,
// while every build step is cached from the earlier phases.
func benchCold(ctx context.Context, run string, res *benchResult) error {
	cc := benchStack("bench-cold-" + strings.ToLower(run))
	// The session's first call loads the module; warm's median leaves that
	// out, and so does this, by calling the constructor first.
	if _, err := cc.Project(ctx); err != nil {
		return err
	}
	took, err := timed(func() error { return startAll(ctx, cc) })
	if err != nil {
		return err
	}
	res.add("cold/start", took)
	initdb, err := initdbTime(ctx, cc)
	if err != nil {
		return errors.Join(err, stop(ctx, cc))
	}
	res.add("cold/initdb", initdb)
	return stop(ctx, cc)
}
