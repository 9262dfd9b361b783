package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// The app's own configuration: environment, env file, migration, consumers
// and the static frontend.

// App env items, the dotenv file and the migration all reach the backend's process, and no value of the env file shows in the container's definition, its logs or Health.
//
// +check
func (m *Tests) AppConfigurationReachesTheBackend(ctx context.Context) error {
	const project, apiKey = "app-config", "sk-test-from-the-env-file"
	opts := withPasswords(fixture(project))
	opts.BackendEnv = []string{"LOG_LEVEL=debug", "FIXTURE_ENV_NAMES=LOG_LEVEL,API_KEY,QUOTED"}
	opts.BackendEnvFile = dag.SetSecret(project+"-env-file", "# the app's secrets\nexport API_KEY="+apiKey+"\nQUOTED=\"two words\" # a comment\n")
	opts.BackendMigrate = []string{"sh", "-c", `echo "migration saw DATABASE_URL=${DATABASE_URL:+set} API_KEY=${API_KEY:+set} LOG_LEVEL=$LOG_LEVEL"`}
	return withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		h, err := getBackendHealth(ctx, cc)
		if err != nil {
			return err
		}
		want := map[string]string{"LOG_LEVEL": sha("debug"), "API_KEY": sha(apiKey), "QUOTED": sha("two words")}
		for name, hash := range want {
			if h.EnvSHA256[name] != hash {
				return fmt.Errorf("backend process: wanted %s with the configured value, got hashes %v", name, h.EnvSHA256)
			}
		}
		logs, err := serviceLogs(ctx, cc, "backend", 10000)
		if err != nil {
			return err
		}
		if !strings.Contains(logs, "migration saw DATABASE_URL=set API_KEY=set LOG_LEVEL=debug") {
			return fmt.Errorf("backend logs: wanted the migration's line, with the backend's environment, got:\n%s", logs)
		}
		return assertNotLeaked(ctx, cc, []string{apiKey})
	})
}

// A migration that fails stops the start at once, with its stderr, and is not retried.
//
// +check
func (m *Tests) FailingMigrationStopsTheStart(ctx context.Context) error {
	run := nonce()
	opts := withPasswords(fixture("migrate-fails"))
	opts.RetryAttempts = 3
	opts.BackendMigrate = []string{"sh", "-c", `echo "migration ` + run + `: relation notes does not exist" >&2; exit 3`}
	cc := dag.Commandcenter(opts)
	_, err := cc.Start().Project(ctx)
	for _, want := range []string{"start backend", "migration " + run + ": relation notes does not exist", "exited with 3: the backend was not started"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			return errors.Join(fmt.Errorf("start with a failing migration: wanted %q in the error, got %v", want, err), stop(ctx, cc))
		}
	}
	logs, lerr := serviceLogs(ctx, cc, "backend", 10000)
	if n := strings.Count(logs, "\nmigration "+run+": relation notes does not exist\n"); lerr != nil || n != 1 {
		return errors.Join(fmt.Errorf("backend logs: wanted the migration run once, got %d runs (%v)", n, lerr), stop(ctx, cc))
	}
	return stop(ctx, cc)
}

// A consumer that binds the frontend and the backend under its own aliases gets answers from both.
//
// +check
func (m *Tests) ConsumersBindUnderAnyAlias(ctx context.Context) error {
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	out, err := dag.Container().From(pythonImage).
		WithServiceBinding("web", cc.Frontend()).
		WithServiceBinding("api", cc.Backend()).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"python3", "-c", `import urllib.request
for url in ("http://web:3000/", "http://api:8000/health"):
    print(url, urllib.request.urlopen(url, timeout=10).status)`}).
		Stdout(ctx)
	if err != nil {
		return fmt.Errorf("consumer: %w", explain(err))
	}
	for _, want := range []string{"http://web:3000/ 200", "http://api:8000/health 200"} {
		if !strings.Contains(out, want) {
			return fmt.Errorf("consumer: wanted %q, got %q", want, out)
		}
	}
	return nil
}

// In static mode, nginx serves the built app as uid 101: deep links fall back to index.html and hashed assets are cached for a year.
//
// +check
func (m *Tests) StaticFrontendServesTheBuild(ctx context.Context) error {
	opts := withPasswords(fixture("static"))
	opts.FrontendCommand = nil
	opts.FrontendMode = "static"
	opts.FrontendEnv = []string{"VITE_TITLE=Static fixture"}
	return withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		out, err := dag.Container().From(pythonImage).
			WithServiceBinding("web", cc.Frontend()).
			WithEnvVariable("NONCE", nonce()).
			WithExec([]string{"python3", "-c", `import re, urllib.request
page = urllib.request.urlopen("http://web:3000/orders/42", timeout=10).read().decode()
print(page)
asset = re.search(r'src="(/assets/[^"]+)"', page).group(1)
r = urllib.request.urlopen("http://web:3000" + asset, timeout=10)
print("asset cache:", r.headers["Cache-Control"])`}).
			Stdout(ctx)
		if err != nil {
			return fmt.Errorf("GET the static frontend: %w", explain(err))
		}
		for _, want := range []string{"CommandCenter fixture build", `<p id="api">http://localhost:8000</p>`, `<p id="title">Static fixture</p>`, "asset cache: public, max-age=31536000, immutable"} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("static frontend: wanted %q, got:\n%s", want, out)
			}
		}
		logs, err := serviceLogs(ctx, cc, "frontend", 100)
		if err != nil || !strings.Contains(logs, "[commandcenter] frontend starting as uid=101") {
			return fmt.Errorf("static frontend: wanted nginx started as uid 101, got %v:\n%s", err, logs)
		}
		return nil
	})
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
