// Package stack holds the pure logic of the CommandCenter module: service
// names and their dependency graph, input validation, the proxy
// configuration and volume names. It imports nothing from Dagger, so plain
// `go test` covers it without an engine.
package stack

import (
	"fmt"
	"slices"
	"strings"
)

// Service names one process of the stack.
type Service string

// The services of the stack, and the proxy that publishes them.
const (
	Postgres Service = "postgres"
	Redis    Service = "redis"
	Backend  Service = "backend"
	Frontend Service = "frontend"
	Proxy    Service = "proxy"
)

// Services lists the app services in start order.
var Services = []Service{Postgres, Redis, Backend, Frontend}

// Logged lists every service that writes a log: the app services and the proxy.
var Logged = []Service{Postgres, Redis, Backend, Frontend, Proxy}

// dependencies says which services each service binds to. A worker binds
// what the backend binds.
var dependencies = map[Service][]Service{
	Backend:  {Postgres, Redis},
	Frontend: {Backend},
}

// IsWorker says whether s is one of the app's workers (see Worker): any
// service that is not one of the stack's own.
func IsWorker(s Service) bool {
	return !slices.Contains(Logged, s)
}

// Dependencies returns the services that s binds to.
func Dependencies(s Service) []Service {
	if IsWorker(s) {
		s = Backend
	}
	return slices.Clone(dependencies[s])
}

// InternalPort is the port a service listens on inside its container.
func InternalPort(s Service) int {
	switch s {
	case Postgres:
		return 5432
	case Redis:
		return 6379
	case Backend:
		return 8000
	case Frontend:
		return 3000
	}
	panic(fmt.Sprintf("no port for service %q", s))
}

// Parse returns the service called name, if it is one of valid.
// The error lists the valid names, so the caller knows what to type.
func Parse(name string, valid []Service) (Service, error) {
	s := Service(strings.TrimSpace(name))
	if slices.Contains(valid, s) {
		return s, nil
	}
	names := make([]string, len(valid))
	for i, v := range valid {
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown service %q: want one of %s", name, strings.Join(names, ", "))
}

// Levels groups the given app services by dependency depth: every service
// of a level depends only on services of earlier levels, so the services of
// one level can start in parallel once the previous level is healthy.
func Levels(services []Service) [][]Service {
	var levels [][]Service
	for _, s := range services {
		d := depth(s)
		for len(levels) <= d {
			levels = append(levels, nil)
		}
		levels[d] = append(levels[d], s)
	}
	return slices.DeleteFunc(levels, func(l []Service) bool { return len(l) == 0 })
}

func depth(s Service) int {
	d := 0
	for _, dep := range Dependencies(s) {
		d = max(d, depth(dep)+1)
	}
	return d
}

// Dependents returns every service that depends on s, directly or not, in
// start order. Stopping s makes the engine stop all of them.
func Dependents(s Service) []Service {
	var out []Service
	for _, candidate := range Services {
		if candidate != s && dependsOn(candidate, s) {
			out = append(out, candidate)
		}
	}
	return out
}

func dependsOn(s, target Service) bool {
	for _, dep := range Dependencies(s) {
		if dep == target || dependsOn(dep, target) {
			return true
		}
	}
	return false
}

// Needs returns the services, among all, that must run for s to start, in
// start order: s's dependencies, direct or not, and s itself. The proxy
// needs all of them.
func Needs(s Service, all []Service) []Service {
	var out []Service
	for _, candidate := range all {
		if candidate == s || s == Proxy || dependsOn(s, candidate) {
			out = append(out, candidate)
		}
	}
	return out
}

// OwnFailures picks, from the services whose build failed, those that
// failed on their own: a service that binds one whose build failed fails
// with that same error, which is its dependency's to report, and so does
// a worker, built as the backend is.
func OwnFailures(failed []Service) []Service {
	var out []Service
	for _, s := range failed {
		if !slices.ContainsFunc(failed, func(dep Service) bool {
			return dependsOn(s, dep) || (s == Proxy && dep != Proxy) || (IsWorker(s) && dep == Backend)
		}) {
			out = append(out, s)
		}
	}
	return out
}
