package stack

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Dockerfile is the app's own Dockerfile for the backend (and its
// workers), built with the source as its context, as compose's
// `context: .` does, instead of the module's build on Images.Python.
type Dockerfile struct {
	// Backend is the Dockerfile's path in the source; empty means the
	// module's own build.
	Backend string
	// BuildArgs are the build's arguments, KEY=VALUE items.
	BuildArgs []string
}

// Enabled: the backend is built from its own Dockerfile.
func (d Dockerfile) Enabled() bool { return d.Backend != "" }

var buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (d Dockerfile) validate() error {
	var errs []error
	if d.Enabled() {
		errs = append(errs, validateSubpath("--backend-dockerfile", d.Backend))
	} else if len(d.BuildArgs) > 0 {
		errs = append(errs, errors.New("--docker-build-args are the arguments of --backend-dockerfile's build: give the Dockerfile too, or leave them out"))
	}
	for i, item := range d.BuildArgs {
		name, _, ok := strings.Cut(item, "=")
		if !ok || !buildArgName.MatchString(name) {
			errs = append(errs, fmt.Errorf("--docker-build-args item %d is not KEY=VALUE with a name of letters, digits and '_'", i+1))
		}
	}
	return errors.Join(errs...)
}

// Args are the build's arguments as name and value.
func (d Dockerfile) Args() [][2]string {
	out := make([][2]string, 0, len(d.BuildArgs))
	for _, item := range d.BuildArgs {
		name, value, _ := strings.Cut(item, "=")
		out = append(out, [2]string{name, value})
	}
	return out
}

// ImageUser reads `id -u; id -g`, run as an image's own user, into the
// owner the backend runs as: the image's uid:gid, or the module's own
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
