package main

import (
	"context"
	"errors"
	"fmt"
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
// included.
//
// +cache="never"
func (m *Commandcenter) Health(ctx context.Context) (string, error) {
	probes := make([]stack.Probe, len(stack.Services))
	var wg sync.WaitGroup
	for i, s := range stack.Services {
		wg.Go(func() { probes[i] = m.probe(ctx, s) })
	}
	wg.Wait()
	return stack.HealthTable(probes), nil
}

func (m *Commandcenter) probe(ctx context.Context, s stack.Service) stack.Probe {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	out, err := m.prober(s).
		WithEnvVariable("COMMANDCENTER_PROBE_AT", start.Format(time.RFC3339Nano)).
		WithExec([]string{stack.Script("probe"), string(s), "sh", "-c", m.probeScript(s)}).
		Stdout(ctx)
	return stack.Probe{
		Service: s,
		Healthy: err == nil,
		Latency: time.Since(start),
		Message: probeMessage(ctx, out, err),
	}
}

// prober is a client of service s: the service's own image and user, its
// run volume, and the secret a client needs ($PASSWORD_FILE for postgres,
// $REDIS_PASSWORD_FILE for redis). Probes, backups and restores run in it.
func (m *Commandcenter) prober(s stack.Service) *dagger.Container {
	user := m.user(s)
	c := m.reader(s).With(withScripts("lock", "probe"))
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
		return m.PostgresImage
	case stack.Redis:
		return m.RedisImage
	case stack.Backend:
		return m.PythonImage
	case stack.Frontend:
		if m.config().Static() {
			return m.ProxyImage
		}
		return m.NodeImage
	default:
		return m.ProxyImage
	}
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

// probeMessage is a probe's one-line verdict: its output, or why it failed.
func probeMessage(ctx context.Context, out string, err error) string {
	if err == nil {
		return stack.Summary(out)
	}
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
