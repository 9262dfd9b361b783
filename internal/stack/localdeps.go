package stack

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Dependencies that live elsewhere in the repository: a requirement such as
// `-e ../libs/x` or a package.json dependency "file:../libs/x". The install
// step gets exactly the manifests and the local packages they name, copied
// before the rest of the source, so that its cache key is their content.

// Ref is a path that a manifest names, as written.
type Ref struct {
	// Line is its line in a requirements file; 0 in a package.json.
	Line int
	Path string
	// Include: a requirements file to read too (-r, -c), relative to the
	// file that names it; otherwise a local package, relative to the
	// install's working directory.
	Include bool
}

var (
	// pip's comments: a # at the start of a line or after whitespace.
	pipComment = regexp.MustCompile(`(^|\s)#.*$`)
	pipInclude = regexp.MustCompile(`^(-r|--requirement|-c|--constraint)(\s*=\s*|\s+|)(\S+)$`)
	pipEdit    = regexp.MustCompile(`^(-e|--editable)(\s*=\s*|\s+)(\S+)`)
	pipNamedAt = regexp.MustCompile(`^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*(file:\S+)`)
)

// RequirementRefs reads a pip requirements file: the files it includes and
// the local packages it names (`-e PATH`, `PATH` starting with ./ or ../,
// `file:PATH`, `name @ file:PATH`), without extras, markers or #egg=.
func RequirementRefs(text string) []Ref {
	var refs []Ref
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		no := i + 1
		line := strings.TrimRight(lines[i], "\r")
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + strings.TrimRight(lines[i], "\r")
		}
		line = strings.TrimSpace(pipComment.ReplaceAllString(line, ""))
		if m := pipInclude.FindStringSubmatch(line); m != nil {
			if !isURL(m[3]) {
				refs = append(refs, Ref{Line: no, Path: m[3], Include: true})
			}
			continue
		}
		if p, ok := localRequirement(line); ok {
			refs = append(refs, Ref{Line: no, Path: p})
		}
	}
	return refs
}

// localRequirement is the local path of one requirement line, if it names one.
func localRequirement(line string) (string, bool) {
	if m := pipEdit.FindStringSubmatch(line); m != nil {
		line = m[3]
	} else if m := pipNamedAt.FindStringSubmatch(line); m != nil {
		line = m[2]
	} else if f := strings.Fields(line); len(f) > 0 {
		line = f[0]
	}
	line, _, _ = strings.Cut(line, ";")
	line, _, _ = strings.Cut(line, "#")
	if i := strings.Index(line, "["); i > 0 && strings.HasSuffix(line, "]") {
		line = line[:i]
	}
	switch {
	case strings.HasPrefix(line, "file:"):
		return filePath(line), true
	case isURL(line):
		return "", false
	case strings.HasPrefix(line, "./"), strings.HasPrefix(line, "../"), line == ".", line == "..", path.IsAbs(line):
		return line, true
	}
	return "", false
}

// filePath is the path of a file: URL: file:../x, file:./x, file:///abs.
func filePath(u string) string {
	p := strings.TrimPrefix(u, "file:")
	if strings.HasPrefix(p, "//") {
		p = strings.TrimPrefix(p, "//localhost")
		p = strings.TrimPrefix(p, "//")
	}
	return p
}

func isURL(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git+") || strings.HasPrefix(s, "hg+") ||
		strings.HasPrefix(s, "svn+") || strings.HasPrefix(s, "bzr+")
}

// PackageJSONRefs reads the "file:" dependencies of a package.json, of every
// kind (dependencies, devDependencies, optionalDependencies,
// peerDependencies), in name order.
func PackageJSONRefs(text string) ([]Ref, error) {
	var pkg map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &pkg); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var refs []Ref
	for _, kind := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
		var deps map[string]any
		if raw, ok := pkg[kind]; !ok || json.Unmarshal(raw, &deps) != nil {
			continue
		}
		names := make([]string, 0, len(deps))
		for name := range deps {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if v, ok := deps[name].(string); ok && strings.HasPrefix(v, "file:") {
				refs = append(refs, Ref{Path: filePath(v)})
			}
		}
	}
	return refs, nil
}

