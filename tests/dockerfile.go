package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// withDockerfile is the monorepo fixture whose backend is built from
// dockerfile (testdata/dockerfile/Dockerfile or a variant), placed at
// backend/Dockerfile; pip reaches the lab's mirror through build arguments.
func withDockerfile(project, gateway, dockerfile string) dagger.CommandcenterOpts {
	opts := monorepo(project, gateway)
	opts.PipIndexURL = nil
	opts.Source = opts.Source.WithNewFile("backend/Dockerfile", dockerfile)
	opts.BackendDockerfile = "backend/Dockerfile"
	opts.DockerBuildArgs = []string{"PIP_INDEX_URL=" + pipMirror(gateway), "PIP_TRUSTED_HOST=" + gateway}
	return opts
}

// The backend built from its own multi-stage Dockerfile (non-root USER 1000) serves and is healthy as uid 1000, its worker runs tasks from the same image as uid 1000, stop without the source stops the worker too, a root image runs as uid 10001, and a missing Dockerfile is refused naming the flag.
//
// +check
func (m *Tests) BackendBuildsFromItsDockerfile(ctx context.Context) error {
	gateway, err := needMirrors(ctx, "BackendBuildsFromItsDockerfile")
	if err != nil {
		return err
	}
	dockerfile, err := dag.CurrentModule().Source().File("testdata/dockerfile/Dockerfile").Contents(ctx)
	if err != nil {
		return err
	}
	opts := withDockerfile("dockerfile", gateway, dockerfile)
	cc := dag.Commandcenter(opts)
	if _, err := cc.Start().Project(ctx); err != nil {
		return errors.Join(fmt.Errorf("start with --backend-dockerfile: %w", err), stop(ctx, cc))
	}
	checked := errors.Join(backendUID(ctx, cc, 1000), workerFromImage(ctx, cc, "1000 dockerfile"))
	// Another terminal, without --source: the demo's source, which has no
	// Procfile, nor this Dockerfile.
	out, err := dag.Commandcenter(dagger.CommandcenterOpts{Project: opts.Project}).Stop(ctx)
	if err != nil || !strings.Contains(out, "worker: stopped") || !strings.Contains(out, "beat: stopped") || !strings.Contains(out, "backend: stopped") {
		return errors.Join(checked, fmt.Errorf("stop without --source: wanted the worker and beat stopped, got %q, %v", out, err), stop(ctx, cc))
	}
	if checked != nil {
		return checked
	}
	return errors.Join(rootImageRunsAsAppUser(ctx, gateway, dockerfile), missingDockerfileRefused(ctx, gateway))
}

// backendUID checks the running backend's uid in its /health.
func backendUID(ctx context.Context, cc *dagger.Commandcenter, want int) error {
	body, err := httpGet(ctx, cc.Backend(), "backend", 8000, "/health")
	var h struct{ UID int }
	if err == nil {
		err = json.Unmarshal([]byte(body), &h)
	}
	if err != nil || h.UID != want {
		return fmt.Errorf("backend from its Dockerfile: wanted it served as uid %d, got %q, %v", want, body, err)
	}
	return nil
}

// workerFromImage queues app.tasks.whoami and waits for the worker's
// "UID IMAGE" in Redis.
func workerFromImage(ctx context.Context, cc *dagger.Commandcenter, want string) error {
	key := "whoami-" + nonce()
	if _, err := httpGet(ctx, cc.Backend(), "backend", 8000, "/whoami?key="+key); err != nil {
		return fmt.Errorf("queue whoami: %w", err)
	}
	var got string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if got, _ = redisValue(ctx, cc, key); got != "" {
			break
		}
	}
	if got != want {
		return fmt.Errorf("worker from the backend's Dockerfile: wanted %q (uid, FIXTURE_BUILT_BY), got %q", want, got)
	}
	return nil
}

// rootImageRunsAsAppUser builds a variant without USER whose app
// directory only root can read: the backend runs as uid 10001 and reads it.
func rootImageRunsAsAppUser(ctx context.Context, gateway, dockerfile string) error {
	root := strings.Replace(dockerfile, "USER appuser\n", "RUN chmod -R go-rwx /app/backend\n", 1)
	out, err := dag.Commandcenter(withDockerfile("dockerfile-root", gateway, root)).Container("backend").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", "id -u; head -c 3 app/main.py"}).
		Stdout(ctx)
	if err != nil || out != "10001\n\"\"\"" {
		return fmt.Errorf("an image whose user is root: wanted it run as 10001, its app readable, got %q, %v", out, explain(err))
	}
	return nil
}

// missingDockerfileRefused starts with a Dockerfile path that is not in the source.
func missingDockerfileRefused(ctx context.Context, gateway string) error {
	opts := withDockerfile("dockerfile-missing", gateway, "FROM scratch\n")
	opts.BackendDockerfile = "backend/No.Dockerfile"
	begin := time.Now()
	_, err := dag.Commandcenter(opts).Start().Project(ctx)
	if err == nil || !strings.Contains(err.Error(), "--backend-dockerfile") || !strings.Contains(err.Error(), "backend/No.Dockerfile not found") {
		return fmt.Errorf("a Dockerfile not in the source: wanted the start refused naming --backend-dockerfile, got %v", err)
	}
	if took := time.Since(begin); took > time.Minute {
		return fmt.Errorf("a Dockerfile not in the source: refused after %s, wanted within a minute", took)
	}
	return nil
}
