package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// The frontend built from its own Dockerfile (testdata/frontend-dockerfile)
// needs nothing beyond the node image: the offline fixture's frontend.

// buildToken is the build secret that the fixture's Dockerfile mounts as
// fixture-build-token; buildTitle is its VITE_TITLE build argument.
const (
	buildToken = "fixture-build-token-5b0e92c4d7a13f68"
	buildTitle = "Built by the frontend's Dockerfile"
)

// withFrontendDockerfile is the offline fixture whose frontend is built
// from testdata/frontend-dockerfile/Dockerfile, changed by edit, placed at
// frontend/Dockerfile, with a build argument and a build secret.
func withFrontendDockerfile(ctx context.Context, project string, edit func(string) string) (dagger.CommandcenterOpts, error) {
	dockerfile, err := dag.CurrentModule().Source().File("testdata/frontend-dockerfile/Dockerfile").Contents(ctx)
	if err != nil {
		return dagger.CommandcenterOpts{}, err
	}
	opts := withPasswords(fixture(project))
	opts.FrontendCommand = nil // the image's CMD
	opts.Source = opts.Source.WithNewFile("frontend/Dockerfile", edit(dockerfile))
	opts.FrontendDockerfile = "frontend/Dockerfile"
	opts.DockerBuildArgs = []string{"VITE_TITLE=" + buildTitle}
	opts.DockerBuildSecrets = []*dagger.Secret{dag.SetSecret("fixture-build-token", buildToken)}
	return opts, nil
}

func unchanged(s string) string { return s }

// The frontend built from its own multi-stage Dockerfile (non-root USER 4321) is served and healthy as uid 4321, restarted in place and logged from a terminal without the source; a root image runs as uid 10001; a missing Dockerfile and an image serving another port are refused before anything starts.
//
// +check
func (m *Tests) FrontendBuildsFromItsDockerfile(ctx context.Context) error {
	opts, err := withFrontendDockerfile(ctx, "frontend-dockerfile", unchanged)
	if err != nil {
		return err
	}
	served := withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		if err := frontendServedAs(ctx, cc, "uid=4321"); err != nil {
			return err
		}
		if err := frontendHealthy(ctx, cc); err != nil {
			return err
		}
		// Another terminal, without the source and its Dockerfile.
		other := dag.Commandcenter(dagger.CommandcenterOpts{Project: opts.Project})
		out, err := other.Restart(ctx, "frontend")
		if err != nil || !strings.Contains(out, "frontend: restarted in place") {
			return fmt.Errorf("restart --service frontend without the source: wanted it restarted in place, got %q, %v", out, err)
		}
		logs, err := serviceLogs(ctx, other, "frontend", 50)
		if err != nil || !strings.Contains(logs, "starting as uid=4321") || !strings.Contains(logs, "fixture frontend listening") {
			return fmt.Errorf("logs --service frontend without the source: wanted the server started as uid 4321, got %v:\n%s", err, logs)
		}
		return frontendServedAs(ctx, cc, "uid=4321")
	})
	if served != nil {
		return served
	}
	return errors.Join(rootFrontendRunsAsAppUser(ctx), frontendDockerfileRefused(ctx))
}

// frontendServedAs GETs the frontend's page, which names its uid.
func frontendServedAs(ctx context.Context, cc *dagger.Commandcenter, uid string) error {
	page, err := httpGet(ctx, cc.Frontend(), "frontend", 3000, "/")
	if err != nil || !strings.Contains(page, uid) {
		return fmt.Errorf("frontend from its Dockerfile: wanted its page served as %s, got %q, %v", uid, page, err)
	}
	return nil
}

// frontendHealthy reads the frontend's entry in Status.
func frontendHealthy(ctx context.Context, cc *dagger.Commandcenter) error {
	st, out, err := readStatus(ctx, cc)
	if err != nil {
		return err
	}
	for _, s := range st.Services {
		if s.Service == "frontend" && s.State == "running" && s.Healthy {
			return nil
		}
	}
	return fmt.Errorf("status: wanted the frontend running and healthy, got:\n%s", out)
}

