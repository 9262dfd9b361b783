package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// probeTimeout bounds each probe, its container's start included, so that
// a stuck service or engine cannot hang the report. Within it, each probe
// waits at most 5 s for its service (see probeScripts); the rest is room for
// a busy engine to start the probe's container.
const probeTimeout = 60 * time.Second

// Probe each service of the project, wherever it runs, and report its status, latency and message, one line per service.
//
// postgres must answer SELECT 1 with the password, redis PING, the backend
// GET /health with a 2xx status and the frontend GET / with a status below
// 400. A probe finds the running instance through the lock and address it
// records on the project's volume, so it also reports a stack that another
// engine session runs, and it never starts a stopped service: that one is
// reported "not running". A probe waits at most 5 s for its service and
// 60 s in all; latency is the probe's round trip, its container's start
// included. A last line says where the project's data is kept, and what
// deletes it. For programs, Status gives the same and more as JSON.
//
// +cache="never"
func (m *Commandcenter) Health(ctx context.Context) (string, error) {
	m, err := m.withRunning(ctx)
	if err != nil {
		return "", err
	}
	services := m.statuses(ctx, m.config().Services())
	return stack.HealthTable(services, stack.ProtectionOf(m.Settings.Store, services)), nil
}

// The state of each service of the project and of the stack proxy, wherever it runs, as JSON for programs such as the CommandCenter hub.
//
// Each entry has: service; state (running, restarting, stopping, stopped
// or never-started); healthy (its probe, as in Health, passed now); since
// (when that state began: the server's last start when running); started
// and instance (the running instance, which a restart in place keeps);
// restarts (in place); latency_ms; message (the probe's verdict); and
// last_error (the probe's failure now, or the last time the server exited
// with a failure); postgres's initialized (its last initdb) and
// new_database (the running instance made its database, empty), and
// restored (its last restore from the store). protection says where the
// data is kept. Without --store: store "none" and durable false, with what
// deletes it. With one: the store, durable (a base backup is in it, the WAL
// is archived and the lease held), last_archived_wal and last_archived_at,
// archive_failing_since, archive_failures and archive_error,
// only_in_engine (the WAL that is in this engine and not yet in the store:
// segments the store has not acknowledged, the writes since the last
// archived segment, or what a killed server left), last_backup,
// last_backup_at and backup_error, lease and lease_error, and what becomes
// of redis; a warning when something is not durable (a stopped or killed
// postgres whose WAL the store lacks is not). For example:
//
//	{"project": "shop", "checked_at": "2026-12-01T10:00:00Z",
//	 "protection": {"store": "none", "durable": false, "warning": "..."}, "services": [
//	  {"service": "postgres", "state": "running", "healthy": true,
//	   "since": "2026-12-01T09:58:12Z", "started": "2026-12-01T09:58:12Z",
//	   "instance": "5f0c9e2a7d1b3c44", "restarts": 0, "latency_ms": 412,
//	   "message": "SELECT 1 answered"}, ...]}
//
// It reads only, in any session, but for one thing: with --store, when
// postgres does not run and this engine holds WAL that the store lacks
// (what a killed session left), it first pushes that WAL to the store, as
// reset --local-only does, says so on stderr, then reports.
//
// +cache="never"
func (m *Commandcenter) Status(ctx context.Context) (string, error) {
	m, err := m.withRunning(ctx)
	if err != nil {
		return "", err
	}
	services := m.statuses(ctx, m.config().Logged())
	if stack.Stranded(m.Settings.Store, services) {
		services = m.pushStranded(ctx)
	}
	return stack.Report{
		Project:    m.Project,
		CheckedAt:  time.Now().UTC().Format(time.RFC3339),
		Protection: stack.ProtectionOf(m.Settings.Store, services),
		Services:   services,
	}.JSON(), nil
}

// pushStranded pushes to the store the WAL that a killed postgres left in
// this engine (commandcenter-pg-catchup), so that losing the engine's cache
// later loses none of it, says on stderr whether it did, and reads the
// statuses again.
func (m *Commandcenter) pushStranded(ctx context.Context) []stack.ServiceStatus {
	err := m.catchUpStore(ctx)
	services := m.statuses(ctx, m.config().Logged())
	stranded := "postgres does not run and this engine holds WAL that the store lacks"
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "project %q: %s; pushing it failed: %v\n", m.Project, stranded, withStderr(err))
	case stack.Stranded(m.Settings.Store, services):
		fmt.Fprintf(os.Stderr, "project %q: %s, which was not pushed (see protection)\n", m.Project, stranded)
	case !stack.RecordsRead(services):
		fmt.Fprintf(os.Stderr, "project %q: %s; the push ended without an error, but postgres's state could not be read again to confirm it\n", m.Project, stranded)
	default:
		fmt.Fprintf(os.Stderr, "project %q: pushed to the store %s the WAL that a killed postgres left in this engine\n", m.Project, m.Settings.Store.URL)
	}
	return services
}

// statuses reads the state of the given services and probes those that
// run, all at once.
func (m *Commandcenter) statuses(ctx context.Context, services []stack.Service) []stack.ServiceStatus {
	out := make([]stack.ServiceStatus, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() { out[i] = m.status(ctx, s) })
	}
	wg.Wait()
	return out
}

