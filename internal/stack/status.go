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
	// Restored is postgres's last restore from the store on this engine.
	Restored *Restored `json:"restored,omitempty"`
	// Records is what postgres's scripts noted of the store, for
	// ProtectionOf; Protection reports it.
	Records map[string]string `json:"-"`
}

// Restored is a restore from the store.
type Restored struct {
	// At is when it ran; Backup and BackupAt name the base backup it
	// started from; Target is "latest" or the point in time asked for;
	// Until is the time of the last transaction replayed.
	At       string `json:"at"`
	Backup   string `json:"backup"`
	BackupAt string `json:"backup_at"`
	Target   string `json:"target"`
	Until    string `json:"until,omitempty"`
	TookMS   int64  `json:"took_ms"`
	// ThisInstance: the running instance made it, at its start.
	ThisInstance bool `json:"this_instance"`
}

// Describe says what a start restored, for people.
func (r Restored) Describe(project, store string) string {
	last := ""
	if r.Until != "" && r.Until != "none" {
		last = "; its last transaction is of " + r.Until
	}
	return fmt.Sprintf("project %q: PostgreSQL was restored from the store %s: base backup %s (taken %s), then the archived WAL to %s%s. The generated credentials came back with it.",
		project, store, r.Backup, r.BackupAt, r.Target, last)
}

// Protection says where the project's data is kept, and what deletes it.
type Protection struct {
	// Store is where a durable copy is kept: "none" without one.
	Store string `json:"store"`
	// Durable: the data outlives the loss of the engine's cache: the store
	// has a base backup of it and its WAL is being archived.
	Durable bool `json:"durable"`
	// Warning says what can delete the data, for people; empty when
	// everything is in the store.
	Warning string `json:"warning,omitempty"`
	// With a store: the last WAL segment archived and when; while
	// archiving fails, since when, how many attempts, and the last error.
	LastArchivedWAL     string `json:"last_archived_wal,omitempty"`
	LastArchivedAt      string `json:"last_archived_at,omitempty"`
	ArchiveFailingSince string `json:"archive_failing_since,omitempty"`
	ArchiveFailures     int    `json:"archive_failures,omitempty"`
	ArchiveError        string `json:"archive_error,omitempty"`
	// The last base backup in the store, and the last failed one.
	LastBackup    string `json:"last_backup,omitempty"`
	LastBackupAt  string `json:"last_backup_at,omitempty"`
	BackupError   string `json:"backup_error,omitempty"`
	BackupErrorAt string `json:"backup_error_at,omitempty"`
	// OnlyInEngine says which WAL is in this engine and not yet in the
	// store (see OnlyInEngine).
	OnlyInEngine string `json:"only_in_engine,omitempty"`
	// Lease is this engine's hold on the store: held, fenced (it could not
	// renew the lease in time, and writes nothing to the store until it
	// does), released or lost.
	Lease      string `json:"lease,omitempty"`
	LeaseError string `json:"lease_error,omitempty"`
	// Redis says what becomes of Redis's data.
	Redis string `json:"redis,omitempty"`
}

// RedisNotInStore is what a store keeps of Redis: nothing (docs/ARCHITECTURE.md).
const RedisNotInStore = "not in the store: its append-only file on the engine keeps every write across stops and kills; " +
	"after the loss of the engine's cache, Redis starts empty (queued Celery tasks, results and cache entries are gone)"

// ProtectionOf is the protection of a project with store, from what
// postgres's status says of it, among the project's statuses.
func ProtectionOf(store Store, statuses []ServiceStatus) Protection {
	if !store.Enabled() {
		return EngineCacheOnly
	}
	f, running := postgresRecords(statuses)
	p := Protection{
		Store: store.URL, LastArchivedWAL: f["archive_wal"], LastArchivedAt: f["archive_at"],
		ArchiveFailingSince: f["archive_failing_since"], ArchiveError: f["archive_error"],
		LastBackup: f["backup_label"], LastBackupAt: f["backup_at"],
		BackupError: f["backup_error"], BackupErrorAt: f["backup_failed_at"],
		Lease: f["lease_state"], LeaseError: f["lease_error"], Redis: RedisNotInStore,
	}
	p.ArchiveFailures, _ = strconv.Atoi(f["archive_failures"])
	var stranded bool
	p.OnlyInEngine, stranded = OnlyInEngine(f, running)
	switch {
	case p.Lease == "lost":
		p.Warning = "this engine lost the store's lease to another copy, and stopped writing: " + p.LeaseError
	case p.ArchiveFailingSince != "":
		p.Warning = fmt.Sprintf("archiving to the store fails since %s (%d attempts; %s): writes since %s are only in this engine until the store is back, and archiving then catches up",
			p.ArchiveFailingSince, p.ArchiveFailures, p.ArchiveError, orUnknown(p.LastArchivedAt))
	case p.Lease == "fenced":
		p.Warning = "this engine could not renew the store's lease in time, and writes nothing to the store until it does (" + p.LeaseError +
			"): writes are only in this engine meanwhile, and archiving then catches up"
	case stranded:
		p.Warning = strandedWarning(p.OnlyInEngine)
	case p.LastBackup == "":
		p.Warning = "the store has no base backup of this database yet: until the first one is made, it cannot be restored from the store"
	default:
		p.Durable = true
	}
	return p
}

// postgresRecords is what postgres's status read of its records, and
// whether an instance holds its lock (its archiver works on).
func postgresRecords(statuses []ServiceStatus) (f map[string]string, running bool) {
	for _, st := range statuses {
		if st.Service == Postgres {
			return st.Records, st.State == StateRunning || st.State == StateRestarting || st.State == StateStopping
		}
	}
	return nil, false
}

// Stranded says whether, with a store, postgres does not run and this
// engine holds WAL that the store lacks (OnlyInEngine): what a killed
// session left. Status then pushes it, unless this engine lost the lease.
func Stranded(store Store, statuses []ServiceStatus) bool {
	if !store.Enabled() {
		return false
	}
	f, running := postgresRecords(statuses)
	_, stranded := OnlyInEngine(f, running)
	return stranded && f["lease_state"] != "lost"
}

// RecordsRead says whether postgres's status read its records.
func RecordsRead(statuses []ServiceStatus) bool {
	f, _ := postgresRecords(statuses)
	return f != nil
}

func orUnknown(s string) string {
	if s == "" {
		return "the start"
	}
	return s
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
func NewDatabaseWarning(project, at string, store Store) string {
	if store.Enabled() {
		return fmt.Sprintf("project %q: PostgreSQL started with a new, empty database (initdb at %s): the store %s held no copy of this project. "+
			"It is archived there from now on.", project, at, store.URL)
	}
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
	if f["restored_at"] != "" {
		st.Restored = &Restored{At: f["restored_at"], Backup: f["restored_backup"], BackupAt: f["restored_backup_at"],
			Target: f["restored_target"], Until: f["restored_until"],
			ThisInstance: st.Instance != "" && f["restored_instance"] == st.Instance}
		st.Restored.TookMS, _ = strconv.ParseInt(f["restored_took_ms"], 10, 64)
	}
	if f["archive_at"] != "" || f["backup_at"] != "" || f["lease_state"] != "" || f["archive_failing_since"] != "" || f["wal_cluster_state"] != "" {
		st.Records = f
	}
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
