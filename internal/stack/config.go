package stack

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config is everything the module's constructor accepts, apart from the
// source directory and the secrets.
type Config struct {
	Project      string
	BackendPath  string
	FrontendPath string
	Images       Images
	// Ports maps each app service to the port the stack proxy exposes for it.
	Ports          map[Service]int
	RetryAttempts  int
	RetryBaseDelay string
	Limits         Limits
	// BackendCommand and FrontendCommand replace the default server commands when set.
	BackendCommand  []string
	FrontendCommand []string
	// APIURL is where a browser on the host reaches the backend; empty means
	// http://localhost:<backend port>.
	APIURL string
	// BackendEnv and FrontendEnv are the app's own KEY=VALUE items.
	BackendEnv, FrontendEnv []string
	// BackendHealthPath and FrontendHealthPath answer GET with a status
	// below 400 when the app is healthy (the backend's, with a 2xx).
	BackendHealthPath, FrontendHealthPath string
	// BackendMigrate runs before each start of the backend, when set.
	BackendMigrate []string
	// FrontendMode is FrontendDev or FrontendStatic.
	FrontendMode string
	// PostgresExtensions are created in the app's database by the module's
	// superuser, at the first start and whenever the list changes.
	PostgresExtensions []string
	// PostgresMajor is the major version of Images.Postgres, which the module
	// reads from the image (see PostgresMajor); it names the data volume.
	PostgresMajor string
	// Store is the project's durable store, if any, and StoreGiven which of
	// its secrets were given.
	Store      Store
	StoreGiven StoreGiven
	// Procfile is the path in the source of the Procfile that declares the
	// workers; empty means the backend's own, if it has one.
	Procfile string
	// SystemPackages are installed in the backend's image before pip.
	SystemPackages []string
	// Workers are the Procfile's workers, which the module reads from the
	// source (see ParseProcfile).
	Workers []Worker
	// Dockerfile holds the app's own Dockerfiles, if they build the
	// backend or the frontend.
	Dockerfile Dockerfile
	// BackendUser is who the backend and its workers run as, uid:gid, when
	// not the module's app user: the user of the backend's own image.
	BackendUser string
	// FrontendImage is how the module runs the image of the frontend's own
	// Dockerfile, read from it (see ReadFrontendImage).
	FrontendImage FrontendImage
}

// Images are the image references of the services.
type Images struct {
	Postgres, Redis, Python, Node, Proxy string
}

// Limits are the per-service limits that the software itself enforces.
type Limits struct {
	PostgresMaxConnections int
	PostgresSharedBuffers  string
	RedisMaxMemory         string
	RedisEvictionPolicy    string
	BackendWorkers         int
	NodeMaxOldSpaceMB      int
}

// MaxRetryDelay caps the wait between two attempts.
const MaxRetryDelay = 30 * time.Second

// EvictionPolicies are the values Redis accepts for maxmemory-policy.
var EvictionPolicies = []string{
	"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
}

var (
	dnsLabel       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	sqlIdentifier  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	postgresMemory = regexp.MustCompile(`^[1-9][0-9]*(kB|MB|GB|TB)?$`)
	redisMemory    = regexp.MustCompile(`^[0-9]+([kKmMgG][bB]?)?$`)
)

// Validate reports every problem of the configuration at once, each naming
// the flag to change and what it accepts.
func (c Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(c.validateProject())
	add(validateSubpath("--backend-path", c.BackendPath))
	add(validateSubpath("--frontend-path", c.FrontendPath))
	if c.Procfile != "" {
		add(validateSubpath("--procfile", c.Procfile))
	}
	add(c.validateDockerfile())
	add(c.Images.validate())
	add(validateExtensions(c.PostgresExtensions))
	add(c.validatePorts())
	add(c.validateRetry())
	add(c.Limits.validate())
	add(validateCommand("--backend-command", c.BackendCommand))
	add(validateCommand("--frontend-command", c.FrontendCommand))
	add(validateCommand("--backend-migrate", c.BackendMigrate))
	add(c.validateAPIURL())
	add(c.validateEnvItems("--backend-env", Backend, c.BackendEnv))
	add(c.validateEnvItems("--frontend-env", Frontend, c.FrontendEnv))
	add(validateHealthPath("--backend-health-path", c.BackendHealthPath))
	add(validateHealthPath("--frontend-health-path", c.FrontendHealthPath))
	add(c.validateFrontendMode())
	add(validateSystemPackages(c.SystemPackages))
	if c.Static() && len(c.FrontendCommand) > 0 {
		add(errors.New("--frontend-command runs the dev server, and --frontend-mode static serves the build with nginx: leave one out"))
	}
	return errors.Join(errs...)
}

func (c Config) validateProject() error {
	if dnsLabel.MatchString(c.Project) {
		return nil
	}
	return fmt.Errorf("--project %q is not a DNS label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit", c.Project)
}

func validateSubpath(flag, p string) error {
	clean := path.Clean(p)
	if p == "" || path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%s %q must be a relative path inside --source", flag, p)
	}
	return nil
}

func (i Images) validate() error {
	var errs []error
	for _, img := range []struct{ flag, ref string }{
		{"--postgres-image", i.Postgres}, {"--redis-image", i.Redis}, {"--python-image", i.Python},
		{"--node-image", i.Node}, {"--proxy-image", i.Proxy},
	} {
		if strings.TrimSpace(img.ref) == "" || strings.ContainsAny(img.ref, " \t\n") {
			errs = append(errs, fmt.Errorf("%s %q is not an image reference, such as postgres:16-alpine", img.flag, img.ref))
		}
	}
	return errors.Join(errs...)
}

