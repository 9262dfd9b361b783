package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"dagger/tests/internal/dagger"
)

// The shared project: tests that only read use it together.
const shared = "tests"

// PostgreSQL answers SELECT 1 with the project's password and rejects a wrong one.
//
// +check
func (m *Tests) PostgresAnswersWithPassword(ctx context.Context) error {
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	out, err := psql(ctx, cc, dbPassword(shared), "SELECT 1")
	if err != nil {
		return err
	}
	if out != "1" {
		return fmt.Errorf("SELECT 1: wanted %q, got %q", "1", out)
	}
	_, err = psql(ctx, cc, dag.SetSecret("wrong-password", "not-the-password"), "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		return fmt.Errorf("wrong password: wanted %q, got %v", "password authentication failed", err)
	}
	return nil
}

// Redis answers PING with the project's password.
//
// +check
func (m *Tests) RedisAnswersPing(ctx context.Context) error {
	opts := withPasswords(fixture(shared))
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	out, err := redisPing(ctx, cc.Redis(), 6379, opts.RedisPassword)
	if err != nil {
		return err
	}
	if out != "PONG" {
		return fmt.Errorf("PING: wanted PONG, got %q", out)
	}
	out, err = redisPing(ctx, cc.Redis(), 6379, nil)
	if got := fmt.Sprint(out, err); !strings.Contains(got, "NOAUTH") {
		return fmt.Errorf("PING without the password: wanted NOAUTH, got %q", got)
	}
	return nil
}

// The backend's /health proves it reached postgres (a SCRAM handshake) and redis (AUTH and PING).
//
// +check
func (m *Tests) BackendReachesPostgresAndRedis(ctx context.Context) error {
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	h, err := getBackendHealth(ctx, cc)
	if err != nil {
		return err
	}
	if h.Status != "ok" || h.Postgres != "ok" || h.Redis != "ok" || h.Project != shared {
		return fmt.Errorf("/health: wanted status, postgres and redis ok for project %q, got %+v", shared, h)
	}
	return nil
}

// The frontend serves its page, which names the API URL the module gave it.
//
// +check
func (m *Tests) FrontendServesPage(ctx context.Context) error {
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	page, err := httpGet(ctx, cc.Frontend(), "frontend", 3000, "/")
	if err != nil {
		return err
	}
	if !strings.Contains(page, "CommandCenter fixture frontend") || !strings.Contains(page, `<p id="api">http://localhost:8000</p>`) {
		return fmt.Errorf("GET /: wanted the fixture page with VITE_API_BASE_URL http://localhost:8000, got %q", page)
	}
	return nil
}

// Every process runs as its documented non-root user: postgres 999 (the default Debian image's), redis 999, app 10001, node 1000, nginx 101.
//
// The app's database role may no longer read the server's /proc (AppRoleIsNotSuperuser), so postgres's uid is the one its launcher's `id` printed in the container just before it became the server.
//
// +check
func (m *Tests) ServicesRunAsDocumentedUsers(ctx context.Context) error {
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	if _, err := cc.Stack().Start(ctx); err != nil {
		return fmt.Errorf("start the stack proxy: %w", err)
	}
	// What each server reports of itself.
	h, err := getBackendHealth(ctx, cc)
	if err != nil {
		return err
	}
	if h.UID != 10001 {
		return fmt.Errorf("backend process: wanted uid 10001, got %d", h.UID)
	}
	page, err := httpGet(ctx, cc.Frontend(), "frontend", 3000, "/")
	if err != nil {
		return err
	}
	if !strings.Contains(page, "uid=1000<") {
		return fmt.Errorf("frontend process: wanted uid=1000, got %q", page)
	}
	// What each service's launcher logged as it became the server.
	for service, uid := range map[string]string{"postgres": "999", "redis": "999", "backend": "10001", "frontend": "1000", "proxy": "101"} {
		logs, err := serviceLogs(ctx, cc, service, 10000)
		if err != nil {
			return err
		}
		lines := regexp.MustCompile(`\[commandcenter\] `+service+` starting as uid=(\d+)`).FindAllStringSubmatch(logs, -1)
		if len(lines) == 0 {
			return fmt.Errorf("%s: wanted a start line in its logs, got none", service)
		}
		if got := lines[len(lines)-1][1]; got != uid {
			return fmt.Errorf("%s: wanted uid %s, got uid %s", service, uid, got)
		}
	}
	return nil
}

// A client bound to the Stack service reaches all four services through it, on the ports the project chose.
//
// +check
func (m *Tests) StackServesAllPorts(ctx context.Context) error {
	opts := withPasswords(fixture("stack"))
	opts.PostgresPort, opts.RedisPort, opts.BackendPort, opts.FrontendPort = 15432, 16379, 18000, 13000
	cc := dag.Commandcenter(opts)
	return errors.Join(reachThroughStack(ctx, cc.Stack(), opts), stop(ctx, cc))
}

func reachThroughStack(ctx context.Context, stack *dagger.Service, opts dagger.CommandcenterOpts) error {
	out, err := dag.Container().From(postgresImage).
		WithServiceBinding("stack", stack).
		WithSecretVariable("PGPASSWORD", dbPassword("stack")).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"psql", "-h", "stack", "-p", "15432", "-U", "commandcenter", "-d", "commandcenter", "-tAc", "SELECT 1"}).
		Stdout(ctx)
	if err != nil {
		return fmt.Errorf("postgres through the stack: %w", explain(err))
	}
	if strings.TrimSpace(out) != "1" {
		return fmt.Errorf("postgres through the stack: wanted 1, got %q", out)
	}
	if out, err := redisPing(ctx, stack, 16379, opts.RedisPassword); err != nil || out != "PONG" {
		return fmt.Errorf("redis through the stack: wanted PONG, got %q (%v)", out, err)
	}
	body, err := httpGet(ctx, stack, "stack", 18000, "/health")
	if err != nil || !strings.Contains(body, `"status": "ok"`) {
		return fmt.Errorf("backend through the stack: wanted status ok, got %q (%v)", body, err)
	}
	page, err := httpGet(ctx, stack, "stack", 13000, "/")
	if err != nil || !strings.Contains(page, `<p id="api">http://localhost:18000</p>`) {
		return fmt.Errorf("frontend through the stack: wanted the page with API http://localhost:18000, got %q (%v)", page, err)
	}
	return nil
}
