package main

import (
	"context"
	"fmt"
	"strconv"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// The PostgreSQL URL of the stack for host tools (psql, a GUI), as a Secret: postgresql://commandcenter:<password>@<host>:<postgres-port>/commandcenter.
//
// The password is --db-password or the generated one. Show it on request:
// `dagger call database-url plaintext`; pass it on as a secret:
// `psql "$(dagger call database-url plaintext)"`.
//
// +cache="never"
func (m *Commandcenter) DatabaseURL(
	ctx context.Context,
	// Host name or address where the tool reaches the stack.
	// +default="localhost"
	host string,
) (*dagger.Secret, error) {
	return m.url(ctx, stack.Postgres, host)
}

// The Redis URL of the stack for host tools (redis-cli, a GUI), as a Secret: redis://default:<password>@<host>:<redis-port>/0.
//
// The password is --redis-password or the generated one. Show it on
// request: `dagger call redis-url plaintext`.
//
// +cache="never"
func (m *Commandcenter) RedisURL(
	ctx context.Context,
	// Host name or address where the tool reaches the stack.
	// +default="localhost"
	host string,
) (*dagger.Secret, error) {
	return m.url(ctx, stack.Redis, host)
}

// url builds service s's URL inside a container, from the password file
// the services read, and returns it as a new Secret. The engine cannot make
// a Secret from a file in a container, so the module reads the composed
// value once, into the Secret, and never prints or keeps it.
func (m *Commandcenter) url(ctx context.Context, s stack.Service, host string) (*dagger.Secret, error) {
	if err := stack.ValidateHost(host); err != nil {
		return nil, err
	}
	passwords, err := m.withAppPasswords(ctx)
	if err != nil {
		return nil, err
	}
	files := m.secretFiles()
	passwordFile := map[stack.Service]string{stack.Postgres: files.DBPassword, stack.Redis: files.RedisPassword}[s]
	const out = "/tmp/commandcenter-url"
	file := dag.Container().
		From(m.Settings.Images.Python).
		WithUser(m.user(stack.Backend)).
		With(withScripts("url")).
		With(passwords).
		WithEnvVariable("DB_USER", stack.DBUser).
		WithEnvVariable("DB_NAME", stack.DBName).
		WithEnvVariable("COMMANDCENTER_URL_AT", now()).
		WithExec([]string{"sh", "-c", `umask 077; [ -s "$4" ] || { echo "no password yet: start $1 once first" >&2; exit 3; }
url=$(commandcenter-url "$@") && printf %s "$url" >` + out, "sh", string(s), host, strconv.Itoa(m.config().Ports[s]), passwordFile}).
		File(out)
	value, err := file.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s url: %w", s, withStderr(err))
	}
	return dag.SetSecret(fmt.Sprintf("commandcenter-%s-%s-url", m.Project, s), value), nil
}
