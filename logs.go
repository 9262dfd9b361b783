package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// maxTail bounds how many lines Logs returns.
const maxTail = 10000

// The last lines a service printed, stdout and stderr, across its restarts in this project.
//
// Every service writes its output to a log on a per-project volume as well
// as to the engine, and this reads that log back, so it works in another
// engine session too. Each start begins with a line such as
// "[commandcenter] postgres starting as uid=70(postgres) ...". It fails, rather than
// return nothing, when the service has never printed anything.
//
// +cache="never"
func (m *Commandcenter) Logs(
	ctx context.Context,
	// postgres, redis, backend, frontend, proxy or a worker's name.
	service string,
	// How many lines to return, from the end (1-10000).
	// +default=100
	tail int,
) (string, error) {
	m, err := m.withRunning(ctx)
	if err != nil {
		return "", err
	}
	s, err := stack.Parse(service, m.config().Logged())
	if err != nil {
		return "", err
	}
	if tail < 1 || tail > maxTail {
		return "", fmt.Errorf("--tail %d is out of range: want 1-%d", tail, maxTail)
	}
	return m.readLog(ctx, s, tail)
}

// readLog returns the last n lines of service s's log.
func (m *Commandcenter) readLog(ctx context.Context, s stack.Service, n int) (string, error) {
	log := stack.LogDir + "/" + string(s) + ".log"
	out, err := m.reader(s).
		WithEnvVariable("COMMANDCENTER_READ_AT", now()).
		WithExec([]string{"sh", "-c", `[ -s "$1" ] || exit 3; tail -n "$2" "$1"`, "sh", log, strconv.Itoa(n)}).
		Stdout(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) && execErr.ExitCode == 3 {
		return "", fmt.Errorf("no logs of %s in project %q yet: start it first", s, m.Project)
	}
	if err != nil {
		return "", fmt.Errorf("read %s logs: %w", s, err)
	}
	return out, nil
}

// reader is a container of service s's image, as its user, with its run
// volume: where the module reads what a service left there (its log, its
// lock and record), in any session, without starting it.
func (m *Commandcenter) reader(s stack.Service) *dagger.Container {
	return dag.Container().
		From(m.image(s)).
		WithUser(m.user(s)).
		With(m.withRunVolume(s)).
		WithEnvVariable("COMMANDCENTER_LOG_DIR", stack.LogDir)
}
