package stack

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Worker is a long-running process of the app beside its server, from the
// backend's image, with the backend's environment, secrets and bindings:
// a Celery worker or beat. Each is a service of the stack, named by its
// entry in the backend's Procfile.
type Worker struct {
	Name    Service
	Command string
}

// Procfile is the file, in the backend's directory, that declares the
// workers, as Heroku and honcho read it: `NAME: COMMAND` lines.
const Procfile = "Procfile"

// procfileSkipped are the Procfile entries that are not workers: web is
// the backend itself (--backend-command), release a one-off step before
// it (--backend-migrate).
var procfileSkipped = []string{"web", "release"}

// WorkerSettle is how long a worker's process must run before its start
// counts: one that exits sooner fails the start, with its stderr. Later,
// its supervisor restarts it with backoff instead.
const WorkerSettle = 3 * time.Second

var procfileLine = regexp.MustCompile(`^([A-Za-z0-9_.-]+):\s*(.*)$`)

// ParseProcfile reads the workers of a Procfile (named file in errors):
// blank lines and # comments are skipped, and so are web and release. It
// refuses, with every line at once, a line that is not NAME: COMMAND, an
// empty command, a name that is not a DNS label or is a service of the
// stack, and a name given twice.
func ParseProcfile(file, text string) ([]Worker, error) {
	var workers []Worker
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := procfileLine.FindStringSubmatch(line)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s line %d is not NAME: COMMAND", file, i+1))
			continue
		}
		name, command := m[1], strings.TrimSpace(m[2])
		if slices.Contains(procfileSkipped, name) {
			continue
		}
		if err := checkWorker(name, command, workers); err != nil {
			errs = append(errs, fmt.Errorf("%s line %d: %w", file, i+1, err))
			continue
		}
		workers = append(workers, Worker{Name: Service(name), Command: command})
	}
	return workers, errors.Join(errs...)
}

func checkWorker(name, command string, seen []Worker) error {
	switch {
	case !dnsLabel.MatchString(name):
		return fmt.Errorf("worker %q: the name is not a DNS label: use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	case slices.Contains(Logged, Service(name)):
		return fmt.Errorf("worker %q: the name is a service of the stack: choose another", name)
	case slices.ContainsFunc(seen, func(w Worker) bool { return string(w.Name) == name }):
		return fmt.Errorf("worker %q is declared twice: keep one", name)
	case command == "":
		return fmt.Errorf("worker %q has no command", name)
	}
	return nil
}

// Services lists the app services in start order, the workers after the
// backend.
func (c Config) Services() []Service {
	out := []Service{Postgres, Redis, Backend}
	for _, w := range c.Workers {
		out = append(out, w.Name)
	}
	return append(out, Frontend)
}

// Logged lists every service that writes a log: the app services and the proxy.
func (c Config) Logged() []Service {
	return append(c.Services(), Proxy)
}

// worker is the worker called s.
func (c Config) worker(s Service) Worker {
	for _, w := range c.Workers {
		if w.Name == s {
			return w
		}
	}
	panic(fmt.Sprintf("no worker %q", s))
}

// workerCommand runs worker s's command line with sh, as a Procfile's
// runner does, through the backend's launchers (no migration: the backend
// runs it).
func (c Config) workerCommand(s Service) []string {
	return []string{Script("backend-env"), Script("app"), "--", "sh", "-c", c.worker(s).Command}
}

// workerHealthCheck passes once the worker's process has run for
// WorkerSettle (see internal/scripts/alive.sh).
func workerHealthCheck(s Service) []string {
	return []string{Script("alive"), string(s), strconv.Itoa(int(WorkerSettle.Seconds()))}
}

// WorkerProbe is the probe that Health and Status run for a worker, in a
// client container with its run volume: its supervisor runs its process
// (not waiting to restart it).
func WorkerProbe(s Service) string {
	return `state=$(sed -n 's/^state=//p' "$COMMANDCENTER_LOG_DIR/` + string(s) + `.run")
since=$(sed -n 's/^since=//p' "$COMMANDCENTER_LOG_DIR/` + string(s) + `.run")
[ "$state" = running ] || { echo "its process is not running ($state since $since): see dagger call logs --service ` + string(s) + `" >&2; exit 1; }
echo "its process runs since $since"`
}
