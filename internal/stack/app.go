package stack

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The app's own configuration: its environment, health paths, migration
// step and the frontend's mode.

// Frontend modes.
const (
	// FrontendDev serves the source with the Vite dev server.
	FrontendDev = "dev"
	// FrontendStatic builds the app (npm run build) and serves dist/ with nginx.
	FrontendStatic = "static"
)

// StaticDir is where nginx serves the built frontend from in static mode.
const StaticDir = "/usr/share/nginx/html"

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// moduleOwnedEnv lists, per service, the variables the module sets at run
// time besides those of Env: the backend's launcher exports the URLs and
// the key it builds from the secret files.
var moduleOwnedEnv = map[Service][]string{
	Backend: {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"},
}

// ReservedEnv lists the variables of service s that the app's own
// configuration may not set: those the module sets, in either frontend
// mode and with every secret generated, and PATH.
func (c Config) ReservedEnv(s Service) []string {
	names := []string{"PATH"}
	dev := c
	dev.FrontendMode = FrontendDev
	for _, e := range dev.moduleEnv(s, Given{BackendEnvFile: true}.SecretFiles()) {
		names = append(names, e.Name)
	}
	names = append(names, moduleOwnedEnv[s]...)
	slices.Sort(names)
	return slices.Compact(names)
}

// checkEnvName explains why name may not be set in service s's environment.
func (c Config) checkEnvName(s Service, name string) error {
	switch {
	case !envName.MatchString(name):
		return fmt.Errorf("%q is not a variable name: use letters, digits and '_', not starting with a digit", name)
	case strings.HasPrefix(name, "COMMANDCENTER_") || slices.Contains(c.ReservedEnv(s), name):
		return fmt.Errorf("%s is set by the module and cannot be changed", name)
	}
	return nil
}

// validateEnvItems checks KEY=VALUE items. Errors name an item by its
// position and name, never by its value, which may be private.
func (c Config) validateEnvItems(flag string, s Service, items []string) error {
	var errs []error
	for i, item := range items {
		name, _, ok := strings.Cut(item, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("%s item %d has no '=': write KEY=VALUE", flag, i+1))
			continue
		}
		if err := c.checkEnvName(s, name); err != nil {
			errs = append(errs, fmt.Errorf("%s item %d: %w", flag, i+1, err))
		}
	}
	return errors.Join(errs...)
}

// AppEnv is the app's own environment for service s, from --backend-env
// or --frontend-env; the items are valid once Validate passed.
func (c Config) AppEnv(s Service) []EnvVar {
	items := map[Service][]string{Backend: c.BackendEnv, Frontend: c.FrontendEnv}[s]
	if IsWorker(s) {
		items = c.BackendEnv
	}
	env := make([]EnvVar, 0, len(items))
	for _, item := range items {
		name, value, _ := strings.Cut(item, "=")
		env = append(env, EnvVar{name, value})
	}
	return env
}

func validateHealthPath(flag, p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\n#'\"\\") {
		return fmt.Errorf("%s %q must be a URL path starting with '/', such as /health or /api/health?full=1", flag, p)
	}
	return nil
}

func (c Config) validateFrontendMode() error {
	if c.FrontendMode == FrontendDev || c.FrontendMode == FrontendStatic {
		return nil
	}
	return fmt.Errorf("--frontend-mode %q is unknown: want %s (the Vite dev server) or %s (npm run build, served by nginx)", c.FrontendMode, FrontendDev, FrontendStatic)
}

// Static says whether the frontend is built and served by nginx.
func (c Config) Static() bool {
	return c.FrontendMode == FrontendStatic
}

// User is who service s runs as in this configuration: as User(s), but
// the frontend as the user of its own image, when FrontendImage.User is
// set, the static frontend by nginx, as the nginx user, and the backend
// and its workers as the user of the backend's own image, when
// BackendUser is set.
func (c Config) User(s Service) string {
	switch {
	case s == Frontend && c.FrontendImage.User != "":
		return c.FrontendImage.User
	case s == Frontend && c.Static():
		return User(Proxy)
	case (s == Backend || IsWorker(s)) && c.BackendUser != "":
		return c.BackendUser
	}
	return User(s)
}

// HealthPath is the path whose GET tells whether the backend or the
// frontend is healthy.
func (c Config) HealthPath(s Service) string {
	if s == Backend {
		return c.BackendHealthPath
	}
	return c.FrontendHealthPath
}

// StaticSiteConfig renders the nginx.conf that serves the built frontend
// on its port as a non-root user: every path the app does not have falls
// back to index.html (client-side routes), hashed assets are cached for a
// year, and text is gzipped. Everything nginx writes is in /tmp.
func StaticSiteConfig() string {
	return fmt.Sprintf(`# Rendered by the commandcenter Dagger module: the built frontend.
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    sendfile on;
    server_tokens off;
    gzip on;
    gzip_vary on;
    gzip_min_length 256;
    gzip_types text/plain text/css application/javascript application/json image/svg+xml application/xml;

    server {
        listen %d;
        root %s;

        location /assets/ {
            add_header Cache-Control "public, max-age=31536000, immutable";
            try_files $uri =404;
        }
        location / {
            add_header Cache-Control "no-cache";
            try_files $uri $uri/ /index.html;
        }
    }
}
`, InternalPort(Frontend), StaticDir)
}

// frontendManifests are the files the frontend's install reads from the
// app: they are copied before the install, the rest of the source after it.
var frontendManifests = []string{"package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "pnpm-workspace.yaml"}

// PackageManagerConfigs may name registries and hold tokens: they are in
// place for the install only and never copied into the image.
var PackageManagerConfigs = []string{".npmrc", ".yarnrc", ".yarnrc.yml"}

// InstallFiles picks, from the names in the frontend's directory, the
// manifests to copy before the install and the package-manager
// configurations to mount for it.
func InstallFiles(entries []string) (manifests, configs []string) {
	for _, name := range entries {
		switch {
		case slices.Contains(frontendManifests, name):
			manifests = append(manifests, name)
		case slices.Contains(PackageManagerConfigs, name):
			configs = append(configs, name)
		}
	}
	return manifests, configs
}
