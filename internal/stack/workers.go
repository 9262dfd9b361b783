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
// entry in the backend's Procfile. Probe, when set, is a command that
// passes while the worker works (see ProbeDirective).
type Worker struct {
	Name    Service
	Command string
	Probe   string
}

// ProbeDirective starts a Procfile comment that gives a worker a probe
// command, run by sh with the worker's environment:
//
//	# commandcenter-probe worker: celery -A app.tasks inspect ping
//
// A comment, so that honcho and Heroku, which read the same file, skip it.
const ProbeDirective = "commandcenter-probe"

// Procfile is the file, in the backend's directory, that declares the
// workers, as Heroku and honcho read it: `NAME: COMMAND` lines.
const Procfile = "Procfile"

// procfileSkipped are the Procfile entries that are not workers: web is
// the backend itself (--backend-command), release a one-off step before
// it (--backend-migrate).
var procfileSkipped = []string{"web", "release"}

// WorkerSettle is how long a worker's process must run before its health
// check passes: one that exits before that fails the start, with its
// stderr. Later, its supervisor restarts it with backoff instead.
const WorkerSettle = 3 * time.Second

var (
	procfileLine = regexp.MustCompile(`^([A-Za-z0-9_.-]+):\s*(.*)$`)
	probeLine    = regexp.MustCompile(`^#\s*` + ProbeDirective + `\s+(.*)$`)
)

// ParseProcfile reads the workers of a Procfile (named file in errors):
// blank lines and # comments are skipped, and so are web and release; a
// ProbeDirective comment gives a worker its probe. It refuses, with every
// line at once, a line that is not NAME: COMMAND, an empty command, a name
// that is not a DNS label or is a service of the stack, a name given twice,
// and a probe for no worker, without a command or given twice.
func ParseProcfile(file, text string) ([]Worker, error) {
	var workers []Worker
	var errs []error
	probes := map[string]int{} // a probe's worker: its line
	var given []Worker         // the probes, by worker
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if p := probeLine.FindStringSubmatch(line); p != nil {
			name, command, err := parseProbe(p[1], probes)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s line %d: %w", file, i+1, err))
				continue
			}
			probes[name] = i + 1
			given = append(given, Worker{Name: Service(name), Probe: command})
			continue
		}
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
	for _, p := range given {
		i := slices.IndexFunc(workers, func(w Worker) bool { return w.Name == p.Name })
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s line %d: a probe for %q, which is no worker of this Procfile", file, probes[string(p.Name)], p.Name))
			continue
		}
		workers[i].Probe = p.Probe
	}
	return workers, errors.Join(errs...)
}

// parseProbe reads "NAME: COMMAND" after the ProbeDirective.
func parseProbe(rest string, seen map[string]int) (name, command string, err error) {
	m := procfileLine.FindStringSubmatch(rest)
	switch {
	case m == nil:
		return "", "", fmt.Errorf("write the probe as # %s NAME: COMMAND", ProbeDirective)
	case strings.TrimSpace(m[2]) == "":
		return "", "", fmt.Errorf("the probe of %q has no command", m[1])
	case seen[m[1]] > 0:
		return "", "", fmt.Errorf("the probe of %q is given twice (line %d): keep one", m[1], seen[m[1]])
	}
	return m[1], strings.TrimSpace(m[2]), nil
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
	w := c.worker(s)
	run := []string{Script("backend-env"), Script("app"), "--"}
	if w.Probe != "" {
		run = append(run, Script("worker-probe"), string(s), w.Probe)
	}
	return append(run, "sh", "-c", w.Command)
}

// workerHealthCheck passes once the worker's process has run for
// WorkerSettle, and its probe, if it has one, passed (see
// internal/scripts/alive.sh).
func (c Config) workerHealthCheck(s Service) []string {
	check := []string{Script("alive"), string(s), strconv.Itoa(int(WorkerSettle.Seconds()))}
	if c.worker(s).Probe != "" {
		check = append(check, "probe")
	}
	return check
}

// WorkerProbe is the probe that Health and Status run for a worker, in a
// client container with its run volume: its supervisor runs its process
// (not waiting to restart it), and the last run of its probe command, if it
// has one, for this process of this instance passed.
func WorkerProbe(s Service) string {
	return `d=$COMMANDCENTER_LOG_DIR; n=` + string(s) + `
field() { sed -n "s/^$2=//p" "$d/$n.$1" 2>/dev/null | head -n 1; }
state=$(field run state); since=$(field run since)
[ "$state" = running ] || { echo "its process is not running ($state since $since): see dagger call logs --service $n" >&2; exit 1; }
if [ -n "$(field probe pid)" ] && [ "$(field probe pid)" = "$(field child pid)" ] && [ "$(field probe instance)" = "$(field run instance)" ]; then
	[ "$(field probe state)" = passing ] || { echo "its probe fails (at $(field probe at)): $(field probe message)" >&2; exit 1; }
	echo "its process runs since $since; its probe passed at $(field probe at)"
	exit 0
fi
echo "its process runs since $since"`
}
