package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"dagger/tests/internal/dagger"
)

// The capacity phase of the benchmark: N projects launched at once in one
// session, each through its stack service, as `dagger call stack up` does.

const (
	// allHealthyLine tells bench/ that every project is healthy or has
	// failed: it samples the engine's memory while they keep running.
	allHealthyLine = "commandcenter-bench: all healthy"
	// capacityHold is how long the projects keep running after allHealthyLine.
	capacityHold = 8 * time.Second
	// maxCapacityProjects bounds --projects, against a typo that would
	// launch hundreds of stacks.
	maxCapacityProjects = 32
)

var projectLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func capacityMode(fresh bool) string {
	if fresh {
		return "fresh"
	}
	return "warm"
}

// capacityNames names the n projects of a capacity run. A fresh name holds
// the run and n, so that neither an earlier run nor another n of this run
// used its volumes; a warm name is the same in every run.
func capacityNames(run string, n int, fresh bool) ([]string, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cap-warm-%d", i)
		if fresh {
			names[i] = fmt.Sprintf("cap-%s-%d-%d", strings.ToLower(run), n, i)
		}
		if !projectLabel.MatchString(names[i]) {
			return nil, fmt.Errorf("project %q is not a DNS label: use a shorter --run of letters, digits and '-'", names[i])
		}
	}
	return names, nil
}

// benchCapacity launches n projects at the same moment and records the time
// until all are healthy, each project's time to healthy, and the failures,
// which do not stop the others. It then holds them running, so that bench/
// can read the engine's memory, stops them, and resets the fresh ones, so
// that their volumes do not fill the disk.
func benchCapacity(ctx context.Context, run string, n int, fresh bool, res *benchResult) error {
	if n < 1 || n > maxCapacityProjects {
		return fmt.Errorf("--projects %d: want 1 to %d", n, maxCapacityProjects)
	}
	names, err := capacityNames(run, n, fresh)
	if err != nil {
		return err
	}
	stacks := make([]*dagger.Commandcenter, n)
	for i, name := range names {
		stacks[i] = benchStack(name)
	}
	all, took, errs := launchAll(ctx, stacks, names)
	recordCapacity(res, fmt.Sprintf("capacity/%s/%d", capacityMode(fresh), n), all, took, errs)

	fmt.Fprintln(os.Stderr, allHealthyLine)
	if err := holdRunning(ctx, capacityHold); err != nil {
		return err
	}
	for _, err := range teardownCapacity(ctx, stacks, names, fresh) {
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
	}
	return nil
}

// launchAll starts every project's stack at once and waits until each is
// healthy or has failed. It returns the time until all were done, and per
// project its time from the launch and why it failed (nil when healthy).
func launchAll(ctx context.Context, stacks []*dagger.Commandcenter, names []string) (time.Duration, []time.Duration, []error) {
	took := make([]time.Duration, len(stacks))
	errs := make([]error, len(stacks))
	var wg sync.WaitGroup
	begin := time.Now()
	for i, cc := range stacks {
		wg.Go(func() {
			errs[i] = healthyStack(ctx, cc, names[i])
			took[i] = time.Since(begin)
		})
	}
	wg.Wait()
	return time.Since(begin), took, errs
}

// recordCapacity adds a capacity run's samples under prefix: all-healthy,
// project (one per healthy project) and failures (a count), and the
// failures' errors.
func recordCapacity(res *benchResult, prefix string, all time.Duration, took []time.Duration, errs []error) {
	res.add(prefix+"/all-healthy", all)
	failures := 0
	for i, err := range errs {
		if err != nil {
			failures++
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		res.add(prefix+"/project", took[i])
	}
	res.Samples[prefix+"/failures"] = []float64{float64(failures)}
}

// holdRunning waits d, or until ctx ends.
func holdRunning(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// teardownCapacity stops every project, all at once, and resets the fresh
// ones. It returns one error per project (nil when done): the measurement
// stands whatever it says.
func teardownCapacity(ctx context.Context, stacks []*dagger.Commandcenter, names []string, fresh bool) []error {
	errs := make([]error, len(stacks))
	var wg sync.WaitGroup
	for i, cc := range stacks {
		wg.Go(func() {
			if err := retire(ctx, cc, fresh); err != nil {
				errs[i] = fmt.Errorf("%s: teardown: %w", names[i], err)
			}
		})
	}
	wg.Wait()
	return errs
}

// retire stops a project and, when fresh, empties its volumes.
func retire(ctx context.Context, cc *dagger.Commandcenter, fresh bool) error {
	if err := stop(ctx, cc); err != nil || !fresh {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true}).Project(ctx); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return nil
}
