package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// The app services in start order, and all services with the proxy.
var (
	appServices = []string{"postgres", "redis", "backend", "frontend"}
	services    = append(appServices, "proxy")
)

// No given secret appears in any container's environment or arguments, in the running backend's argv, or in Health and Logs.
//
// +check
func (m *Tests) SecretsStayOutOfEnvArgvAndOutput(ctx context.Context) error {
	const project = "secrets"
	opts := withPasswords(fixture(project))
	return withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		secrets := []string{"db-pw-of-" + project, "redis-pw-of-" + project, "secret-key-of-" + project}
		if err := assertNotLeaked(ctx, cc, secrets); err != nil {
			return err
		}
		// What the running backend holds in its argv. (Postgres's own
		// environment is no longer readable by the app's role: see
		// AppRoleIsNotSuperuser; its container's is checked above.)
		h, err := getBackendHealth(ctx, cc)
		if err != nil {
			return err
		}
		for _, secret := range secrets {
			if strings.Contains(strings.Join(h.Argv, " "), secret) {
				return fmt.Errorf("backend argv: wanted no secret, got %q", h.Argv)
			}
		}
		return nil
	})
}

// Without --db-password and --secret-key, start works with generated secrets that stay the same across a stop and a new start, and never show.
//
// +check
func (m *Tests) GeneratedSecretsSurviveStopAndStart(ctx context.Context) error {
	const project = "generated"
	return withStack(ctx, fixture(project), func(cc *dagger.Commandcenter) error {
		password, key, err := generatedSecrets(ctx, cc)
		if err != nil {
			return err
		}
		if len(password) != 40 || len(key) != 40 || password == key {
			return fmt.Errorf("generated secrets: wanted two distinct 40-character values, got lengths %d and %d", len(password), len(key))
		}
		if err := stop(ctx, cc); err != nil {
			return err
		}
		if _, err := cc.Start().Project(ctx); err != nil {
			return fmt.Errorf("start after the stop: %w", err)
		}
		again, keyAgain, err := generatedSecrets(ctx, cc)
		if err != nil {
			return err
		}
		if again != password || keyAgain != key {
			return fmt.Errorf("generated secrets after the restart: wanted the same values, got new ones")
		}
		out, err := psql(ctx, cc, dag.SetSecret(project+"-generated-db-password", password), "SELECT 1")
		if err != nil || out != "1" {
			return fmt.Errorf("SELECT 1 with the generated password after the restart: wanted 1, got %q (%v)", out, err)
		}
		h, err := getBackendHealth(ctx, cc)
		if err != nil || h.Status != "ok" {
			return fmt.Errorf("/health after the restart: wanted ok, got %+v (%v)", h, err)
		}
		return assertNotLeaked(ctx, cc, []string{password, key})
	})
}

// generatedSecrets reads the generated database password and secret key
// where the services keep them, as the services' own users.
func generatedSecrets(ctx context.Context, cc *dagger.Commandcenter) (password, key string, err error) {
	password, err = cc.Container("postgres").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"cat", "/var/lib/commandcenter-db/db-password"}).
		Stdout(ctx)
	if err != nil {
		return "", "", fmt.Errorf("read the generated database password: %w", explain(err))
	}
	key, err = cc.Container("backend").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"cat", "/var/lib/commandcenter/secret-key"}).
		Stdout(ctx)
	if err != nil {
		return "", "", fmt.Errorf("read the generated secret key: %w", explain(err))
	}
	return password, key, nil
}

// assertNotLeaked checks every container's env variables and arguments, and
// the Health and Logs output, for any of the secrets.
func assertNotLeaked(ctx context.Context, cc *dagger.Commandcenter, secrets []string) error {
	var seen []string
	for _, s := range services {
		c := cc.Container(s)
		env, err := envOf(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		for _, e := range env {
			seen = append(seen, s+" env "+e[0]+"="+e[1])
		}
		args, err := c.DefaultArgs(ctx)
		if err != nil {
			return err
		}
		seen = append(seen, s+" argv "+strings.Join(args, " "))
		logs, err := serviceLogs(ctx, cc, s, 10000)
		if err != nil && s != "proxy" { // the proxy has logs only once the stack ran
			return err
		}
		seen = append(seen, s+" logs "+logs)
	}
	report, err := cc.Health(ctx)
	if err != nil {
		return err
	}
	seen = append(seen, "health "+report)
	for _, text := range seen {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				where, _, _ := strings.Cut(text, "=")
				return fmt.Errorf("wanted no secret anywhere, got one in %s", where)
			}
		}
	}
	return nil
}

// envOf returns the name and value of each variable in c's definition; an
// error reading any of them is the caller's failure, never an empty value.
func envOf(ctx context.Context, c *dagger.Container) ([][2]string, error) {
	env, err := c.EnvVariables(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the environment: %w", err)
	}
	pairs := make([][2]string, len(env))
	for i, e := range env {
		if pairs[i][0], err = e.Name(ctx); err != nil {
			return nil, fmt.Errorf("read a variable's name: %w", err)
		}
		if pairs[i][1], err = e.Value(ctx); err != nil {
			return nil, fmt.Errorf("read %s: %w", pairs[i][0], err)
		}
	}
	return pairs, nil
}