func (m *Commandcenter) status(ctx context.Context, s stack.Service) stack.ServiceStatus {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	c, err := m.withWALRead(ctx, s, m.prober(s))
	if err != nil {
		msg := probeMessage(ctx, err)
		return stack.ServiceStatus{Service: s, State: "unknown", LatencyMS: time.Since(start).Milliseconds(),
			Message: msg, LastError: msg}
	}
	out, err := c.
		WithEnvVariable("COMMANDCENTER_PROBE_AT", start.Format(time.RFC3339Nano)).
		WithExec([]string{stack.Script("status"), string(s), "sh", "-c", m.probeScript(s)}).
		Stdout(ctx)
	if err != nil {
		msg := probeMessage(ctx, err)
		return stack.ServiceStatus{Service: s, State: "unknown", LatencyMS: time.Since(start).Milliseconds(),
			Message: msg, LastError: msg}
	}
	return stack.ParseStatus(s, out, time.Since(start))
}

// withWALRead gives postgres's status container, with a store, its data
// volume, so that commandcenter-status reports the WAL only in this engine
// (see stack.OnlyInEngine). It reads only. Other services are left as
// they are.
func (m *Commandcenter) withWALRead(ctx context.Context, s stack.Service, c *dagger.Container) (*dagger.Container, error) {
	if s != stack.Postgres || !m.Settings.Store.Enabled() {
		return c, nil
	}
	major, err := m.postgresMajor(ctx)
	if err != nil {
		return nil, err
	}
	return c.With(m.withPGData(major)).
		WithEnvVariable("PGDATA", stack.PGData).
		WithEnvVariable("COMMANDCENTER_WAL_SPOOL", stack.WALSpoolOut(m.Project)), nil
}

// prober is a client of service s: the service's own image and user, its
// run volume, and the secret a client needs ($PASSWORD_FILE for postgres,
// $REDIS_PASSWORD_FILE for redis). Probes, backups and restores run in it.
func (m *Commandcenter) prober(s stack.Service) *dagger.Container {
	user := m.user(s)
	c := m.reader(s).With(withScripts("lock", "probe", "status", "request"))
	switch s {
	case stack.Postgres:
		return c.With(m.withDBPassword(user, user)).
			WithEnvVariable("PASSWORD_FILE", m.secretFiles().DBPassword).
			WithEnvVariable("PGCONNECT_TIMEOUT", "5")
	case stack.Redis:
		return c.With(m.withRedisPassword(user, user)).
			WithEnvVariable("REDIS_PASSWORD_FILE", m.secretFiles().RedisPassword)
	}
	return c
}

// image is the image service s runs in.
func (m *Commandcenter) image(s stack.Service) string {
	switch s {
	case stack.Postgres:
		return m.Settings.Images.Postgres
	case stack.Redis:
		return m.Settings.Images.Redis
	case stack.Frontend:
		if m.config().Static() {
			return m.Settings.Images.Proxy
		}
		return m.Settings.Images.Node
	case stack.Proxy:
		return m.Settings.Images.Proxy
	}
	// The backend and its workers.
	return m.Settings.Images.Python
}

// user is who service s runs as.
func (m *Commandcenter) user(s stack.Service) string {
	return m.config().User(s)
}

// probeScript prints one line on success and fails with the reason
// otherwise. It reads the service's address from $HOST, and secrets from
// files.
func (m *Commandcenter) probeScript(s stack.Service) string {
	cfg := m.config()
	path := cfg.HealthPath(s)
	switch {
	case s == stack.Proxy:
		return `echo "nginx runs"`
	case stack.IsWorker(s):
		return stack.WorkerProbe(s)
	case s == stack.Postgres:
		return `PGPASSWORD=$(cat "$PASSWORD_FILE") && export PGPASSWORD &&
out=$(psql -h "$HOST" -p 5432 -U ` + stack.DBUser + ` -d ` + stack.DBName + ` -tAc 'SELECT 1' 2>&1) || { echo "$out" >&2; exit 1; }
[ "$out" = 1 ] || { echo "SELECT 1 returned $out" >&2; exit 1; }
echo "SELECT 1 answered"`
	case s == stack.Redis:
		return `REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE") && export REDISCLI_AUTH &&
out=$(timeout 5 redis-cli -h "$HOST" -p 6379 ping 2>&1) || { echo "$out" >&2; exit 1; }
[ "$out" = PONG ] || { echo "PING returned $out" >&2; exit 1; }
echo "PING answered PONG"`
	case s == stack.Backend:
		return `exec python3 -c '
import os, sys, urllib.request
try:
    r = urllib.request.urlopen("http://%s:8000` + path + `" % os.environ["HOST"], timeout=5)
except Exception as e:
    sys.exit("GET ` + path + `: %s" % e)
print("GET ` + path + ` answered %d" % r.status)'`
	case cfg.Static():
		return `out=$(wget -q -T 5 -O /dev/null "http://$HOST:3000` + path + `" 2>&1) || { echo "GET ` + path + `: ${out:-no answer}" >&2; exit 1; }
echo "GET ` + path + ` answered 2xx"`
	}
	return `exec node -e '
const req = require("http").get("http://" + process.env.HOST + ":3000` + path + `", r => {
  const ok = r.statusCode < 400;
  (ok ? console.log : console.error)("GET ` + path + ` answered " + r.statusCode + (ok ? "" : ", a status of 400 or more"));
  process.exit(ok ? 0 : 1)
});
req.setTimeout(5000, () => req.destroy(new Error("no answer within 5s")));
req.on("error", e => { console.error("GET ` + path + `: " + e.message); process.exit(1) })'`
}

// probeMessage says why a status could not be read at all.
func probeMessage(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("no answer within %s", probeTimeout)
	}
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) {
		if msg := stack.Summary(execErr.Stderr + "\n" + execErr.Stdout); msg != "" {
			return msg
		}
	}
	return stack.Summary(err.Error())
}
