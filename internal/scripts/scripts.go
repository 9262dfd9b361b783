// Package scripts holds the launch scripts that the module installs in each
// service container as /usr/local/bin/commandcenter-<name>. The shell
// scripts run under any POSIX sh (busybox, dash), so the same script serves
// the Alpine and the Debian images; the Python ones run only in the
// backend's image.
package scripts

import "embed"

//go:embed *.sh *.py
var files embed.FS

// Script is one launch script.
type Script struct {
	// Name is the installed command without its commandcenter- prefix.
	Name     string
	Contents string
}

// Named returns the scripts of the given names, e.g. "run", "secret".
func Named(names ...string) []Script {
	out := make([]Script, len(names))
	for i, name := range names {
		b, err := files.ReadFile(name + ".sh")
		if err != nil {
			b, err = files.ReadFile(name + ".py")
		}
		if err != nil {
			panic("no script " + name + ": " + err.Error())
		}
		out[i] = Script{Name: name, Contents: string(b)}
	}
	return out
}
