package stack

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Results of a stop or restart request (see internal/scripts/request.sh).
const (
	ResultStopped    = "stopped"
	ResultRestarted  = "restarted"
	ResultExited     = "exited"
	ResultNotRunning = "not-running"
)

// RequestResult is what a stop or restart request did to one service.
type RequestResult struct {
	Service Service
	// Result is one of the Result* constants.
	Result string
	// Instance and Started name the instance that got the request.
	Instance, Started string
	// Took is from the request until the service was down (stop) or
	// healthy again (restart).
	Took time.Duration
	// Detail is why nothing was done, for ResultNotRunning.
	Detail string
}

// ParseRequestResult reads the KEY=VALUE lines that commandcenter-request printed.
func ParseRequestResult(s Service, out string) RequestResult {
	f := keyValues(out)
	ms, _ := strconv.Atoi(f["took_ms"])
	return RequestResult{Service: s, Result: f["result"], Instance: f["instance"], Started: f["started"],
		Took: time.Duration(ms) * time.Millisecond}
}

// keyValues reads the KEY=VALUE lines that the launch scripts print; the
// last line of a key wins.
func keyValues(out string) map[string]string {
	f := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			f[k] = v
		}
	}
	return f
}

// Describe is one line for people.
func (r RequestResult) Describe() string {
	took := r.Took.Round(10 * time.Millisecond)
	switch r.Result {
	case ResultStopped:
		return fmt.Sprintf("%s: stopped in %s (instance %s, running since %s)", r.Service, took, r.Instance, r.Started)
	case ResultRestarted:
		return fmt.Sprintf("%s: restarted in place, healthy again after %s (instance %s, running since %s)", r.Service, took, r.Instance, r.Started)
	case ResultExited:
		return fmt.Sprintf("%s: exited by itself before it took the request (instance %s)", r.Service, r.Instance)
	}
	if r.Detail != "" {
		return fmt.Sprintf("%s: was %s", r.Service, r.Detail)
	}
	return fmt.Sprintf("%s: was not running", r.Service)
}

// StopLevels is the order in which Stop stops the given app services: the
// proxy, then each app service before what it depends on (the workers with
// the backend, before postgres and redis), the services of one level at
// once. The engine would kill a service's dependents when it exits, so
// dependents go first.
func StopLevels(services []Service) [][]Service {
	levels := Levels(services)
	out := [][]Service{{Proxy}}
	for i := len(levels) - 1; i >= 0; i-- {
		out = append(out, levels[i])
	}
	return out
}

// StopReport is Stop's answer: a line per service, after a first line that
// says whether anything was stopped at all.
func StopReport(project string, results []RequestResult) string {
	var b strings.Builder
	stopped := 0
	for _, r := range results {
		if r.Result == ResultStopped {
			stopped++
		}
	}
	if stopped == 0 {
		fmt.Fprintf(&b, "nothing was running in project %q: nothing was stopped\n", project)
	} else {
		fmt.Fprintf(&b, "project %q: stopped %d of %d services\n", project, stopped, len(results))
	}
	for _, r := range results {
		b.WriteString(r.Describe() + "\n")
	}
	return b.String()
}
