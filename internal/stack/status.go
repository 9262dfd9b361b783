package stack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// States of a service, as Status reports them.
const (
	// StateRunning: its supervisor holds the lock and runs the server.
	StateRunning = "running"
	// StateRestarting: the server is being restarted in place.
	StateRestarting = "restarting"
	// StateStopping: it got its stop signal or a stop request.
	StateStopping = "stopping"
	// StateStopped: no instance runs; it ran before in this project.
	StateStopped = "stopped"
	// StateNeverStarted: no instance ever ran in this project on this engine.
	StateNeverStarted = "never-started"
)

// ServiceStatus is one service's entry in Status's JSON.
type ServiceStatus struct {
	Service Service `json:"service"`
	// State is one of the State* constants.
	State string `json:"state"`
	// Healthy: its probe succeeded (a query answered, a GET served), now.
	Healthy bool `json:"healthy"`
	// Since is when the state began: the server's last start for running.
	Since string `json:"since,omitempty"`
	// Started is when the instance (its supervisor) started.
	Started string `json:"started,omitempty"`
	// Instance identifies the running instance; it changes on each start
	// and stays the same across restarts in place.
	Instance string `json:"instance,omitempty"`
	// Restarts counts the restarts in place of this instance.
	Restarts int `json:"restarts"`
	// LatencyMS is the probe's round trip, its container's start included.
	LatencyMS int64 `json:"latency_ms"`
	// Message is the probe's one-line verdict.
	Message string `json:"message"`
	// LastError is the probe's failure now, or else the last time the
	// server exited with a failure, or empty.
	LastError string `json:"last_error,omitempty"`
	// Initialized is when postgres last made a new, empty database (initdb)
	// in this project on this engine.
	Initialized string `json:"initialized,omitempty"`
	// NewDatabase: the running postgres instance made its database itself,
	// empty: a first start, or a start after the engine lost the project's data.
	NewDatabase bool `json:"new_database,omitempty"`
}

// Protection says where the project's data is kept, and what deletes it.
type Protection struct {
	// Store is where a durable copy is kept: "none" without one.
	Store string `json:"store"`
	// Durable: the data outlives the loss of the engine's cache.
	Durable bool `json:"durable"`
	// Warning says what can delete the data, for people.
	Warning string `json:"warning"`
}

// EngineCacheOnly is the protection of a project without a durable store:
// its volumes are the engine's cache volumes.
var EngineCacheOnly = Protection{
	Store: "none",
	Warning: "no durable store: the project's data lives only in this Dagger engine's cache volumes, " +
		"which an engine crash, a Dagger upgrade (the CLI replaces the engine container and its state " +
		"volume), a cache prune and the engine's garbage collection delete without warning. Keep " +
		"backups: dagger call backup export --path db.dump",
}

// NewDatabaseWarning is what a start says when postgres made a new, empty
// database for project at the given time.
func NewDatabaseWarning(project, at string) string {
	return fmt.Sprintf("project %q: PostgreSQL started with a new, empty database (initdb at %s). If this project had "+
		"data on this engine before, the engine has lost it: restore a backup with "+
		"`dagger call --project %s restore --dump FILE`. There is %s", project, at, project, EngineCacheOnly.Warning)
}

// Report is what Status returns, as JSON.
type Report struct {
	Project    string          `json:"project"`
	CheckedAt  string          `json:"checked_at"`
	Protection Protection      `json:"protection"`
	Services   []ServiceStatus `json:"services"`
}

// JSON renders the report, indented.
func (r Report) JSON() string {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(err) // only strings, bools and numbers
	}
	return string(b) + "\n"
}

// ParseStatus reads what commandcenter-status printed for service s: KEY=VALUE
// lines of its lock (running), its record (record_*), its last failed exit
// (exit_*) and its probe (healthy, message).
func ParseStatus(s Service, out string, latency time.Duration) ServiceStatus {
	f := keyValues(out)
	st := ServiceStatus{
		Service: s, Healthy: f["healthy"] == "true", Message: f["message"],
		Started: f["record_started"], Instance: f["record_instance"],
		LatencyMS: latency.Milliseconds(), Initialized: f["initdb_at"],
	}
	st.Restarts, _ = strconv.Atoi(f["record_restarts"])
	switch {
	case f["running"] != "true" && f["record_started"] == "":
		st.State, st.Instance = StateNeverStarted, ""
	case f["running"] != "true":
		st.State, st.Since, st.Instance = StateStopped, f["record_since"], ""
	case f["record_state"] == StateRestarting || f["record_state"] == StateStopping:
		st.State, st.Since = f["record_state"], f["record_since"]
	default:
		st.State, st.Since = StateRunning, f["record_since"]
	}
	st.NewDatabase = st.Instance != "" && f["initdb_instance"] == st.Instance
	if st.Message == "" {
		st.Message = describeState(st)
	}
	switch {
	case !st.Healthy && st.State != StateNeverStarted && st.State != StateStopped:
		st.LastError = st.Message
	case f["exit_status"] != "":
		st.LastError = fmt.Sprintf("exited with status %s at %s", f["exit_status"], f["exit_at"])
	}
	return st
}

func describeState(st ServiceStatus) string {
	switch st.State {
	case StateNeverStarted:
		return "not running (never started in this project)"
	case StateStopped:
		return "not running (last started " + st.Started + ")"
	}
	return st.State + " since " + st.Since
}
