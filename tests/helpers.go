package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// Client images; the same ones the module uses by default.
const (
	postgresImage = "postgres:16-alpine"
	redisImage    = "redis:7-alpine"
	pythonImage   = "python:3.12-slim"
	nodeImage     = "node:22-alpine"
)

// fixture is the module on the offline fixture app, for one project. Its
// commands run the stdlib backend and the dependency-free frontend; the
// defaults (uvicorn, Vite) are for real apps.
func fixture(project string) dagger.CommandcenterOpts {
	return dagger.CommandcenterOpts{
		Source:          dag.CurrentModule().Source().Directory("testdata/app"),
		Project:         project,
		BackendCommand:  []string{"python3", "-m", "app.main"},
		FrontendCommand: []string{"npm", "run", "dev"},
		RetryBaseDelay:  "200ms",
	}
}

// withPasswords gives a project fixed test secrets. They must stay the same
// across runs: the project's database keeps the password it was created with.
func withPasswords(o dagger.CommandcenterOpts) dagger.CommandcenterOpts {
	o.DbPassword = dbPassword(o.Project)
	o.RedisPassword = dag.SetSecret(o.Project+"-redis-password", "redis-pw-of-"+o.Project)
	o.SecretKey = dag.SetSecret(o.Project+"-secret-key", "secret-key-of-"+o.Project)
	return o
}

// givenSecrets are the values of withPasswords's secrets for project.
func givenSecrets(project string) []string {
	return []string{"db-pw-of-" + project, "redis-pw-of-" + project, "secret-key-of-" + project}
}

func dbPassword(project string) *dagger.Secret {
	return dag.SetSecret(project+"-db-password", "db-pw-of-"+project)
}

// sharedStack is the started shared project, which tests that only read
// use together; All stops it once every test is done.
func sharedStack(ctx context.Context) (*dagger.Commandcenter, error) {
	cc := dag.Commandcenter(withPasswords(fixture(shared)))
	if _, err := cc.Start().Project(ctx); err != nil {
		return nil, fmt.Errorf("start %s: %w", shared, err)
	}
	return cc, nil
}

// withStack runs body on a started project of its own, then stops the
// project, so that the session does not end with its services running.
func withStack(ctx context.Context, opts dagger.CommandcenterOpts, body func(*dagger.Commandcenter) error) error {
	cc := dag.Commandcenter(opts)
	if _, err := cc.Start().Project(ctx); err != nil {
		return errors.Join(fmt.Errorf("start %s: %w", opts.Project, err), stop(ctx, cc))
	}
	return errors.Join(body(cc), stop(ctx, cc))
}

// stop stops a project's services.
func stop(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Stop(ctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}

// nonce makes an exec's definition new, so the engine runs it again
// instead of answering from its cache.
func nonce() string {
	return strconv.FormatInt(time.Now().UnixNano(), 10)
}

// psql runs sql as the commandcenter role from a client bound to the project's postgres.
func psql(ctx context.Context, cc *dagger.Commandcenter, password *dagger.Secret, sql string) (string, error) {
	out, err := dag.Container().
		From(postgresImage).
		WithServiceBinding("db", cc.Postgres()).
		WithSecretVariable("PGPASSWORD", password).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"psql", "-h", "db", "-U", "commandcenter", "-d", "commandcenter",
			"-v", "ON_ERROR_STOP=1", "-tAc", sql}).
		Stdout(ctx)
	return strings.TrimSpace(out), explain(err)
}

// redisPing sends PING from a client bound to svc as "redis".
func redisPing(ctx context.Context, svc *dagger.Service, port int, password *dagger.Secret) (string, error) {
	return redisExec(ctx, svc, password, "redis-cli", "-h", "redis", "-p", strconv.Itoa(port), "ping")
}

// redisExec runs args in a redis client bound to svc as "redis", with the
// password in REDISCLI_AUTH when it is set.
func redisExec(ctx context.Context, svc *dagger.Service, password *dagger.Secret, args ...string) (string, error) {
	c := dag.Container().From(redisImage).WithServiceBinding("redis", svc).WithEnvVariable("NONCE", nonce())
	if password != nil {
		c = c.WithSecretVariable("REDISCLI_AUTH", password)
	}
	out, err := c.WithExec(args).Stdout(ctx)
	return strings.TrimSpace(out), explain(err)
}

// httpGet fetches a URL path from a client bound to svc as host; a status
// of 400 or more is an error.
func httpGet(ctx context.Context, svc *dagger.Service, host string, port int, path string) (string, error) {
	out, err := dag.Container().
		From(pythonImage).
		WithServiceBinding(host, svc).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"python3", "-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())",
			fmt.Sprintf("http://%s:%d%s", host, port, path)}).
		Stdout(ctx)
	return out, explain(err)
}

// backendHealth is the fixture backend's /health report.
type backendHealth struct {
	Status   string   `json:"status"`
	Postgres string   `json:"postgres"`
	Redis    string   `json:"redis"`
	UID      int      `json:"uid"`
	Argv     []string `json:"argv"`
	Project  string   `json:"project"`
	// EnvSHA256 hashes the variables that FIXTURE_ENV_NAMES names.
	EnvSHA256 map[string]string `json:"env_sha256"`
}

func getBackendHealth(ctx context.Context, cc *dagger.Commandcenter) (*backendHealth, error) {
	body, err := httpGet(ctx, cc.Backend(), "backend", 8000, "/health")
	if err != nil {
		return nil, err
	}
	var h backendHealth
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		return nil, fmt.Errorf("GET /health: wanted JSON, got %q", body)
	}
	return &h, nil
}

// healthRows parses Health's table into service -> status and message.
func healthRows(report string) map[string][2]string {
	rows := map[string][2]string{}
	for _, line := range strings.Split(report, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 3 {
			rows[f[0]] = [2]string{f[1], strings.Join(f[3:], " ")}
		}
	}
	return rows
}

// basicAuth is the credentials part of an HTTP Basic Authorization header.
func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// explain adds an exec's stderr to its error, since the message alone only
// names the command and exit code.
func explain(err error) error {
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) && execErr.Stderr != "" {
		return fmt.Errorf("%w\nstderr: %s", err, strings.TrimSpace(execErr.Stderr))
	}
	return err
}

// count says how many lines of s contain sub.
func count(s, sub string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// serviceLogs returns the last tail lines of a service's logs.
func serviceLogs(ctx context.Context, cc *dagger.Commandcenter, service string, tail int) (string, error) {
	return cc.Logs(ctx, service, dagger.CommandcenterLogsOpts{Tail: tail})
}
