package stack

import (
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var givenSecrets = SecretFiles{
	DBPassword:    "/run/secrets/db-password",
	RedisPassword: "/run/secrets/redis-password",
	SecretKey:     "/run/secrets/secret-key",
}

var generatedSecrets = SecretFiles{
	DBPassword:            GeneratedDBDir + "/db-password",
	GenerateDBPassword:    true,
	RedisPassword:         GeneratedRedisDir + "/redis-password",
	GenerateRedisPassword: true,
	SecretKey:             StateDir + "/secret-key",
	GenerateSecretKey:     true,
}

func TestCommand(t *testing.T) {
	c := validConfig()
	tests := []struct {
		service Service
		want    []string
	}{
		{Postgres, []string{"/usr/local/bin/commandcenter-run", "postgres", "/usr/local/bin/commandcenter-postgres",
			"-c", "max_connections=100", "-c", "shared_buffers=128MB"}},
		{Redis, []string{"/usr/local/bin/commandcenter-run", "redis", "/usr/local/bin/commandcenter-redis",
			"--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"}},
		{Backend, []string{"/usr/local/bin/commandcenter-run", "backend", "/usr/local/bin/commandcenter-backend-env",
			"/usr/local/bin/commandcenter-app", "--", "uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"}},
		{Frontend, []string{"/usr/local/bin/commandcenter-run", "frontend",
			"./node_modules/.bin/vite", "--config", ".commandcenter/vite.config.mjs", "--host", "0.0.0.0", "--port", "3000", "--strictPort"}},
		{Proxy, []string{"/usr/local/bin/commandcenter-run", "proxy", "nginx", "-g", "daemon off;"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, c.Command(tt.service)); diff != "" {
			t.Errorf("Command(%s) mismatch (-want +got):\n%s", tt.service, diff)
		}
	}
}

func TestCommandOverrides(t *testing.T) {
	c := validConfig()
	c.BackendCommand = []string{"python3", "-m", "app.main"}
	c.FrontendCommand = []string{"npm", "run", "dev"}
	c.Limits.BackendWorkers = 4
	c.BackendMigrate = []string{"alembic", "upgrade", "head"}
	want := []string{"/usr/local/bin/commandcenter-run", "backend", "/usr/local/bin/commandcenter-backend-env", "/usr/local/bin/commandcenter-app",
		"--migrate", "3", "alembic", "upgrade", "head", "--", "python3", "-m", "app.main"}
	if diff := cmp.Diff(want, c.Command(Backend)); diff != "" {
		t.Errorf("Command(backend) with override mismatch (-want +got):\n%s", diff)
	}
	want = []string{"/usr/local/bin/commandcenter-run", "frontend", "npm", "run", "dev"}
	if diff := cmp.Diff(want, c.Command(Frontend)); diff != "" {
		t.Errorf("Command(frontend) with override mismatch (-want +got):\n%s", diff)
	}
	c.FrontendCommand, c.FrontendMode = nil, FrontendStatic
	want = []string{"/usr/local/bin/commandcenter-run", "frontend", "nginx", "-g", "daemon off;"}
	if diff := cmp.Diff(want, c.Command(Frontend)); diff != "" {
		t.Errorf("Command(static frontend) mismatch (-want +got):\n%s", diff)
	}
}

func TestBackendWorkers(t *testing.T) {
	c := validConfig()
	c.Limits.BackendWorkers = 4
	got := strings.Join(c.Command(Backend), " ")
	if !strings.HasSuffix(got, "--workers 4") {
		t.Errorf("Command(backend) = %q, want it to end in --workers 4", got)
	}
}

func TestHealthChecks(t *testing.T) {
	c := validConfig()
	for _, s := range Services {
		if len(c.HealthCheck(s)) == 0 {
			t.Errorf("HealthCheck(%s) is empty: the engine would only wait for the port", s)
		}
	}
	if got := c.HealthCheck(Proxy); got != nil {
		t.Errorf("HealthCheck(proxy) = %q, want none (the engine checks its ports)", got)
	}
	c.BackendHealthPath, c.FrontendHealthPath = "/api/ready", "/app/"
	for s, want := range map[Service]string{Backend: "http://127.0.0.1:8000/api/ready", Frontend: "http://127.0.0.1:3000/app/"} {
		if got := strings.Join(c.HealthCheck(s), " "); !strings.Contains(got, want) {
			t.Errorf("HealthCheck(%s) = %q, want it to GET %s", s, got, want)
		}
	}
	if got := strings.Join(c.HealthCheck(Frontend), " "); !strings.Contains(got, "statusCode < 400") {
		t.Errorf("HealthCheck(frontend) = %q, want a 4xx to count as unhealthy", got)
	}
	c.FrontendMode = FrontendStatic
	if diff := cmp.Diff([]string{"wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/app/"}, c.HealthCheck(Frontend)); diff != "" {
		t.Errorf("HealthCheck(static frontend) mismatch (-want +got):\n%s", diff)
	}
}

func TestEnv(t *testing.T) {
	c := validConfig()
	want := []EnvVar{
		{"COMMANDCENTER_PROJECT", "commandcenter"}, {"COMMANDCENTER_LOG_DIR", "/var/log/commandcenter"},
		{"COMMANDCENTER_STOP_SIGNAL", "TERM"}, {"COMMANDCENTER_STOP_GRACE", "10"},
		{"PROJECT_NAME", "commandcenter"},
		{"DB_HOST", "postgres"}, {"DB_PORT", "5432"}, {"DB_USER", "commandcenter"}, {"DB_NAME", "commandcenter"},
		{"DB_PASSWORD_FILE", "/run/secrets/db-password"},
		{"REDIS_HOST", "redis"}, {"REDIS_PORT", "6379"}, {"REDIS_PASSWORD_FILE", "/run/secrets/redis-password"},
		{"SECRET_KEY_FILE", "/run/secrets/secret-key"}, {"COMMANDCENTER_STATE_DIR", "/var/lib/commandcenter"},
		{"PYTHONUNBUFFERED", "1"}, {"PYTHONDONTWRITEBYTECODE", "1"},
	}
	if diff := cmp.Diff(want, c.Env(Backend, givenSecrets)); diff != "" {
		t.Errorf("Env(backend) mismatch (-want +got):\n%s", diff)
	}
	want = []EnvVar{
		{"COMMANDCENTER_PROJECT", "commandcenter"}, {"COMMANDCENTER_LOG_DIR", "/var/log/commandcenter"},
		{"COMMANDCENTER_STOP_SIGNAL", "TERM"}, {"COMMANDCENTER_STOP_GRACE", "10"},
		{"VITE_API_BASE_URL", "http://localhost:8000"}, {"BACKEND_URL", "http://backend:8000"},
		{"NODE_OPTIONS", "--max-old-space-size=512"}, {"HOST", "0.0.0.0"}, {"PORT", "3000"},
	}
	if diff := cmp.Diff(want, c.Env(Frontend, givenSecrets)); diff != "" {
		t.Errorf("Env(frontend) mismatch (-want +got):\n%s", diff)
	}
	c.PostgresMajor = "16"
	want = []EnvVar{
		{"COMMANDCENTER_PROJECT", "commandcenter"}, {"COMMANDCENTER_LOG_DIR", "/var/log/commandcenter"},
		{"COMMANDCENTER_STOP_SIGNAL", "INT"}, {"COMMANDCENTER_STOP_GRACE", "10"},
		{"PGDATA", "/var/lib/postgresql/data"}, {"POSTGRES_USER", "commandcenter"}, {"POSTGRES_DB", "commandcenter"},
		{"POSTGRES_PASSWORD_FILE", "/run/secrets/db-password"},
		{"COMMANDCENTER_PG_MAJOR", "16"}, {"COMMANDCENTER_PG_IMAGE", "pgvector/pgvector:pg16"},
		{"COMMANDCENTER_PG_EXTENSIONS", "vector"}, {"COMMANDCENTER_PG_SUPERUSER", "postgres"},
		{"POSTGRES_INITDB_ARGS", "--encoding=UTF8 --locale=C"},
		{"COMMANDCENTER_PG_TEMPLATE", "/usr/share/commandcenter/pg-template"},
		{"COMMANDCENTER_PG_ROLE_PENDING_FILE", "/var/lib/postgresql/data/commandcenter/password-pending"},
	}
	if diff := cmp.Diff(want, c.Env(Postgres, givenSecrets)); diff != "" {
		t.Errorf("Env(postgres) mismatch (-want +got):\n%s", diff)
	}
}

func TestEnvMarksGeneratedSecrets(t *testing.T) {
	c := validConfig()
	pg := c.Env(Postgres, generatedSecrets)
	if !contains(pg, EnvVar{"COMMANDCENTER_GENERATE_DB_PASSWORD", "1"}) {
		t.Errorf("Env(postgres) = %v, want COMMANDCENTER_GENERATE_DB_PASSWORD=1", pg)
	}
	backend := c.Env(Backend, generatedSecrets)
	if !contains(backend, EnvVar{"COMMANDCENTER_GENERATE_SECRET_KEY", "1"}) {
		t.Errorf("Env(backend) = %v, want COMMANDCENTER_GENERATE_SECRET_KEY=1", backend)
	}
	redis := c.Env(Redis, generatedSecrets)
	if !contains(redis, EnvVar{"COMMANDCENTER_GENERATE_REDIS_PASSWORD", "1"}) {
		t.Errorf("Env(redis) = %v, want COMMANDCENTER_GENERATE_REDIS_PASSWORD=1: Redis is never left without a password", redis)
	}
	for _, env := range [][]EnvVar{redis, backend} {
		if !contains(env, EnvVar{"REDIS_PASSWORD_FILE", GeneratedRedisDir + "/redis-password"}) {
			t.Errorf("env %v, want REDIS_PASSWORD_FILE naming the generated password", env)
		}
	}
	for _, s := range Services {
		for _, e := range c.Env(s, givenSecrets) {
			if strings.HasPrefix(e.Name, "COMMANDCENTER_GENERATE_") {
				t.Errorf("Env(%s) has %s although every secret was given", s, e.Name)
			}
		}
	}
}

// secretish matches the names of variables that would carry a secret.
var secretish = regexp.MustCompile(`PASSWORD|SECRET|TOKEN|_KEY|_URL$|AUTH`)

// TestEnvCarriesNoSecret is the module's secret policy for environment
// variables: a variable about a secret only names the file that holds it.
// The URLs that embed credentials (DATABASE_URL, REDIS_URL) are built inside
// the container by the backend-env script, never here.
func TestEnvCarriesNoSecret(t *testing.T) {
	c := validConfig()
	allowedURLs := map[string]bool{"VITE_API_BASE_URL": true, "BACKEND_URL": true}
	for _, secrets := range []SecretFiles{givenSecrets, generatedSecrets} {
		for _, s := range Logged {
			for _, e := range c.Env(s, secrets) {
				if !secretish.MatchString(e.Name) || allowedURLs[e.Name] || strings.HasPrefix(e.Name, "COMMANDCENTER_GENERATE_") {
					continue
				}
				if !strings.HasSuffix(e.Name, "_FILE") || !path.IsAbs(e.Value) {
					t.Errorf("%s: %s=%q looks like a secret in plain text; pass a *_FILE path instead", s, e.Name, e.Value)
				}
			}
		}
	}
}

// TestCommandsCarryNoSecretFlag guards the argv of every service: no flag
// that takes a secret value (--requirepass, password=) may appear there.
func TestCommandsCarryNoSecretFlag(t *testing.T) {
	c := validConfig()
	for _, s := range Logged {
		argv := strings.ToLower(strings.Join(c.Command(s), " "))
		for _, bad := range []string{"requirepass", "password", "secret", "--auth"} {
			if strings.Contains(argv, bad) {
				t.Errorf("Command(%s) = %q mentions %q: secrets must come from files", s, argv, bad)
			}
		}
	}
}

func contains(env []EnvVar, want EnvVar) bool {
	for _, e := range env {
		if e == want {
			return true
		}
	}
	return false
}

func TestEnvAsksForNoExtensionWithAnEmptyName(t *testing.T) {
	c := validConfig()
	c.PostgresExtensions = []string{""}
	if env := c.Env(Postgres, givenSecrets); !contains(env, EnvVar{"COMMANDCENTER_PG_EXTENSIONS", ""}) {
		t.Errorf("Env(postgres) = %v, want COMMANDCENTER_PG_EXTENSIONS empty for --postgres-extensions \"\"", env)
	}
}
