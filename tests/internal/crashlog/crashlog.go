// Package crashlog reads a service's log, as the module's Logs returns it,
// for the proof that a kill happened: a new instance started, it recovered
// (PostgreSQL's WAL redo, Redis's append-only file), and the killed
// instance's server never shut down gracefully.
package crashlog

import (
	"fmt"
	"strings"
)

// Crash is what a service's log shows around a kill: lines the new
// instance logs while it recovers, and lines of a graceful shutdown, which
// the killed instance's server must not have logged once Ready (its last
// ready line: an instance's start may run temporary servers before, such
// as initdb's, that shut down gracefully).
type Crash struct {
	Recovered []string
	Ready     string
	Graceful  []string
}

var (
	// Postgres: the next start replays the WAL of the killed server.
	Postgres = Crash{
		Recovered: []string{"database system was not properly shut down", "redo done"},
		Ready:     "database system is ready to accept connections",
		Graceful:  []string{"shutdown request", "database system is shut down", "stopped from another session"},
	}
	// Redis: the next start loads the append-only file.
	Redis = Crash{
		Recovered: []string{"DB loaded from append only file"},
		Ready:     "Ready to accept connections",
		Graceful:  []string{"Received SIGTERM", "ready to exit", "stopped from another session"},
	}
)

// Check reads service s's log: the last instance's part must hold every
// recovery line, the part before it (the killed instance) no graceful one
// after its server's last ready line.
func (c Crash) Check(s, logs string) error {
	started, err := LastStart(logs, s)
	if err != nil {
		return fmt.Errorf("after the kill: %w", err)
	}
	killed, err := LastStart(strings.TrimSuffix(logs, started), s)
	if err != nil {
		return fmt.Errorf("the killed instance: %w", err)
	}
	at := strings.LastIndex(killed, c.Ready)
	if at < 0 {
		return fmt.Errorf("%s logs of the killed instance: wanted %q, got:\n%s", s, c.Ready, killed)
	}
	killed = killed[at:]
	for _, want := range c.Recovered {
		if !strings.Contains(started, want) {
			return fmt.Errorf("%s logs after the kill: wanted %q from the new instance, got:\n%s", s, want, started)
		}
	}
	for _, unwanted := range c.Graceful {
		if strings.Contains(killed, unwanted) {
			return fmt.Errorf("%s logs of the killed instance: wanted no graceful shutdown, got %q in:\n%s", s, unwanted, killed)
		}
	}
	return nil
}

// LastStart returns the part of service s's log that its last start wrote.
func LastStart(logs, s string) (string, error) {
	start := "[commandcenter] " + s + " starting as"
	at := strings.LastIndex(logs, start)
	if at < 0 {
		return "", fmt.Errorf("%s logs: wanted %q, got:\n%s", s, start, logs)
	}
	return logs[at:], nil
}
