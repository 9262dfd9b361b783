package stack

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func frontendDockerfileConfig() Config {
	c := validConfig()
	c.Dockerfile.Frontend = "frontend/Dockerfile"
	return c
}

func TestReadFrontendImage(t *testing.T) {
	serve := []string{"node", "server.js"}
	for _, tc := range []struct {
		name    string
		out     string
		command []string
		exposed []int
		given   []string // --frontend-command
		want    FrontendImage
		err     string
	}{
		{name: "non-root with curl", out: "4321\n4321\ncurl\n", command: serve, exposed: []int{3000},
			want: FrontendImage{User: "4321:4321", Command: serve, HTTPClient: "curl"}},
		{name: "root, nothing exposed", out: "0\n0\nnode\n", command: serve,
			want: FrontendImage{User: "10001:10001", Root: true, Command: serve, HTTPClient: "node"}},
		{name: "no command but --frontend-command", out: "101\n101\nwget\n", given: []string{"nginx"},
			want: FrontendImage{User: "101:101", HTTPClient: "wget"}},
		{name: "no HTTP client", out: "1000\n1000\n", command: serve,
			err: "--frontend-dockerfile frontend/Dockerfile: the image has none of curl, wget, node, python3"},
		{name: "no command", out: "1000\n1000\ncurl\n",
			err: "--frontend-dockerfile frontend/Dockerfile: the image has no ENTRYPOINT or CMD to run: add one, or give --frontend-command"},
		{name: "another port", out: "1000\n1000\ncurl\n", command: serve, exposed: []int{80, 443},
			err: "the image exposes port 80, 443, and the module serves the frontend on port 3000"},
		{name: "no user", out: "", command: serve, err: "--frontend-dockerfile frontend/Dockerfile: read the image's user"},
	} {
		c := frontendDockerfileConfig()
		c.FrontendCommand = tc.given
		got, err := c.ReadFrontendImage(tc.out, tc.command, tc.exposed)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one with %q", tc.name, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s: err = %v", tc.name, err)
		case tc.err == "":
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

func TestFrontendImageRuns(t *testing.T) {
	url := "http://127.0.0.1:3000/"
	c := frontendDockerfileConfig()
	c.FrontendImage = FrontendImage{User: "4321:4321", Command: []string{"/entrypoint.sh", "node", "server.js"}, HTTPClient: "curl"}
	run := []string{Script("run"), "frontend"}
	if diff := cmp.Diff(append(run, "/entrypoint.sh", "node", "server.js"), c.Command(Frontend)); diff != "" {
		t.Errorf("Command (-want +got):\n%s", diff)
	}
	if got := c.User(Frontend); got != "4321:4321" {
		t.Errorf("User(frontend) = %q, want the image's 4321:4321", got)
	}
	env := map[string]string{}
	for _, e := range c.Env(Frontend, Given{}.SecretFiles()) {
		env[e.Name] = e.Value
	}
	if env["PORT"] != "3000" || env["HOST"] != "0.0.0.0" || env["VITE_API_BASE_URL"] != "http://localhost:8000" {
		t.Errorf("Env(frontend) = %v, want PORT, HOST and VITE_API_BASE_URL as in dev mode", env)
	}
	checks := map[string][]string{}
	for _, client := range HTTPClients {
		c.FrontendImage.HTTPClient = client
		checks[client] = c.HealthCheck(Frontend)
	}
	want := map[string][]string{
		"curl":    {"curl", "-fsS", "-o", "/dev/null", "--max-time", "2", url},
		"wget":    {"wget", "-q", "-T", "2", "-O", "/dev/null", url},
		"node":    nodeCheck(url),
		"python3": {"python3", "-c", "import urllib.request; urllib.request.urlopen('" + url + "', timeout=2)"},
	}
	if diff := cmp.Diff(want, checks); diff != "" {
		t.Errorf("HealthCheck(frontend) by client (-want +got):\n%s", diff)
	}
	c.FrontendCommand = []string{"npm", "start"}
	if diff := cmp.Diff(append(run, "npm", "start"), c.Command(Frontend)); diff != "" {
		t.Errorf("Command with --frontend-command (-want +got):\n%s", diff)
	}
}

func TestRunningRecordsTheFrontendsUser(t *testing.T) {
	c := frontendDockerfileConfig()
	c.FrontendImage = FrontendImage{User: "4321:4321", Command: []string{"node"}, HTTPClient: "node"}
	text := RunningOf(c).Render()
	if want := "backend-user=10001:10001\nfrontend-user=4321:4321\n"; text != want {
		t.Fatalf("Render() = %q, want %q", text, want)
	}
	r, _, err := ParseRunning(text)
	if err != nil {
		t.Fatal(err)
	}
	// Another terminal, without the source and its Dockerfile.
	if got := r.Apply(validConfig()).User(Frontend); got != "4321:4321" {
		t.Errorf("User(frontend) after Apply = %q, want the recorded 4321:4321", got)
	}
	if got := (Running{BackendUser: "10001:10001"}).Apply(c).User(Frontend); got != "node" {
		t.Errorf("User(frontend) after a record without one = %q, want node", got)
	}
}
