package stack

import (
	"fmt"
	"slices"
	"strings"
)

// Running is what a start records, on the project's own volume, of the
// app it started: the names of its workers, the user its backend runs
// as, and the user of the frontend's own image, if it has one. Stop,
// Restart, Status, Health, Logs and Reset read it, so that they find the
// workers and the volumes of the backend and the frontend from any
// terminal, without the source (where the Procfile and the Dockerfiles
// are).
type Running struct {
	Workers     []Service
	BackendUser string
	// FrontendUser is empty when the module built the frontend.
	FrontendUser string
}

// RunningOf is what a start of c records.
func RunningOf(c Config) Running {
	r := Running{BackendUser: c.User(Backend), FrontendUser: c.FrontendImage.User}
	for _, w := range c.Workers {
		r.Workers = append(r.Workers, w.Name)
	}
	return r
}

// Render writes r as lines KEY=VALUE, which ParseRunning reads.
func (r Running) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backend-user=%s\n", r.BackendUser)
	if r.FrontendUser != "" {
		fmt.Fprintf(&b, "frontend-user=%s\n", r.FrontendUser)
	}
	for _, w := range r.Workers {
		fmt.Fprintf(&b, "worker=%s\n", w)
	}
	return b.String()
}

// ParseRunning reads a record that Render wrote; found is false when
// there is none (the project's app never started on this engine).
func ParseRunning(text string) (r Running, found bool, err error) {
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		key, value, _ := strings.Cut(line, "=")
		switch {
		case key == "backend-user" && value != "":
			r.BackendUser, found = value, true
		case key == "frontend-user" && value != "":
			r.FrontendUser = value
		case key == "worker" && dnsLabel.MatchString(value):
			r.Workers = append(r.Workers, Service(value))
		default:
			return Running{}, false, fmt.Errorf("the project's record of its running app, line %d: %q is not backend-user=UID:GID, frontend-user=UID:GID or worker=NAME", i+1, Summary(line))
		}
	}
	return r, found, nil
}

// Apply sets the recorded users in c, and adds to c's workers (the
// source's) those recorded, by name, that it lacks: the services to stop
// or report are those that run and those the source declares.
func (r Running) Apply(c Config) Config {
	c.BackendUser = r.BackendUser
	c.FrontendImage.User = r.FrontendUser
	c.Workers = slices.Clone(c.Workers)
	for _, name := range r.Workers {
		if !slices.ContainsFunc(c.Workers, func(w Worker) bool { return w.Name == name }) {
			c.Workers = append(c.Workers, Worker{Name: name})
		}
	}
	return c
}
