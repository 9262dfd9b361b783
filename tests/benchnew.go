package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// newProjectRounds is how many rounds the newproject phase runs: the
// difference it measures (a few tenths of a second) is smaller than the
// spread of three starts on a shared engine.
const newProjectRounds = 5

// benchNewProject times, in one session and interleaved (in a random order
// within each round), newProjectRounds of each: Start of a new project on
// the default image (its cluster a copy of the image's template), a warm
// Start of a known project on the default image, and a warm Start of a
// known project on postgres:16-alpine. Each project's constructor is
// called before its Start is timed, for all three alike; one new project
// first builds the template, untimed. It also records, as new/cluster, how
// long the new project's launcher took to make its cluster, as its log
// says.
func benchNewProject(ctx context.Context, run string, res *benchResult) error {
	known := benchStack("bench")
	alpine := dag.Commandcenter(alpineOpts("bench-alpine"))
	first := benchStack(newProjectName(run, 0))
	for _, cc := range []*dagger.Commandcenter{known, alpine, first} {
		if err := errors.Join(startAll(ctx, cc), stop(ctx, cc)); err != nil {
			return err
		}
	}
	if err := reset(ctx, first); err != nil {
		return err
	}
	for i := range newProjectRounds {
		fresh := benchStack(newProjectName(run, i+1))
		for name, cc := range map[string]*dagger.Commandcenter{"new/start": fresh, "new/warm-start": known, "new/warm-start-alpine": alpine} {
			if err := timedStart(ctx, name, cc, res); err != nil {
				return err
			}
		}
		made, err := initdbTime(ctx, fresh)
		if err != nil {
			return err
		}
		res.add("new/cluster", made)
		if err := reset(ctx, fresh); err != nil {
			return err
		}
	}
	return nil
}

// alpineOpts is the fixture on postgres:16-alpine, which has no pgvector.
func alpineOpts(project string) dagger.CommandcenterOpts {
	o := withPasswords(fixture(project))
	o.PostgresImage = postgresImage
	o.PostgresExtensions = []string{""}
	return o
}

func newProjectName(run string, i int) string {
	return fmt.Sprintf("bench-new-%s-%d", strings.ToLower(run), i)
}

// timedStart calls cc's constructor, then times its Start as sample name, then stops it.
func timedStart(ctx context.Context, name string, cc *dagger.Commandcenter, res *benchResult) error {
	if _, err := cc.Project(ctx); err != nil {
		return err
	}
	took, err := timed(func() error { return startAll(ctx, cc) })
	if err != nil {
		return errors.Join(fmt.Errorf("%s: %w", name, err), stop(ctx, cc))
	}
	res.add(name, took)
	return stop(ctx, cc)
}
