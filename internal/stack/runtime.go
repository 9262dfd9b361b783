package stack

import (
	"fmt"
	"strconv"
)

// Paths inside the containers.
const (
	// ScriptDir holds the module's launch scripts (see package scripts).
	ScriptDir = "/usr/local/bin"
	// LogDir is where each service's output is copied, on a per-project volume.
	LogDir = "/var/log/commandcenter"
	// SecretDir holds the secrets given to the module, mounted as files.
	SecretDir = "/run/secrets"
	// GeneratedDBDir holds the generated database password, on a per-project volume.
	GeneratedDBDir = "/var/lib/commandcenter-db"
	// GeneratedRedisDir holds the generated Redis password, on a per-project volume.
	GeneratedRedisDir = "/var/lib/commandcenter-redis"
	// StateDir is the backend's persistent directory, on a per-project volume;
	// it holds the generated secret key.
	StateDir = "/var/lib/commandcenter"
	// PGData is the postgres data directory, on a per-project volume.
	PGData = "/var/lib/postgresql/data"
	// AppDir is where the backend and frontend sources are copied.
	AppDir = "/app"
	// VenvDir holds the backend's Python dependencies.
	VenvDir = "/opt/venv"
)

// The database role and database the stack creates. DBUser is the app's
// role, which owns DBName and is no superuser; Superuser is the module's
// own, which its scripts use over the local socket only (see
// internal/scripts/pg-setup.sh).
const (
	DBUser    = "commandcenter"
	DBName    = "commandcenter"
	Superuser = "postgres"
)

// InitdbArgs are initdb's options for a new cluster: the C collation,
// which compares bytes and so sorts alike under every C library (glibc,
// musl), as CloudNativePG's default. A later change of image family then
// invalidates no text index.
const InitdbArgs = "--encoding=UTF8 --locale=C"

// Script is the path of one of the module's launch scripts.
func Script(name string) string {
	return ScriptDir + "/commandcenter-" + name
}

// SecretFiles says where each secret is read from inside the containers, and
// which ones the services generate on first start.
type SecretFiles struct {
	DBPassword            string
	GenerateDBPassword    bool
	RedisPassword         string
	GenerateRedisPassword bool
	SecretKey             string
	GenerateSecretKey     bool
	// PostgresGeneratesSecretKey: with a store, postgres generates the
	// SECRET_KEY on the database password's volume, so that both come back
	// with a restore.
	PostgresGeneratesSecretKey bool
	// BackendEnvFile is empty when no dotenv file was given.
	BackendEnvFile string
}

// EnvVar is one environment variable of a service container. Values are
// never secrets: secrets are files, named by the *_FILE variables.
type EnvVar struct {
	Name, Value string
}

// Command is the full argv of a service: the log launcher, then the server.
func (c Config) Command(s Service) []string {
	run := []string{Script("run"), string(s)}
	switch s {
	case Postgres:
		return append(run, Script("postgres"),
			"-c", "max_connections="+strconv.Itoa(c.Limits.PostgresMaxConnections),
			"-c", "shared_buffers="+c.Limits.PostgresSharedBuffers)
	case Redis:
		return append(run, Script("redis"),
			"--maxmemory", c.Limits.RedisMaxMemory,
			"--maxmemory-policy", c.Limits.RedisEvictionPolicy)
	case Backend:
		run = append(run, Script("backend-env"), Script("app"))
		if len(c.BackendMigrate) > 0 {
			run = append(run, "--migrate", strconv.Itoa(len(c.BackendMigrate)))
			run = append(run, c.BackendMigrate...)
		}
		return append(append(run, "--"), c.backendServer()...)
	case Frontend:
		if c.Static() {
			return append(run, "nginx", "-g", "daemon off;")
		}
		return append(run, c.frontendServer()...)
	case Proxy:
		return append(run, "nginx", "-g", "daemon off;")
	}
	return append(run, c.workerCommand(s)...)
}

func (c Config) backendServer() []string {
	if len(c.BackendCommand) > 0 {
		return c.BackendCommand
	}
	return []string{"uvicorn", "app.main:app", "--host", "0.0.0.0",
		"--port", strconv.Itoa(InternalPort(Backend)),
		"--workers", strconv.Itoa(c.Limits.BackendWorkers)}
}

