package stack

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnvErrorsNeverShowValues(t *testing.T) {
	c := validConfig()
	c.BackendEnv = []string{"sk_live_secret-value", "DATABASE_URL=postgres://u:secret-value@h/db", "9BAD=secret-value"}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors for every item")
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Errorf("Validate() = %q: an error shows an item's value", err)
	}
}

func TestReservedEnv(t *testing.T) {
	c := validConfig()
	backend := c.ReservedEnv(Backend)
	for _, name := range []string{"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DB_PASSWORD_FILE", "REDIS_PASSWORD_FILE", "PROJECT_NAME", "PATH"} {
		if !slices.Contains(backend, name) {
			t.Errorf("ReservedEnv(backend) = %v, want %s in it", backend, name)
		}
	}
	c.FrontendMode = FrontendStatic
	frontend := c.ReservedEnv(Frontend)
	for _, name := range []string{"VITE_API_BASE_URL", "BACKEND_URL", "NODE_OPTIONS", "PORT"} {
		if !slices.Contains(frontend, name) {
			t.Errorf("ReservedEnv(frontend) in static mode = %v, want %s in it", frontend, name)
		}
	}
}

func TestAppEnvFollowsTheModules(t *testing.T) {
	c := validConfig()
	c.BackendEnv = []string{"LOG_LEVEL=debug", "DSN=a=b"}
	env := c.Env(Backend, givenSecrets)
	want := []EnvVar{{"LOG_LEVEL", "debug"}, {"DSN", "a=b"}}
	if diff := cmp.Diff(want, env[len(env)-2:]); diff != "" {
		t.Errorf("Env(backend) ends with (-want +got):\n%s", diff)
	}
}

func TestStaticFrontend(t *testing.T) {
	c := validConfig()
	c.FrontendMode = FrontendStatic
	c.FrontendEnv = []string{"VITE_TITLE=Shop"}
	if got := c.User(Frontend); got != "nginx" {
		t.Errorf("User(static frontend) = %q, want nginx", got)
	}
	if got := c.User(Backend); got != User(Backend) {
		t.Errorf("User(backend) = %q, want %q", got, User(Backend))
	}
	want := []EnvVar{{"VITE_API_BASE_URL", "http://localhost:8000"}, {"NODE_OPTIONS", "--max-old-space-size=512"}, {"VITE_TITLE", "Shop"}}
	if diff := cmp.Diff(want, c.FrontendBuildEnv()); diff != "" {
		t.Errorf("FrontendBuildEnv() mismatch (-want +got):\n%s", diff)
	}
	for _, e := range c.Env(Frontend, givenSecrets) {
		if strings.HasPrefix(e.Name, "VITE_API") || e.Name == "NODE_OPTIONS" {
			t.Errorf("Env(static frontend) has %s: nginx needs no build variable", e.Name)
		}
	}
}

func TestStaticSiteConfig(t *testing.T) {
	conf := StaticSiteConfig()
	for _, want := range []string{
		"listen 3000;", "root /usr/share/nginx/html;", "try_files $uri $uri/ /index.html;",
		`add_header Cache-Control "public, max-age=31536000, immutable";`, "gzip on;", "pid /tmp/nginx.pid;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("StaticSiteConfig() lacks %q:\n%s", want, conf)
		}
	}
	if strings.Count(conf, "{") != strings.Count(conf, "}") {
		t.Errorf("StaticSiteConfig() has unbalanced braces:\n%s", conf)
	}
}
