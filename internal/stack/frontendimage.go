package stack

import (
	"fmt"
	"slices"
	"strings"
)

// FrontendImage is how the module runs the image that the frontend's own
// Dockerfile builds, read from that image.
type FrontendImage struct {
	// User is who the frontend runs as, uid:gid: the image's own user, or
	// the module's app user (AppUID) when that is root.
	User string
	// Root: the image's own user is root.
	Root bool
	// Command is the image's ENTRYPOINT then CMD, the frontend's server
	// unless FrontendCommand replaces it.
	Command []string
	// HTTPClient is the first of HTTPClients that the image has: the
	// frontend's health check GETs its page with it.
	HTTPClient string
}

// HTTPClients are the programs, in the order the module looks for them,
// with which a frontend built from its own Dockerfile is checked.
var HTTPClients = []string{"curl", "wget", "node", "python3"}

// FrontendImageScript prints, run by sh as the image's own user, its uid,
// its gid and the first of HTTPClients on its PATH, one a line.
const FrontendImageScript = `id -u; id -g
for c in curl wget node python3; do
	if command -v "$c" >/dev/null 2>&1; then echo "$c"; exit 0; fi
done`

// ReadFrontendImage reads the frontend's own image into how the module
// runs it: FrontendImageScript's output, the image's ENTRYPOINT then CMD
// (command) and the ports it exposes. It refuses an image the module
// cannot check or run, naming --frontend-dockerfile: no HTTP client, no
// command (without --frontend-command), or exposed ports without the
// frontend's (the module serves it on InternalPort(Frontend) and sets PORT).
func (c Config) ReadFrontendImage(out string, command []string, exposed []int) (FrontendImage, error) {
	flag := "--frontend-dockerfile " + c.Dockerfile.Frontend
	lines := strings.Fields(out)
	if len(lines) < 2 {
		return FrontendImage{}, fmt.Errorf("%s: read the image's user: wanted its uid and gid, got %q", flag, Summary(out))
	}
	user, root, err := ImageUser(strings.Join(lines[:2], "\n"))
	if err != nil {
		return FrontendImage{}, fmt.Errorf("%s: %w", flag, err)
	}
	img := FrontendImage{User: user, Root: root, Command: command}
	if len(lines) > 2 && slices.Contains(HTTPClients, lines[2]) {
		img.HTTPClient = lines[2]
	}
	port := InternalPort(Frontend)
	switch {
	case img.HTTPClient == "":
		return FrontendImage{}, fmt.Errorf("%s: the image has none of %s, with which the module's health check GETs the frontend's page: install one in the image",
			flag, strings.Join(HTTPClients, ", "))
	case len(command) == 0 && len(c.FrontendCommand) == 0:
		return FrontendImage{}, fmt.Errorf("%s: the image has no ENTRYPOINT or CMD to run: add one, or give --frontend-command", flag)
	case len(exposed) > 0 && !slices.Contains(exposed, port):
		return FrontendImage{}, fmt.Errorf("%s: the image exposes port %s, and the module serves the frontend on port %d (it sets PORT=%d): make the server listen on %d, and EXPOSE that",
			flag, joinInts(exposed), port, port, port)
	}
	return img, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// frontendImageCheck GETs url with the image's HTTP client; a status of
// 400 or more fails.
func (c Config) frontendImageCheck(url string) []string {
	switch c.FrontendImage.HTTPClient {
	case "curl":
		return []string{"curl", "-fsS", "-o", "/dev/null", "--max-time", "2", url}
	case "wget":
		return []string{"wget", "-q", "-T", "2", "-O", "/dev/null", url}
	case "python3":
		return []string{"python3", "-c", "import urllib.request; urllib.request.urlopen('" + url + "', timeout=2)"}
	}
	return nodeCheck(url)
}

// nodeCheck GETs url with node; a status of 400 or more fails.
func nodeCheck(url string) []string {
	return []string{"node", "-e", "require('http').get('" + url + "', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"}
}