// validateExtensions accepts extension names that are plain SQL
// identifiers (lowercase letters, digits and _), each once: the scripts
// quote them, and a name outside that set is no extension an image ships.
func validateExtensions(names []string) error {
	var errs []error
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "":
			// --postgres-extensions "" asks for none
		case !sqlIdentifier.MatchString(n):
			errs = append(errs, fmt.Errorf("--postgres-extensions %q is not an extension name: use lowercase letters, digits and _, starting with a letter or _ (at most 63), such as vector or pg_trgm", n))
		case seen[n]:
			errs = append(errs, fmt.Errorf("--postgres-extensions names %q twice: name each extension once", n))
		}
		seen[n] = true
	}
	return errors.Join(errs...)
}

func (c Config) validatePorts() error {
	var errs []error
	owner := map[int]Service{}
	for _, s := range Services {
		p, flag := c.Ports[s], "--"+string(s)+"-port"
		switch {
		case p < 1 || p > 65535:
			errs = append(errs, fmt.Errorf("%s %d is out of range: want 1-65535", flag, p))
		case p < 1024:
			errs = append(errs, fmt.Errorf("%s %d is a privileged port, which the non-root proxy cannot listen on: keep it at 1024 or above and publish the host port you want with `stack up --ports %d:%d`", flag, p, p, InternalPort(s)))
		case owner[p] != "":
			errs = append(errs, fmt.Errorf("%s %d is also --%s-port: give each service its own port", flag, p, owner[p]))
		default:
			owner[p] = s
		}
	}
	return errors.Join(errs...)
}

func (c Config) validateRetry() error {
	var errs []error
	if c.RetryAttempts < 1 || c.RetryAttempts > 10 {
		errs = append(errs, fmt.Errorf("--retry-attempts %d is out of range: want 1-10", c.RetryAttempts))
	}
	if _, err := c.RetryDelay(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// RetryDelay parses the base delay between attempts.
func (c Config) RetryDelay() (time.Duration, error) {
	d, err := time.ParseDuration(c.RetryBaseDelay)
	if err != nil || d <= 0 || d > MaxRetryDelay {
		return 0, fmt.Errorf("--retry-base-delay %q is not a Go duration between 1ns and %s, such as 500ms or 2s", c.RetryBaseDelay, MaxRetryDelay)
	}
	return d, nil
}

func (l Limits) validate() error {
	var errs []error
	if l.PostgresMaxConnections < 1 || l.PostgresMaxConnections > 10000 {
		errs = append(errs, fmt.Errorf("--postgres-max-connections %d is out of range: want 1-10000", l.PostgresMaxConnections))
	}
	if !postgresMemory.MatchString(l.PostgresSharedBuffers) {
		errs = append(errs, fmt.Errorf("--postgres-shared-buffers %q is not a PostgreSQL memory size, such as 128MB or 1GB (units kB, MB, GB, TB)", l.PostgresSharedBuffers))
	}
	if !redisMemory.MatchString(l.RedisMaxMemory) {
		errs = append(errs, fmt.Errorf("--redis-max-memory %q is not a Redis memory size, such as 256mb or 1gb (0 means no limit)", l.RedisMaxMemory))
	}
	if !slices.Contains(EvictionPolicies, l.RedisEvictionPolicy) {
		errs = append(errs, fmt.Errorf("--redis-eviction-policy %q is unknown: want one of %s", l.RedisEvictionPolicy, strings.Join(EvictionPolicies, ", ")))
	}
	if l.BackendWorkers < 1 || l.BackendWorkers > 64 {
		errs = append(errs, fmt.Errorf("--backend-workers %d is out of range: want 1-64", l.BackendWorkers))
	}
	if l.NodeMaxOldSpaceMB < 64 || l.NodeMaxOldSpaceMB > 65536 {
		errs = append(errs, fmt.Errorf("--node-max-old-space-size %d is out of range: want 64-65536 (MB)", l.NodeMaxOldSpaceMB))
	}
	return errors.Join(errs...)
}

func validateCommand(flag string, cmd []string) error {
	if len(cmd) > 0 && strings.TrimSpace(cmd[0]) == "" {
		return fmt.Errorf("%s must start with a program name, got %q", flag, cmd)
	}
	return nil
}

// systemPackage is a package name as apt and apk take it, with an optional
// =VERSION.
var systemPackage = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:_-]+)?$`)

func validateSystemPackages(pkgs []string) error {
	var errs []error
	for i, p := range pkgs {
		if !systemPackage.MatchString(p) {
			errs = append(errs, fmt.Errorf("--backend-system-packages item %d %q is not a package name, such as gcc, libpq-dev or libpq-dev=15.10-0+deb12u1", i+1, p))
		}
	}
	return errors.Join(errs...)
}

func (c Config) validateAPIURL() error {
	if c.APIURL == "" {
		return nil
	}
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--api-url %q is not an http(s) URL, such as http://localhost:8000", c.APIURL)
	}
	return nil
}

// PublicAPIURL is the backend's address as a browser on the host reaches it.
func (c Config) PublicAPIURL() string {
	if c.APIURL != "" {
		return c.APIURL
	}
	return fmt.Sprintf("http://localhost:%d", c.Ports[Backend])
}

// ValidateHost checks the host of a URL the module builds for host tools.
func ValidateHost(host string) error {
	u, err := url.Parse("//" + host)
	if host == "" || err != nil || u.Host != host || u.Port() != "" || u.User != nil {
		return fmt.Errorf("--host %q is not a host name or address, such as localhost, db.internal or 192.0.2.10", host)
	}
	return nil
}
