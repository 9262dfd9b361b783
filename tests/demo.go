package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// The lab's package mirrors listen on these ports of the engine's bridge
// gateway, which a container finds as its default route: the demo's default
// path installs its packages with pip and npm, and lab containers reach no
// other index.
const (
	demoPipPort    = 4874
	demoNpmPort    = 4873
	demoProject    = "demo"
	demoPageMarker = `<p id="message">`
)

// The demo app serves the whole stack on the module's default path: uvicorn and the Vite dev server, with PostgreSQL and Redis.
//
// It installs the demo's pinned requirements and lockfile from the lab's
// package mirrors (pip index and npm registry at the engine's gateway), so
// it is skipped where they do not answer.
//
// +check
func (m *Tests) DemoServesTheWholeStack(ctx context.Context) error {
	gateway, err := needMirrors(ctx, "DemoServesTheWholeStack")
	if err != nil {
		return err
	}
	src, err := demoSource(ctx, fmt.Sprintf("http://%s:%d/", gateway, demoNpmPort))
	if err != nil {
		return err
	}
	opts := withPasswords(dagger.CommandcenterOpts{
		Source:      src,
		Project:     demoProject,
		PipIndexURL: dag.SetSecret("demo-pip-index", pipMirror(gateway)),
	})
	return withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		return errors.Join(demoBackendAnswers(ctx, cc), demoFrontendAnswers(ctx, cc))
	})
}

// demoSource is the repository's demo app, with the lab's npm registry in
// the frontend's .npmrc. The tests module's source holds it only when its
// dagger.json includes ../demo.
func demoSource(ctx context.Context, npmMirror string) (*dagger.Directory, error) {
	demo := dag.CurrentModule().Source().Directory("../demo")
	ok, err := demo.Exists(ctx, "backend/app/main.py")
	if err != nil {
		return nil, fmt.Errorf("look for the demo app: %w", err)
	}
	if !ok {
		return nil, errors.New(`the demo app is not in the tests module's source: add "include": ["../demo"] to tests/dagger.json`)
	}
	return demo.WithNewFile("frontend/.npmrc", "registry="+npmMirror+"\n"), nil
}

// needMirrors returns the gateway at which the lab's mirrors answer, or
// test's skip saying why they do not, or an engine error.
func needMirrors(ctx context.Context, test string) (string, error) {
	gateway, reason, err := labMirrors(ctx)
	if err != nil {
		return "", err
	}
	if reason != "" {
		return "", skip(test, reason)
	}
	return gateway, nil
}

// pipMirror is the lab's PyPI mirror's index at gateway.
func pipMirror(gateway string) string {
	return fmt.Sprintf("http://%s:%d/simple/", gateway, demoPipPort)
}

// labMirrors returns the engine's bridge gateway, as a container sees its
// default route, once the lab's pip and npm mirrors answer there; or why
// they cannot serve the demo's installs. Only a probe that ran and failed
// is a reason; an engine error is returned.
func labMirrors(ctx context.Context) (gateway, reason string, err error) {
	out, err := dag.Container().
		From(pythonImage).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"python3", "-c", `import socket, struct, sys, urllib.request
gateway = None
for line in open("/proc/net/route").read().splitlines()[1:]:
    f = line.split()
    if f[1] == "00000000" and int(f[3], 16) & 2:
        gateway = socket.inet_ntoa(struct.pack("<L", int(f[2], 16)))
if gateway is None:
    sys.exit("the container has no default gateway, where the lab's mirrors would be")
for port, path in ((int(sys.argv[1]), "/simple/"), (int(sys.argv[2]), "/")):
    url = "http://%s:%d%s" % (gateway, port, path)
    try:
        urllib.request.urlopen(url, timeout=3)
    except Exception as e:
        sys.exit("the lab's package mirror %s (the engine's gateway) does not answer: %s" % (url, e))
print(gateway)`, fmt.Sprint(demoPipPort), fmt.Sprint(demoNpmPort)}).
		Stdout(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) {
		if reason := strings.TrimSpace(execErr.Stderr); reason != "" {
			return "", reason, nil
		}
		return "", "the lab's package mirrors do not answer: " + execErr.Error(), nil
	}
	if err != nil {
		return "", "", fmt.Errorf("probe the lab's package mirrors: %w", err)
	}
	return strings.TrimSpace(out), "", nil
}

// demoBackendAnswers checks the demo backend's /health and /api/hello.
func demoBackendAnswers(ctx context.Context, cc *dagger.Commandcenter) error {
	body, err := httpGet(ctx, cc.Backend(), "backend", 8000, "/health")
	if err != nil {
		return fmt.Errorf("GET /health: %w", err)
	}
	var health map[string]string
	if err := json.Unmarshal([]byte(body), &health); err != nil ||
		health["status"] != "ok" || health["postgres"] != "ok" || health["redis"] != "ok" {
		return fmt.Errorf("GET /health: wanted status, postgres and redis ok, got %q", body)
	}
	body, err = httpGet(ctx, cc.Backend(), "backend", 8000, "/api/hello")
	if err != nil {
		return fmt.Errorf("GET /api/hello: %w", err)
	}
	var hello struct {
		Message string `json:"message"`
		Project string `json:"project"`
		Visits  int    `json:"visits"`
	}
	if err := json.Unmarshal([]byte(body), &hello); err != nil || hello.Project != demoProject || hello.Visits < 1 {
		return fmt.Errorf("GET /api/hello: wanted project %q and a visit count, got %q", demoProject, body)
	}
	return nil
}

// demoFrontendAnswers checks that the Vite dev server serves the page to a
// client that names it "web", and that Health reports all four healthy.
func demoFrontendAnswers(ctx context.Context, cc *dagger.Commandcenter) error {
	page, err := httpGet(ctx, cc.Frontend(), "web", 3000, "/")
	if err != nil {
		return fmt.Errorf("GET / as web: %w", err)
	}
	if !strings.Contains(page, "<title>CommandCenter demo</title>") || !strings.Contains(page, demoPageMarker) {
		return fmt.Errorf("GET / as web: wanted the demo page, got %q", page)
	}
	report, err := cc.Health(ctx)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	rows := healthRows(report)
	for _, s := range []string{"postgres", "redis", "backend", "frontend"} {
		if rows[s][0] != "healthy" {
			return fmt.Errorf("health of %s: wanted healthy, got %q", s, rows[s])
		}
	}
	return nil
}