// frontendServer is --frontend-command, or the ENTRYPOINT and CMD of the
// frontend's own image, or the Vite dev server.
func (c Config) frontendServer() []string {
	if len(c.FrontendCommand) > 0 {
		return c.FrontendCommand
	}
	if c.Dockerfile.Builds(Frontend) {
		return c.FrontendImage.Command
	}
	return []string{"./node_modules/.bin/vite", "--config", ViteConfig, "--host", "0.0.0.0",
		"--port", strconv.Itoa(InternalPort(Frontend)), "--strictPort"}
}

// ViteConfig is the Vite configuration the default frontend command uses,
// relative to the app: it loads the app's own configuration and lets the
// dev server answer any host name, so a consumer may bind the frontend
// under any alias (Vite 5.4.12 and later answer 403 to unknown hosts).
const ViteConfig = ".commandcenter/vite.config.mjs"

// ViteConfigSource is the contents of ViteConfig.
const ViteConfigSource = `// Written by the commandcenter Dagger module: the app's Vite configuration,
// answering any host name, as a dev server reached through service bindings must.
import { loadConfigFromFile } from "vite";

export default async (env) => {
  const loaded = await loadConfigFromFile(env, undefined, process.cwd());
  const config = loaded ? loaded.config : {};
  return { ...config, server: { ...config.server, allowedHosts: true } };
};
`

// HealthCheck is the command the engine runs inside a service's container
// until it succeeds, before the service counts as started. The proxy has
// none: the engine then waits for its ports instead.
func (c Config) HealthCheck(s Service) []string {
	url := func(s Service) string {
		return fmt.Sprintf("http://127.0.0.1:%d%s", InternalPort(s), c.HealthPath(s))
	}
	switch {
	case s == Postgres && c.Store.Enabled():
		// ready once the store holds a base backup that this copy's
		// archived WAL follows: a session killed from then on is restorable
		return []string{"sh", "-c", "pg_isready -q -h 127.0.0.1 -p 5432 -U " + DBUser + " -d " + DBName + " && test -e " + StoreBasedMarker}
	case s == Postgres:
		// ready once a new cluster's app role has its password
		return []string{"sh", "-c", "pg_isready -q -h 127.0.0.1 -p 5432 -U " + DBUser + " -d " + DBName + " && test ! -e " + PasswordPending}
	case s == Redis:
		return []string{"sh", "-c", `REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE") && export REDISCLI_AUTH && redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG`}
	case s == Backend:
		return []string{"python3", "-c", "import urllib.request; urllib.request.urlopen('" + url(s) + "', timeout=2)"}
	case s == Frontend && c.Static():
		return []string{"wget", "-q", "-O", "/dev/null", url(s)}
	case s == Frontend && c.Dockerfile.Builds(Frontend):
		return c.frontendImageCheck(url(s))
	case s == Frontend:
		return nodeCheck(url(s))
	case IsWorker(s):
		return c.workerHealthCheck(s)
	}
	return nil
}

// Env is the environment of a service's container: the module's, then the
// app's own items (--backend-env, --frontend-env).
func (c Config) Env(s Service, secrets SecretFiles) []EnvVar {
	return append(c.moduleEnv(s, secrets), c.AppEnv(s)...)
}