// Copy is one file or directory the install needs: its path in --source,
// and where it goes in the container.
type Copy struct {
	Source, Target string
}

// InstallInputs are what an install reads from --source: its manifests
// (the main one first) and the local packages they name.
type InstallInputs struct {
	Manifests []Copy
	Packages  []Copy
}

// Manifest kinds.
const (
	Requirements = "requirements"
	PackageJSON  = "package.json"
)

// systemDirs are the top-level directories of an image that a local
// package may not be copied into.
var systemDirs = []string{"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media",
	"mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var"}

// ResolveInstall follows a manifest of an app at appPath in the source,
// installed in AppDir: the requirements files it includes (read with
// read, by source path) and the local packages they name. A path that
// leaves the source, lands in a system directory of the image or on
// another path's place is refused, naming the line and the fix.
func ResolveInstall(kind, appPath, manifest string, read func(string) (string, error)) (InstallInputs, error) {
	r := resolver{kind: kind, appPath: appPath, read: read, targets: map[string]string{}}
	main := Copy{Source: path.Join(appPath, manifest), Target: path.Join(AppDir, manifest)}
	r.targets[main.Target] = main.Source
	if err := r.manifest(main); err != nil {
		return InstallInputs{}, err
	}
	return r.out, nil
}

type resolver struct {
	kind, appPath string
	read          func(string) (string, error)
	targets       map[string]string
	out           InstallInputs
}

func (r *resolver) manifest(m Copy) error {
	text, err := r.read(m.Source)
	if err != nil {
		return err
	}
	r.out.Manifests = append(r.out.Manifests, m)
	refs := RequirementRefs(text)
	if r.kind == PackageJSON {
		if refs, err = PackageJSONRefs(text); err != nil {
			return fmt.Errorf("%s in --source: %w", m.Source, err)
		}
	}
	for _, ref := range refs {
		c := Copy{Source: path.Join(r.appPath, ref.Path), Target: path.Join(AppDir, ref.Path)}
		if ref.Include || r.kind == PackageJSON {
			// An include is relative to its file; a package.json's
			// dependency to the package.json, which is in AppDir.
			c = Copy{Source: path.Join(path.Dir(m.Source), ref.Path), Target: path.Join(path.Dir(m.Target), ref.Path)}
		}
		if err := r.check(m.Source, ref, c); err != nil {
			return err
		}
		if _, seen := r.targets[c.Target]; seen {
			continue
		}
		r.targets[c.Target] = c.Source
		if !ref.Include {
			r.out.Packages = append(r.out.Packages, c)
		} else if err := r.manifest(c); err != nil {
			return err
		}
	}
	return nil
}

// check refuses a reference that cannot be copied where the install finds it.
func (r *resolver) check(file string, ref Ref, c Copy) error {
	where := file
	if ref.Line > 0 {
		where = fmt.Sprintf("%s line %d", file, ref.Line)
	}
	top, _, _ := strings.Cut(strings.TrimPrefix(c.Target, "/"), "/")
	switch {
	case path.IsAbs(ref.Path) || c.Source == ".." || strings.HasPrefix(c.Source, "../"):
		return fmt.Errorf("%s names %s, which is outside --source: pass the repository's root as --source (with --backend-path and --frontend-path inside it), or make the path relative to a directory inside it", where, ref.Path)
	case c.Target == "/" || slices.Contains(systemDirs, top):
		return fmt.Errorf("%s names %s, which would be copied to %s in the image, over the app or a system directory: keep local packages in a directory of their own, such as libs/", where, ref.Path, c.Target)
	case r.targets[c.Target] != "" && r.targets[c.Target] != c.Source:
		return fmt.Errorf("%s names %s, which would be copied to %s in the image, where %s already goes: give the two their own directories", where, ref.Path, c.Target, r.targets[c.Target])
	}
	return nil
}
