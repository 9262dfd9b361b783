package stack

import (
	"fmt"
	"strings"
	"time"
)

// Exit codes of the launch scripts that no retry can change.
const (
	// ExitAlreadyRunning: another instance of the project's service holds
	// its lock (see internal/scripts/lock.sh).
	ExitAlreadyRunning = 75
	// ExitMajorMismatch: the project's database is a cluster of another
	// PostgreSQL major than the image's (see internal/scripts/postgres.sh).
	ExitMajorMismatch = 76
	// ExitConfig: the app's configuration cannot work: a migration failed, a
	// dotenv file does not parse, the image lacks a lockfile's tool, a
	// worker's process exited by itself at its start.
	ExitConfig = 78
	// ExitNotRunning: a probe found no running instance of the service.
	ExitNotRunning = 3
)

// Permanent says whether a launch script's exit code means that starting
// the service again cannot succeed: a held lock, a major mismatch, a
// configuration that cannot work, or a command that cannot be run at all
// (126, 127).
func Permanent(exitCode int) bool {
	switch exitCode {
	case ExitAlreadyRunning, ExitMajorMismatch, ExitConfig, ExitStoreRefused, 126, 127:
		return true
	}
	return false
}

// StartPeriod is how long a service may take to pass its first health
// check. It is sized for an honest slow start on a loaded engine: initdb
// with several projects starting at once, a large app's first imports. The
// check still runs every 100 ms, so a fast start is seen as fast; a start
// that takes longer is a hang, and is not retried.
func StartPeriod(s Service) time.Duration {
	if s == Postgres {
		return 5 * time.Minute
	}
	return 3 * time.Minute
}

// StoreStartPeriod is postgres's start period with a store: an empty data
// volume is first restored from the store, which for a large database
// takes as long as its download and the replay of its WAL.
const StoreStartPeriod = time.Hour

// StartPeriod is StartPeriod(s), or StoreStartPeriod for postgres with a
// store.
func (c Config) StartPeriod(s Service) time.Duration {
	if s == Postgres && c.Store.Enabled() {
		return StoreStartPeriod
	}
	return StartPeriod(s)
}

// ConfirmReset checks that a reset of project was confirmed, with yes or
// with the project's name repeated.
func ConfirmReset(project string, yes bool, confirm string) error {
	if yes || confirm == project {
		return nil
	}
	if confirm != "" {
		return fmt.Errorf("--confirm %q is not the project's name %q: nothing was deleted", confirm, project)
	}
	return fmt.Errorf("reset deletes project %q's database, Redis data, generated secrets, backend state and logs: confirm with --yes or --confirm %s; nothing was deleted", project, project)
}

// StopGrace is how long a service has to exit after its stop signal before
// its supervisor, or the engine, kills it.
const StopGrace = 10 * time.Second

// StopSignal is the signal that stops service s gracefully, which its
// supervisor sends whatever signal the engine sends (Dagger v0.21 ignores
// an image's STOPSIGNAL and sends SIGTERM): SIGINT is PostgreSQL's fast
// shutdown, which ends the clients' sessions and writes a checkpoint (its
// SIGTERM would wait for every client to leave); SIGQUIT is nginx's
// graceful stop (its SIGTERM drops open connections). Redis saves and
// flushes its append-only file on SIGTERM; uvicorn and Vite stop on it.
func (c Config) StopSignal(s Service) string {
	switch {
	case s == Postgres:
		return "INT"
	case s == Proxy, s == Frontend && c.Static():
		return "QUIT"
	}
	return "TERM"
}

// StopTimeout bounds a stop requested from another session: postgres's
// last WAL archived (with a store), the grace, then the kill and the
// release of the lock.
const StopTimeout = StoreFlushTimeout + StoreStopGrace + 20*time.Second

// StopGrace is how long service s has to exit after its stop signal:
// postgres with a store archives its last WAL first.
func (c Config) StopGrace(s Service) time.Duration {
	if s == Postgres && c.Store.Enabled() {
		return StoreStopGrace
	}
	return StopGrace
}

// RestartTimeout bounds a restart in place of service s: its stop, then a
// start within its start period.
func RestartTimeout(s Service) time.Duration {
	return StopTimeout + StartPeriod(s)
}

// ResetReport says what a reset of project deleted.
func ResetReport(project string, store Store, localOnly bool) string {
	switch {
	case !store.Enabled():
		return fmt.Sprintf("project %q: this engine's copy of its data is deleted (there was no store); the next start begins with a new, empty database", project)
	case localOnly:
		return fmt.Sprintf("project %q: this engine's copy of its data is dropped; the store %s keeps its copy, from which the next start restores", project, store.URL)
	}
	return fmt.Sprintf("project %q: its data is deleted, in this engine and in the store %s; the next start begins with a new, empty database", project, store.URL)
}

// Stopped reads what each of the logged services said when asked whether
// it runs (states[i] for logged[i]: "running since …", or, for postgres,
// the major version of its recorded cluster, or ""). It fails, naming what
// runs, unless every service is stopped, and returns postgres's cluster.
func Stopped(project string, logged []Service, states []string) (cluster string, err error) {
	var running []string
	for i, s := range logged {
		if strings.HasPrefix(states[i], "running") {
			running = append(running, fmt.Sprintf("%s (%s)", s, states[i]))
		}
		if s == Postgres && !strings.HasPrefix(states[i], "running") {
			cluster = states[i]
		}
	}
	if len(running) > 0 {
		return "", fmt.Errorf("project %q is running: %s; stop it first, from any terminal: dagger call --project %s stop; nothing was deleted",
			project, strings.Join(running, ", "), project)
	}
	return cluster, nil
}