// moduleEnv is the part of a service's environment that the module sets.
func (c Config) moduleEnv(s Service, secrets SecretFiles) []EnvVar {
	env := []EnvVar{{"COMMANDCENTER_PROJECT", c.Project}, {"COMMANDCENTER_LOG_DIR", LogDir},
		{"COMMANDCENTER_STOP_SIGNAL", c.StopSignal(s)},
		{"COMMANDCENTER_STOP_GRACE", strconv.Itoa(int(c.StopGrace(s).Seconds()))}}
	switch s {
	case Postgres:
		env = append(env, EnvVar{"PGDATA", PGData}, EnvVar{"POSTGRES_USER", DBUser},
			EnvVar{"POSTGRES_DB", DBName}, EnvVar{"POSTGRES_PASSWORD_FILE", secrets.DBPassword},
			EnvVar{"COMMANDCENTER_PG_MAJOR", c.PostgresMajor}, EnvVar{"COMMANDCENTER_PG_IMAGE", c.Images.Postgres},
			EnvVar{"COMMANDCENTER_PG_EXTENSIONS", c.extensions()},
			EnvVar{"COMMANDCENTER_PG_SUPERUSER", Superuser}, EnvVar{"POSTGRES_INITDB_ARGS", InitdbArgs})
		env = appendIf(env, secrets.GenerateDBPassword, "COMMANDCENTER_GENERATE_DB_PASSWORD")
		if c.UsesTemplate() {
			env = append(env, EnvVar{"COMMANDCENTER_PG_TEMPLATE", PGTemplate},
				EnvVar{"COMMANDCENTER_PG_ROLE_PENDING_FILE", PasswordPending})
		}
		if secrets.PostgresGeneratesSecretKey {
			env = append(env, EnvVar{"COMMANDCENTER_GENERATE_SECRET_KEY", "1"}, EnvVar{"SECRET_KEY_FILE", secrets.SecretKey})
		}
		if t, err := c.Store.Target(); c.Store.Enabled() && err == nil {
			env = append(env, c.StoreEnv(t, c.StoreGiven)...)
			env = append(env, EnvVar{"COMMANDCENTER_BEFORE_STOP", Script("pg-store") + " flush"})
		}
	case Redis:
		env = append(env, EnvVar{"REDIS_PASSWORD_FILE", secrets.RedisPassword})
		env = appendIf(env, secrets.GenerateRedisPassword, "COMMANDCENTER_GENERATE_REDIS_PASSWORD")
	case Backend:
		env = append(env, c.backendEnv(secrets)...)
	case Proxy:
	case Frontend:
		if c.Static() {
			break
		}
		env = append(env, EnvVar{"VITE_API_BASE_URL", c.PublicAPIURL()},
			EnvVar{"BACKEND_URL", fmt.Sprintf("http://%s:%d", Backend, InternalPort(Backend))},
			EnvVar{"NODE_OPTIONS", "--max-old-space-size=" + strconv.Itoa(c.Limits.NodeMaxOldSpaceMB)},
			EnvVar{"HOST", "0.0.0.0"}, EnvVar{"PORT", strconv.Itoa(InternalPort(Frontend))})
	default:
		// A worker: the backend's environment, and a supervisor that
		// restarts its process when it exits after its start.
		env = append(env, c.backendEnv(secrets)...)
		env = append(env, EnvVar{"COMMANDCENTER_WORKER", "1"})
	}
	return env
}

func (c Config) backendEnv(secrets SecretFiles) []EnvVar {
	env := []EnvVar{
		{"PROJECT_NAME", c.Project},
		{"DB_HOST", string(Postgres)}, {"DB_PORT", strconv.Itoa(InternalPort(Postgres))},
		{"DB_USER", DBUser}, {"DB_NAME", DBName}, {"DB_PASSWORD_FILE", secrets.DBPassword},
		{"REDIS_HOST", string(Redis)}, {"REDIS_PORT", strconv.Itoa(InternalPort(Redis))},
		{"REDIS_PASSWORD_FILE", secrets.RedisPassword},
		{"SECRET_KEY_FILE", secrets.SecretKey}, {"COMMANDCENTER_STATE_DIR", StateDir},
	}
	env = appendIf(env, secrets.GenerateSecretKey, "COMMANDCENTER_GENERATE_SECRET_KEY")
	if secrets.BackendEnvFile != "" {
		env = append(env, EnvVar{"COMMANDCENTER_ENV_FILE", secrets.BackendEnvFile})
	}
	return append(env, EnvVar{"PYTHONUNBUFFERED", "1"}, EnvVar{"PYTHONDONTWRITEBYTECODE", "1"})
}

// FrontendBuildEnv is the environment of the static frontend's build
// (npm run build): VITE_* variables are compiled into the app then.
func (c Config) FrontendBuildEnv() []EnvVar {
	env := []EnvVar{{"VITE_API_BASE_URL", c.PublicAPIURL()},
		{"NODE_OPTIONS", "--max-old-space-size=" + strconv.Itoa(c.Limits.NodeMaxOldSpaceMB)}}
	return append(env, c.AppEnv(Frontend)...)
}

// appendIf adds the flag variable name=1 when cond holds.
func appendIf(env []EnvVar, cond bool, name string) []EnvVar {
	if !cond {
		return env
	}
	return append(env, EnvVar{name, "1"})
}
