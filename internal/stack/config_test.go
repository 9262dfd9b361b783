package stack

import (
	"strings"
	"testing"
	"time"
)

// validConfig mirrors the constructor's defaults.
func validConfig() Config {
	return Config{
		Project:      "commandcenter",
		BackendPath:  "backend",
		FrontendPath: "frontend",
		Images: Images{
			Postgres: "pgvector/pgvector:pg16", Redis: "redis:7-alpine", Python: "python:3.12-slim",
			Node: "node:22-alpine", Proxy: "nginxinc/nginx-unprivileged:alpine",
		},
		PostgresExtensions: []string{"vector"},
		Ports:              map[Service]int{Postgres: 5432, Redis: 6379, Backend: 8000, Frontend: 3000},
		RetryAttempts:      3,
		RetryBaseDelay:     "1s",
		Limits: Limits{
			PostgresMaxConnections: 100, PostgresSharedBuffers: "128MB",
			RedisMaxMemory: "256mb", RedisEvictionPolicy: "allkeys-lru",
			BackendWorkers: 1, NodeMaxOldSpaceMB: 512,
		},
		BackendHealthPath:  "/health",
		FrontendHealthPath: "/",
		FrontendMode:       FrontendDev,
	}
}

func TestValidateAcceptsDefaults(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("Validate() of the defaults = %v, want nil", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // empty: valid
	}{
		{"project upper case", func(c *Config) { c.Project = "MyApp" }, `--project "MyApp" is not a DNS label`},
		{"project underscore", func(c *Config) { c.Project = "my_app" }, `--project "my_app" is not a DNS label`},
		{"project empty", func(c *Config) { c.Project = "" }, `--project "" is not a DNS label`},
		{"project trailing dash", func(c *Config) { c.Project = "app-" }, `--project "app-" is not a DNS label`},
		{"project too long", func(c *Config) { c.Project = strings.Repeat("a", 64) }, `is not a DNS label`},
		{"project 63 chars", func(c *Config) { c.Project = strings.Repeat("a", 63) }, ""},
		{"project digits and dashes", func(c *Config) { c.Project = "team-42" }, ""},
		{"backend path absolute", func(c *Config) { c.BackendPath = "/backend" }, `--backend-path "/backend" must be a relative path inside --source`},
		{"frontend path escapes", func(c *Config) { c.FrontendPath = "../web" }, `--frontend-path "../web" must be a relative path inside --source`},
		{"nested paths", func(c *Config) { c.BackendPath, c.FrontendPath = "services/api", "./web" }, ""},
		{"empty image", func(c *Config) { c.Images.Redis = "" }, `--redis-image "" is not an image reference`},
		{"image with space", func(c *Config) { c.Images.Node = "node 22" }, `--node-image "node 22" is not an image reference`},
		{"no extension", func(c *Config) { c.PostgresExtensions = nil }, ""},
		{"two extensions", func(c *Config) { c.PostgresExtensions = []string{"vector", "pg_trgm"} }, ""},
		{"extension with a quote", func(c *Config) { c.PostgresExtensions = []string{`vector"; DROP`} }, `--postgres-extensions "vector\"; DROP" is not an extension name`},
		{"extension upper case", func(c *Config) { c.PostgresExtensions = []string{"Vector"} }, `--postgres-extensions "Vector" is not an extension name`},
		{"extension empty asks for none", func(c *Config) { c.PostgresExtensions = []string{""} }, ""},
		{"extension too long", func(c *Config) { c.PostgresExtensions = []string{strings.Repeat("x", 64)} }, `is not an extension name`},
		{"extension twice", func(c *Config) { c.PostgresExtensions = []string{"vector", "vector"} }, `--postgres-extensions names "vector" twice`},
		{"port zero", func(c *Config) { c.Ports[Postgres] = 0 }, "--postgres-port 0 is out of range: want 1-65535"},
		{"port too high", func(c *Config) { c.Ports[Redis] = 70000 }, "--redis-port 70000 is out of range: want 1-65535"},
		{"privileged port", func(c *Config) { c.Ports[Frontend] = 80 }, "--frontend-port 80 is a privileged port"},
		{"lowest unprivileged port", func(c *Config) { c.Ports[Frontend] = 1024 }, ""},
		{"highest port", func(c *Config) { c.Ports[Frontend] = 65535 }, ""},
		{"duplicate ports", func(c *Config) { c.Ports[Frontend] = 5432 }, "--frontend-port 5432 is also --postgres-port"},
		{"no attempts", func(c *Config) { c.RetryAttempts = 0 }, "--retry-attempts 0 is out of range: want 1-10"},
		{"too many attempts", func(c *Config) { c.RetryAttempts = 11 }, "--retry-attempts 11 is out of range"},
		{"delay without unit", func(c *Config) { c.RetryBaseDelay = "5" }, `--retry-base-delay "5" is not a Go duration`},
		{"negative delay", func(c *Config) { c.RetryBaseDelay = "-1s" }, `--retry-base-delay "-1s"`},
		{"delay over cap", func(c *Config) { c.RetryBaseDelay = "31s" }, `--retry-base-delay "31s"`},
		{"delay in ms", func(c *Config) { c.RetryBaseDelay = "250ms" }, ""},
		{"max connections", func(c *Config) { c.Limits.PostgresMaxConnections = 0 }, "--postgres-max-connections 0 is out of range"},
		{"shared buffers unit", func(c *Config) { c.Limits.PostgresSharedBuffers = "128mb" }, `--postgres-shared-buffers "128mb" is not a PostgreSQL memory size`},
		{"shared buffers plain", func(c *Config) { c.Limits.PostgresSharedBuffers = "16384" }, ""},
		{"redis memory", func(c *Config) { c.Limits.RedisMaxMemory = "lots" }, `--redis-max-memory "lots" is not a Redis memory size`},
		{"redis memory unlimited", func(c *Config) { c.Limits.RedisMaxMemory = "0" }, ""},
		{"redis memory 1GB", func(c *Config) { c.Limits.RedisMaxMemory = "1GB" }, ""},
		{"eviction policy", func(c *Config) { c.Limits.RedisEvictionPolicy = "lru" }, `--redis-eviction-policy "lru" is unknown: want one of noeviction, allkeys-lru`},
		{"workers", func(c *Config) { c.Limits.BackendWorkers = 0 }, "--backend-workers 0 is out of range: want 1-64"},
		{"node memory", func(c *Config) { c.Limits.NodeMaxOldSpaceMB = 10 }, "--node-max-old-space-size 10 is out of range: want 64-65536 (MB)"},
		{"empty backend command", func(c *Config) { c.BackendCommand = []string{""} }, "--backend-command must start with a program name"},
		{"frontend command", func(c *Config) { c.FrontendCommand = []string{"npm", "run", "dev"} }, ""},
		{"api url scheme", func(c *Config) { c.APIURL = "localhost:8000" }, `--api-url "localhost:8000" is not an http(s) URL`},
		{"api url", func(c *Config) { c.APIURL = "https://api.example.com" }, ""},
		{"env items", func(c *Config) { c.BackendEnv = []string{"LOG_LEVEL=debug", "EMPTY=", "EQ=a=b"} }, ""},
		{"env item without =", func(c *Config) { c.BackendEnv = []string{"A=1", "sk_live_123"} }, "--backend-env item 2 has no '=': write KEY=VALUE"},
		{"env item bad name", func(c *Config) { c.FrontendEnv = []string{"1X=2"} }, `--frontend-env item 1: "1X" is not a variable name`},
		{"env item reserved", func(c *Config) { c.BackendEnv = []string{"DATABASE_URL=postgres://x"} }, "--backend-env item 1: DATABASE_URL is set by the module and cannot be changed"},
		{"env item module prefix", func(c *Config) { c.BackendEnv = []string{"COMMANDCENTER_LOG_DIR=/tmp"} }, "COMMANDCENTER_LOG_DIR is set by the module"},
		{"env item frontend reserved", func(c *Config) { c.FrontendEnv = []string{"VITE_API_BASE_URL=http://x"} }, "VITE_API_BASE_URL is set by the module"},
		{"env item frontend VITE", func(c *Config) { c.FrontendEnv = []string{"VITE_TITLE=Shop"} }, ""},
		{"health path relative", func(c *Config) { c.BackendHealthPath = "health" }, `--backend-health-path "health" must be a URL path starting with '/'`},
		{"health path quote", func(c *Config) { c.FrontendHealthPath = "/x'y" }, `--frontend-health-path "/x'y" must be a URL path`},
		{"health path query", func(c *Config) { c.BackendHealthPath = "/api/health?full=1" }, ""},
		{"frontend mode", func(c *Config) { c.FrontendMode = "prod" }, `--frontend-mode "prod" is unknown: want dev`},
		{"frontend static", func(c *Config) { c.FrontendMode = FrontendStatic }, ""},
		{"static with dev command", func(c *Config) { c.FrontendMode, c.FrontendCommand = FrontendStatic, []string{"vite"} }, "--frontend-command runs the dev server"},
		{"empty migrate", func(c *Config) { c.BackendMigrate = []string{" "} }, "--backend-migrate must start with a program name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("Validate() = nil, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Project = "Bad"
	c.Ports[Redis] = 0
	c.Limits.BackendWorkers = 100
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want three problems")
	}
	for _, want := range []string{"--project", "--redis-port", "--backend-workers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to name %s", err, want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	c := validConfig()
	c.RetryBaseDelay = "1500ms"
	got, err := c.RetryDelay()
	if err != nil || got != 1500*time.Millisecond {
		t.Errorf("RetryDelay() = %v, %v; want 1.5s", got, err)
	}
}

func TestPublicAPIURL(t *testing.T) {
	c := validConfig()
	c.Ports[Backend] = 9000
	if got, want := c.PublicAPIURL(), "http://localhost:9000"; got != want {
		t.Errorf("PublicAPIURL() = %q, want %q", got, want)
	}
	c.APIURL = "https://api.example.com"
	if got, want := c.PublicAPIURL(), "https://api.example.com"; got != want {
		t.Errorf("PublicAPIURL() with --api-url = %q, want %q", got, want)
	}
}

func TestValidateHost(t *testing.T) {
	for _, host := range []string{"localhost", "db.internal", "192.0.2.10", "[::1]"} {
		if err := ValidateHost(host); err != nil {
			t.Errorf("ValidateHost(%q) = %v, want nil", host, err)
		}
	}
	for _, host := range []string{"", "a b", "db/x", "user@db", "db:5432", "db?x"} {
		if err := ValidateHost(host); err == nil || !strings.Contains(err.Error(), "--host") {
			t.Errorf("ValidateHost(%q) = %v, want an error naming --host", host, err)
		}
	}
}

func TestSystemPackages(t *testing.T) {
	for _, tc := range []struct {
		pkgs []string
		ok   bool
	}{
		{nil, true},
		{[]string{"gcc", "libpq-dev", "g++", "libpq-dev=15.10-0+deb12u1"}, true},
		{[]string{"gcc; rm -rf /"}, false},
		{[]string{"-y"}, false},
		{[]string{""}, false},
	} {
		c := validConfig()
		c.SystemPackages = tc.pkgs
		err := c.Validate()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "--backend-system-packages")) {
			t.Errorf("Validate(system packages %q) = %v, want ok=%v naming the flag", tc.pkgs, err, tc.ok)
		}
	}
}
