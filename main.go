// Run one isolated CommandCenter app stack per project: PostgreSQL, Redis, a Python backend (FastAPI under uvicorn) and a Node frontend (Vite).
//
// Every process runs as a non-root user, secrets only ever reach the
// containers as files, and each service starts only once the engine's health
// check passes (pg_isready, redis-cli ping, GET /health, GET /). The stack is
// one service that publishes all four ports: `dagger call stack up`.
//
// Stop, Restart (in place), Status (JSON for programs), Health, Logs and
// Backup act on the project's running services from any terminal, whichever
// engine session runs them: `dagger call stop`. A project's service runs
// once, in one session: a second instance fails at once instead of sharing
// its data.
// Backup, Restore and Reset manage the data. Transient failures are retried
// with exponential backoff; bad input fails at once with an error that names
// the flag to fix.
//
// The engine has no CPU or memory limit for containers (Dagger v0.21), so the
// module sets the limits the software enforces itself: PostgreSQL's
// max_connections and shared_buffers, Redis's maxmemory, uvicorn's workers
// and Node's heap size.
package main

import (
	"errors"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// Commandcenter is one project's app stack.
type Commandcenter struct {
	// The project name: it namespaces volumes and keeps projects apart in one engine.
	Project string

	// +private
	Source *dagger.Directory
	// +private
	DBPassword *dagger.Secret
	// +private
	SecretKey *dagger.Secret
	// +private
	RedisPassword *dagger.Secret
	// +private
	BackendEnvFile *dagger.Secret
	// +private
	NpmToken *dagger.Secret
	// +private
	PipIndexURL *dagger.Secret
	// +private
	StoreCredentials *dagger.Secret
	// +private
	StoreCA *dagger.Secret
	// +private
	StoreKey *dagger.Secret
	// +private
	StoreService *dagger.Service
	// +private
	BuildSecrets []*dagger.Secret
	// Every other argument of New, in the form the pure logic validates and
	// renders: an option is a parameter of New and a field of stack.Config,
	// set once in New.
	// +private
	Settings settings
}

// settings holds the module's configuration between calls. The engine
// stores a private field as it is, so the pure logic's own type serves,
// wrapped in one of this package as the SDK needs.
type settings struct {
	stack.Config
	// WorkersRead: Config.Workers holds the workers (see withWorkers),
	// Config.BackendUser the backend's image's user, and
	// Config.FrontendImage what the frontend's image runs.
	WorkersRead bool
	// RootImage: the backend's own image runs as root (see dockerfileImage).
	RootImage bool
}

func New(
	// The app repository. The backend (requirements.txt, app/main.py) and the
	// frontend (package.json) are sub-directories of it. Default: the demo app
	// in this module's repository; from your app's directory, pass --source .
	// +defaultPath="/demo"
	// +ignore=[".git", "**/node_modules", "**/.venv", "**/__pycache__"]
	source *dagger.Directory,
	// Path of the backend inside source.
	// +default="backend"
	backendPath string,
	// Path of the frontend inside source.
	// +default="frontend"
	frontendPath string,
	// Instance name, a DNS label. Each project has its own volumes, data,
	// secrets and logs, and its own running services in one engine.
	// +default="commandcenter"
	project string,
	// PostgreSQL password, e.g. env:DB_PASSWORD, file:./db.pass or cmd:"pass show db".
	// Without it, a random one is generated on first start and kept with the
	// project's data.
	// +optional
	dbPassword *dagger.Secret,
	// The backend's SECRET_KEY. Without it, a random one is generated on first
	// start and kept with the project's backend state.
	// +optional
	secretKey *dagger.Secret,
	// Redis password (requirepass). Without it, a random one is generated on
	// first start and kept with the project's data.
	// +optional
	redisPassword *dagger.Secret,
	// PostgreSQL image, official-compatible (postgres:16-alpine for a smaller
	// one, without pgvector).
	// +default="pgvector/pgvector:pg16"
	postgresImage string,
	// Extensions the module creates, with its own superuser, in the app's
	// database (and template1) at the first start and whenever this list
	// changes; the app's role, which is no superuser, cannot create an
	// untrusted one such as vector itself. One the image lacks stops the
	// start, naming it. --postgres-extensions "" asks for none (for an image
	// without pgvector, such as postgres:16-alpine).
	// +default=["vector"]
	postgresExtensions []string,
	// Redis image.
	// +default="redis:7-alpine"
	redisImage string,
	// Python image the backend is built on.
	// +default="python:3.12-slim"
	pythonImage string,
	// Node image the frontend is built on.
	// +default="node:22-alpine"
	nodeImage string,
	// nginx image of the stack proxy; it must provide the stream module.
	// +default="nginxinc/nginx-unprivileged:alpine"
	proxyImage string,
	// Port the stack exposes for PostgreSQL (1024-65535).
	// +default=5432
	postgresPort int,
	// Port the stack exposes for Redis (1024-65535).
	// +default=6379
	redisPort int,
	// Port the stack exposes for the backend (1024-65535).
	// +default=8000
	backendPort int,
	// Port the stack exposes for the frontend (1024-65535).
	// +default=3000
	frontendPort int,
	// How many times to try starting a service before giving up (1-10).
	// +default=3
	retryAttempts int,
	// Wait after the first failed start, as a Go duration; it doubles after
	// each failure, with ±20% jitter, up to 30s.
	// +default="1s"
	retryBaseDelay string,
	// PostgreSQL max_connections.
	// +default=100
	postgresMaxConnections int,
	// PostgreSQL shared_buffers (units kB, MB, GB, TB).
	// +default="128MB"
	postgresSharedBuffers string,
	// Redis maxmemory (e.g. 256mb, 1gb; 0 means no limit).
	// +default="256mb"
	redisMaxMemory string,
	// Redis maxmemory-policy. noeviction, Redis's own default, refuses
	// writes once maxmemory is reached and deletes nothing: keep it when
	// Redis holds a queue (Celery) or anything else you cannot lose. The
	// others (allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru,
	// volatile-lfu, volatile-random, volatile-ttl) silently delete keys to
	// make room, queued tasks included: only for a cache.
	// +default="noeviction"
	redisEvictionPolicy string,
	// Number of uvicorn worker processes (not the app's workers: see
	// --procfile).
	// +default=1
	backendWorkers int,
	// Node's --max-old-space-size for the frontend, in MB (set through NODE_OPTIONS).
	// +default=512
	nodeMaxOldSpaceSize int,
	// Command that runs the backend server on port 8000, instead of
	// "uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers <backend-workers>".
	// +optional
	backendCommand []string,
	// Command that runs the frontend server on port 3000, instead of
	// "./node_modules/.bin/vite --host 0.0.0.0 --port 3000 --strictPort"
	// (or, with --frontend-dockerfile, the image's ENTRYPOINT and CMD).
	// +optional
	frontendCommand []string,
	// The backend's URL as a browser on the host reaches it, given to the
	// frontend as VITE_API_BASE_URL. Default: http://localhost:<backend-port>.
	// +optional
	apiUrl string,
	// The backend's own environment, as KEY=VALUE items, e.g.
	// LOG_LEVEL=debug,FEATURE_X=on. Variables the module sets
	// (DATABASE_URL, ...) are refused. For secrets, use --backend-env-file.
	// +optional
	backendEnv []string,
	// The frontend's own environment, as KEY=VALUE items; in static mode they
	// are set for the build, where Vite compiles VITE_* ones into the app.
	// +optional
	frontendEnv []string,
	// A dotenv file of variables for the backend's process, e.g.
	// file:./backend.env: KEY=VALUE lines, "export", quotes and # comments.
	// The launcher parses it (never as shell) and gives the variables to the
	// backend's process only; they are never in the container's definition.
	// +optional
	backendEnvFile *dagger.Secret,
	// Path whose GET answers 2xx when the backend is healthy.
	// +default="/health"
	backendHealthPath string,
	// Path whose GET answers below 400 when the frontend is healthy.
	// +default="/"
	frontendHealthPath string,
	// Command run before each start of the backend, with its environment,
	// e.g. alembic,upgrade,head. If it fails, the start fails with its
	// output and is not retried.
	// +optional
	backendMigrate []string,
	// dev: the Vite dev server. static: npm run build, then nginx serves
	// dist/ as uid 101, with the SPA fallback to index.html.
	// +default="dev"
	frontendMode string,
	// npm registry token, given to the frontend's install only as NPM_TOKEN,
	// which the app's .npmrc can name: //registry.example.com/:_authToken=${NPM_TOKEN}.
	// +optional
	npmToken *dagger.Secret,
	// Python package index URL, often with credentials, given to pip as
	// PIP_INDEX_URL for the backend's install only.
	// +optional
	pipIndexUrl *dagger.Secret,
	// A durable store for the project's data outside the engine, an S3
	// bucket and prefix: s3://BUCKET/PREFIX (AWS S3, Cloudflare R2, Google
	// Cloud Storage's S3 API, MinIO, versitygw, Garage, ...). pgBackRest
	// archives PostgreSQL's WAL there (at least every 60 s) with a base
	// backup at the first start and then every --store-backup-interval; a
	// start whose data volume is empty restores from it by itself. The
	// project's data is under PREFIX/<project>.
	// +optional
	store string,
	// The store's S3 endpoint, HOST[:PORT] or https://HOST[:PORT], e.g.
	// minio.internal:9000 or <account>.r2.cloudflarestorage.com. Default:
	// AWS S3 in --store-region. Only TLS: for a private certificate
	// authority, give --store-ca.
	// +optional
	storeEndpoint string,
	// The store's region, which signs the requests (auto for Cloudflare R2).
	// +default="us-east-1"
	storeRegion string,
	// path (https://HOST/BUCKET/KEY) or host (https://BUCKET.HOST/KEY).
	// Default: host for AWS, path for any other endpoint.
	// +optional
	storeUriStyle string,
	// The store's keys, as a dotenv file, e.g. file:./store.env with the
	// lines AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... (and
	// AWS_SESSION_TOKEN=... if needed). They reach pgBackRest and curl only
	// in their own process, never the container's definition.
	// +optional
	storeCredentials *dagger.Secret,
	// The certificate authority of a store with a private certificate, as
	// PEM, e.g. file:./ca.pem. Verification is never turned off.
	// +optional
	storeCa *dagger.Secret,
	// Encrypts everything in the store (pgBackRest's aes-256-cbc), e.g.
	// env:CC_STORE_KEY. Needed when the database password or the SECRET_KEY
	// is generated: the backups then carry them, so that they come back
	// with the data. Keep it safe: without it the store's copy cannot be
	// read, and it cannot be changed for an existing store.
	// +optional
	storeEncryptionKey *dagger.Secret,
	// An S3 service running in Dagger (e.g. MinIO or versitygw, for tests),
	// bound under the --store-endpoint host name. From the CLI, give
	// --store-endpoint a host the engine reaches instead: a host tunnel
	// (tcp://...) belongs to the session that made it.
	// +optional
	storeService *dagger.Service,
	// How long the project's lease in the store lasts without renewal (15-120): it is renewed
	// every fifth of it, its holder stops writing to the store after three quarters without
	// renewal, and a start on another engine waits this long (or the holder's, plus 5 s).
	// +default=60
	storeLeaseSeconds int,
	// Time between two base backups, a Go duration (at least 1m). A backup
	// is full when the last full one is seven intervals old (weekly with the
	// default), differential otherwise: the files changed since that full. The store keeps the last two full
	// backups, the differential ones that depend on them and the WAL from
	// the older one on; pgBackRest deletes what is older after each backup.
	// +default="24h"
	storeBackupInterval string,
	// The Procfile, in --source, that declares the app's workers: long-running
	// processes from the backend's image (a Celery worker and beat), one
	// `NAME: COMMAND` line each, the command run by sh, e.g.
	// "worker: celery -A app.tasks worker --loglevel=info". Default: the
	// backend's Procfile, if it has one. Its web and release entries are
	// not workers (see --backend-command and --backend-migrate). A comment
	// "# commandcenter-probe NAME: COMMAND" gives worker NAME a probe,
	// e.g. celery -A app.tasks inspect ping, that the start waits for and
	// health and status report. Each worker is a service of the project,
	// named NAME, in status, health, logs, restart and stop.
	// +optional
	procfile string,
	// System packages the backend's build needs, e.g. gcc,libpq-dev to
	// build psycopg2 from source: installed as root with the image's apk or
	// apt-get, before pip, in a layer the engine keeps until the list or
	// --python-image changes. They stay in the image.
	// +optional
	backendSystemPackages []string,
	// The backend's own Dockerfile, a path in --source, e.g.
	// backend/Dockerfile: the backend and its workers run from the image it
	// builds, with --source as the build's context (compose's `context: .`),
	// instead of the module's build on --python-image. The module still runs
	// the process its way (--backend-command, its supervisor, environment,
	// secret files and health check), as the image's own user; an image
	// whose user is root runs as the module's app user (10001), with its
	// working directory made readable to it.
	// +optional
	backendDockerfile string,
	// The arguments of the builds of --backend-dockerfile and
	// --frontend-dockerfile, KEY=VALUE items (their ARG instructions), e.g.
	// PIP_INDEX_URL=http://pypi.internal/simple/; both builds get them all.
	// They are in the image's history: give credentials as
	// --docker-build-secrets instead.
	// +optional
	dockerBuildArgs []string,
	// Secrets for the builds of --backend-dockerfile and
	// --frontend-dockerfile, e.g. env:PIP_TOKEN, which a RUN
	// --mount=type=secret,id=ID reads at /run/secrets/ID, ID being the
	// secret's name in Dagger. They are in no layer of the image.
	// +optional
	dockerBuildSecrets []*dagger.Secret,
	// The frontend's own Dockerfile, a path in --source, e.g.
	// frontend/Dockerfile, built as --backend-dockerfile is (--source as
	// its context, --docker-build-args, --docker-build-secrets), instead of
	// the module's build on --node-image. Its server is the image's
	// ENTRYPOINT and CMD (or --frontend-command), run by the module's
	// supervisor with the frontend's environment (PORT=3000, HOST,
	// VITE_API_BASE_URL, BACKEND_URL, --frontend-env): it must serve on port
	// 3000, and an image that exposes other ports only is refused. Its
	// health check GETs --frontend-health-path with the image's curl, wget,
	// node or python3 (an image with none is refused). It runs as the
	// image's own user; an image whose user is root runs as the module's
	// app user (10001), with its working directory made readable to it.
	// Not with --frontend-mode static.
	// +optional
	frontendDockerfile string,
) (*Commandcenter, error) {
	m := &Commandcenter{
		Project: project, Source: source,
		DBPassword: dbPassword, SecretKey: secretKey, RedisPassword: redisPassword,
		BackendEnvFile: backendEnvFile, NpmToken: npmToken, PipIndexURL: pipIndexUrl,
		StoreCredentials: storeCredentials, StoreCA: storeCa, StoreKey: storeEncryptionKey, StoreService: storeService,
		BuildSecrets: dockerBuildSecrets,
		Settings: settings{Config: stack.Config{
			Project:      project,
			BackendPath:  backendPath,
			FrontendPath: frontendPath,
			Images: stack.Images{
				Postgres: postgresImage, Redis: redisImage, Python: pythonImage,
				Node: nodeImage, Proxy: proxyImage,
			},
			Ports: map[stack.Service]int{
				stack.Postgres: postgresPort, stack.Redis: redisPort,
				stack.Backend: backendPort, stack.Frontend: frontendPort,
			},
			PostgresExtensions: postgresExtensions,
			RetryAttempts:      retryAttempts,
			RetryBaseDelay:     retryBaseDelay,
			Limits: stack.Limits{
				PostgresMaxConnections: postgresMaxConnections, PostgresSharedBuffers: postgresSharedBuffers,
				RedisMaxMemory: redisMaxMemory, RedisEvictionPolicy: redisEvictionPolicy,
				BackendWorkers: backendWorkers, NodeMaxOldSpaceMB: nodeMaxOldSpaceSize,
			},
			BackendCommand:     backendCommand,
			FrontendCommand:    frontendCommand,
			APIURL:             apiUrl,
			BackendEnv:         backendEnv,
			FrontendEnv:        frontendEnv,
			BackendHealthPath:  backendHealthPath,
			FrontendHealthPath: frontendHealthPath,
			BackendMigrate:     backendMigrate,
			Procfile:           procfile,
			SystemPackages:     backendSystemPackages,
			Dockerfile: stack.Dockerfile{Backend: backendDockerfile, Frontend: frontendDockerfile,
				BuildArgs: dockerBuildArgs, Secrets: len(dockerBuildSecrets) > 0},
			FrontendMode: frontendMode,
			Store: stack.Store{
				URL: store, Endpoint: storeEndpoint, Region: storeRegion, URIStyle: storeUriStyle,
				LeaseSeconds: storeLeaseSeconds, BackupInterval: storeBackupInterval,
			},
		}},
	}
	m.Settings.StoreGiven = m.storeGiven()
	return m, errors.Join(m.config().Validate(), m.Settings.Store.Validate(m.Settings.StoreGiven, m.given()))
}

// config is the module's settings, for the pure logic.
func (m *Commandcenter) config() stack.Config {
	return m.Settings.Config
}
