package stack

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Dockerfile holds the app's own Dockerfiles, for the backend (and its
// workers) and for the frontend, each built with the source as its
// context, as compose's `context: .` does, instead of the module's build.
type Dockerfile struct {
	// Backend is the backend's Dockerfile's path in the source; empty
	// means the module's own build on Images.Python.
	Backend string
	// Frontend is the frontend's Dockerfile's path in the source; empty
	// means the module's own build on Images.Node (FrontendMode).
	Frontend string
	// BuildArgs are the builds' arguments, KEY=VALUE items, given to both.
	BuildArgs []string
	// Secrets: build secrets were given (--docker-build-secrets).
	Secrets bool
}

// Path is the Dockerfile that builds service s (a worker's is the
// backend's), or "" when the module builds it.
func (d Dockerfile) Path(s Service) string {
	if s == Frontend {
		return d.Frontend
	}
	return d.Backend
}

// Builds says whether service s is built from the app's own Dockerfile.
func (d Dockerfile) Builds(s Service) bool { return d.Path(s) != "" }

// DockerfileFlag is the option that gives service s's Dockerfile.
func DockerfileFlag(s Service) string {
	if s == Frontend {
		return "--frontend-dockerfile"
	}
	return "--backend-dockerfile"
}

var buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c Config) validateDockerfile() error {
	d := c.Dockerfile
	var errs []error
	for _, s := range []Service{Backend, Frontend} {
		if d.Builds(s) {
			errs = append(errs, validateSubpath(DockerfileFlag(s), d.Path(s)))
		}
	}
	none := !d.Builds(Backend) && !d.Builds(Frontend)
	if none && len(d.BuildArgs) > 0 {
		errs = append(errs, errors.New("--docker-build-args are the arguments of the builds of --backend-dockerfile and --frontend-dockerfile: give a Dockerfile too, or leave them out"))
	}
	if none && d.Secrets {
		errs = append(errs, errors.New("--docker-build-secrets are for the builds of --backend-dockerfile and --frontend-dockerfile: give a Dockerfile too, or leave them out"))
	}
	if d.Builds(Frontend) && c.Static() {
		errs = append(errs, errors.New("--frontend-dockerfile builds the frontend's image, and --frontend-mode static builds it with npm run build: leave one out"))
	}
	for i, item := range d.BuildArgs {
		name, _, ok := strings.Cut(item, "=")
		if !ok || !buildArgName.MatchString(name) {
			errs = append(errs, fmt.Errorf("--docker-build-args item %d is not KEY=VALUE with a name of letters, digits and '_'", i+1))
		}
	}
	return errors.Join(errs...)
}

// Args are the builds' arguments as name and value.
func (d Dockerfile) Args() [][2]string {
	out := make([][2]string, 0, len(d.BuildArgs))
	for _, item := range d.BuildArgs {
		name, value, _ := strings.Cut(item, "=")
		out = append(out, [2]string{name, value})
	}
	return out
}

// ImageUser reads `id -u; id -g`, run as an image's own user, into the
// owner the service runs as: the image's uid:gid, or the module's own
// (AppUID) when the image's user is root, which the module never runs.
func ImageUser(idOutput string) (user string, root bool, err error) {
	fields := strings.Fields(idOutput)
	if len(fields) != 2 {
		return "", false, fmt.Errorf("read the image's user: wanted its uid and gid, got %q", Summary(idOutput))
	}
	for _, f := range fields {
		if _, err := strconv.ParseUint(f, 10, 32); err != nil {
			return "", false, fmt.Errorf("read the image's user: %q is no number", f)
		}
	}
	if fields[0] == "0" {
		return User(Backend), true, nil
	}
	return fields[0] + ":" + fields[1], false, nil
}
