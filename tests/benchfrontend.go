package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"dagger/tests/internal/dagger"
)

// The frontend phase of the benchmark: a real-size frontend (Vite, React,
// TypeScript, about 500 npm packages, in testdata/realsize) built after a
// source-only change, by the module and with the naive layering.

const (
	// realSize is the real-size fixture's frontend, inside this module.
	realSize = "testdata/realsize/frontend"
	// frontendWarmLine tells bench/ that the module's install is warm: the
	// install steps it counts after this line ran after a source-only change.
	frontendWarmLine = "commandcenter-bench: frontend warm"
	// registryUnavailable starts the error of a registry that containers
	// cannot use; bench/ reports the phase as skipped when it sees it.
	registryUnavailable = "the real-size frontend's registry is unavailable"
	// probePackage is the fixture's package whose tarball is fetched from
	// the registry to check that it serves the fixture.
	probePackage = "node_modules/react"
)

// registryProbe prints the HTTP status of a GET of argv[1], or exits 3 when
// nothing answers within 3 s.
const registryProbe = `import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(3)
`

// realSizeSource is the real-size frontend, its packages installed from
// registry, with one new file under src/ unless change is empty.
func realSizeSource(registry, change string) *dagger.Directory {
	src := dag.CurrentModule().Source().Directory(realSize).
		WithNewFile(".npmrc", "registry="+registry+"\n")
	if change != "" {
		src = src.WithNewFile("src/bench_change.ts", fmt.Sprintf("// %s\nexport const benchChange = %q;\n", change, change))
	}
	return src
}

// realSizeStack is a project on the real-size frontend. Its backend, which
// the frontend binds, is the offline fixture's; it is never built, since
// only the frontend's files are read.
func realSizeStack(registry, change string) *dagger.Commandcenter {
	opts := withPasswords(fixture("bench-frontend"))
	opts.Source = dag.Directory().
		WithDirectory("frontend", realSizeSource(registry, change)).
		WithDirectory("backend", dag.CurrentModule().Source().Directory("testdata/app/backend"))
	return dag.Commandcenter(opts)
}

// buildFrontend builds a project's frontend. It reads the container's root
// filesystem rather than syncing the container: the files are the build,
// and nothing is evaluated with the backend bound.
func buildFrontend(ctx context.Context, cc *dagger.Commandcenter) error {
	_, err := cc.Container("frontend").Rootfs().Sync(ctx)
	return explain(err)
}

// checkRegistry fails with registryUnavailable unless a container reaches
// registry within 3 s and gets one of the fixture's tarballs from it.
func checkRegistry(ctx context.Context, registry string) error {
	if !strings.HasPrefix(registry, "http://") && !strings.HasPrefix(registry, "https://") {
		return fmt.Errorf("--registry %q: want an http:// or https:// URL, e.g. http://10.87.0.1:4873/", registry)
	}
	tarball, err := probeTarball(ctx)
	if err != nil {
		return err
	}
	get := strings.TrimSuffix(registry, "/") + tarball
	out, err := dag.Container().
		From(pythonImage).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"python3", "-c", registryProbe, get}).
		Stdout(ctx)
	var execErr *dagger.ExecError
	switch {
	case errors.As(err, &execErr):
		return fmt.Errorf("%s: a container cannot reach %s: %s; serve the lab mirror (shared/lab/mirrors/serve.sh) or pass another --registry",
			registryUnavailable, registry, strings.TrimSpace(execErr.Stderr))
	case err != nil:
		return fmt.Errorf("probe %s: %w", registry, err)
	case strings.TrimSpace(out) != "200":
		return fmt.Errorf("%s: GET %s answered %s; fill the mirror with shared/lab/mirrors/npm-mirror.sh %s/package-lock.json",
			registryUnavailable, get, strings.TrimSpace(out), realSize)
	}
	return nil
}

// probeTarball is the path of probePackage's tarball on a registry, from
// the fixture's lockfile: /react/-/react-18.3.1.tgz.
func probeTarball(ctx context.Context) (string, error) {
	data, err := dag.CurrentModule().Source().File(realSize + "/package-lock.json").Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("read the real-size lockfile: %w", err)
	}
	var lock struct {
		Packages map[string]struct {
			Resolved string `json:"resolved"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(data), &lock); err != nil {
		return "", fmt.Errorf("read the real-size lockfile: %w", err)
	}
	resolved, err := url.Parse(lock.Packages[probePackage].Resolved)
	if err != nil || resolved.Path == "" {
		return "", fmt.Errorf("the real-size lockfile has no tarball URL for %s", probePackage)
	}
	return resolved.Path, nil
}

// benchFrontend builds the real-size frontend after a source-only change,
// with the module (after one build that warms its install) and with the
// naive layering of the earlier orchestration: source first, then npm ci.
func benchFrontend(ctx context.Context, run, registry string, res *benchResult) error {
	if err := checkRegistry(ctx, registry); err != nil {
		return err
	}
	if err := buildFrontend(ctx, realSizeStack(registry, "")); err != nil {
		return fmt.Errorf("warm the module's install: %w", err)
	}
	fmt.Fprintln(os.Stderr, frontendWarmLine)
	for rep := range benchRepeats {
		cc := realSizeStack(registry, fmt.Sprintf("benchmark run %s, change %d", run, rep))
		took, err := timed(func() error { return buildFrontend(ctx, cc) })
		if err != nil {
			return fmt.Errorf("module build: %w", err)
		}
		res.add("frontend/module-build", took)
	}
	for rep := range benchRepeats {
		src := realSizeSource(registry, fmt.Sprintf("benchmark run %s-naive, change %d", run, rep))
		took, err := timed(func() error {
			_, err := dag.Container().
				From(nodeImage).
				WithDirectory("/app", src).
				WithWorkdir("/app").
				WithExec([]string{"npm", "ci", "--no-audit", "--no-fund"}).
				Sync(ctx)
			return explain(err)
		})
		if err != nil {
			return fmt.Errorf("naive build: %w", err)
		}
		res.add("frontend/naive-build", took)
	}
	return nil
}