// rootFrontendRunsAsAppUser builds a variant without USER whose files
// only root can read: the frontend runs as uid 10001 and reads them.
func rootFrontendRunsAsAppUser(ctx context.Context) error {
	opts, err := withFrontendDockerfile(ctx, "frontend-dockerfile-root", func(s string) string {
		return strings.Replace(s, "USER 4321:4321\n", "RUN chmod -R go-rwx /srv\n", 1)
	})
	if err != nil {
		return err
	}
	out, err := dag.Commandcenter(opts).Container("frontend").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", "id -u; head -c 9 dist/index.html"}).
		Stdout(ctx)
	if err != nil || out != "10001\n<!doctype" {
		return fmt.Errorf("a frontend image whose user is root: wanted it run as 10001, its files readable, got %q, %v", out, explain(err))
	}
	return nil
}

// frontendDockerfileRefused starts with a Dockerfile path that is not in
// the source, and with an image that serves port 80 only.
func frontendDockerfileRefused(ctx context.Context) error {
	missing, err := withFrontendDockerfile(ctx, "frontend-dockerfile-bad", unchanged)
	if err != nil {
		return err
	}
	missing.FrontendDockerfile = "frontend/No.Dockerfile"
	port80, err := withFrontendDockerfile(ctx, "frontend-dockerfile-bad", func(s string) string {
		return strings.Replace(s, "EXPOSE 3000\n", "EXPOSE 80\n", 1)
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, tc := range []struct {
		opts dagger.CommandcenterOpts
		want string
	}{
		{missing, "frontend/No.Dockerfile not found in --source"},
		{port80, "the image exposes port 80, and the module serves the frontend on port 3000"},
	} {
		begin := time.Now()
		_, err := dag.Commandcenter(tc.opts).Start().Project(ctx)
		if err == nil || !strings.Contains(err.Error(), "--frontend-dockerfile") || !strings.Contains(err.Error(), tc.want) {
			errs = append(errs, fmt.Errorf("wanted the start refused with --frontend-dockerfile and %q, got %v", tc.want, err))
		} else if took := time.Since(begin); took > 3*time.Minute {
			errs = append(errs, fmt.Errorf("%q: refused after %s, wanted before anything starts", tc.want, took))
		}
	}
	return errors.Join(errs...)
}

// A build secret given with --docker-build-secrets reaches the Dockerfile's RUN --mount=type=secret (its SHA-256 is in the image), and its value is in none of the image's files, layers or history; --docker-build-args reach the frontend's build.
//
// +check
func (m *Tests) BuildSecretsStayOutOfTheImage(ctx context.Context) error {
	opts, err := withFrontendDockerfile(ctx, "build-secrets", unchanged)
	if err != nil {
		return err
	}
	image := dag.Commandcenter(opts).Container("frontend")
	page, err := image.File("/srv/dist/index.html").Contents(ctx)
	if err != nil || !strings.Contains(page, buildTitle) {
		return fmt.Errorf("--docker-build-args VITE_TITLE: wanted %q in the built page, got %q, %v", buildTitle, page, err)
	}
	sum, err := image.File("/srv/dist/token.sha256").Contents(ctx)
	if err != nil || strings.TrimSpace(sum) != sha(buildToken) {
		return fmt.Errorf("the build's RUN --mount=type=secret: wanted the secret's SHA-256 %s in the image, got %q, %v", sha(buildToken), sum, explain(err))
	}
	// Every file of the image, and its tarball (each layer uncompressed,
	// its configuration and history): grep prints where the value is, and
	// the hash, which the layers hold, shows that grep reads them.
	out, err := dag.Container().From(pythonImage).
		WithMountedDirectory("/image", image.Rootfs()).
		WithMountedFile("/image.tar", image.AsTarball(dagger.ContainerAsTarballOpts{ForcedCompression: dagger.ImageLayerCompressionUncompressed})).
		WithSecretVariable("NEEDLE", opts.DockerBuildSecrets[0]).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `grep -rlF -- "$NEEDLE" /image /image.tar; grep -qF "$1" /image.tar && echo hash-in-layers`, "sh", sha(buildToken)}).
		Stdout(ctx)
	if err != nil || out != "hash-in-layers\n" {
		return fmt.Errorf("the image: wanted the secret's value nowhere and its hash in the layers, got %q, %v", out, explain(err))
	}
	return nil
}
