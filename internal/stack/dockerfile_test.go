package stack

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDockerfileValidate(t *testing.T) {
	for _, tc := range []struct {
		d    Dockerfile
		want string
	}{
		{Dockerfile{Frontend: "frontend/Dockerfile", BuildArgs: []string{"VITE_TITLE=x"}, Secrets: true}, ""},
		{Dockerfile{Frontend: "../web/Dockerfile"}, `--frontend-dockerfile "../web/Dockerfile" must be a relative path inside --source`},
		{Dockerfile{Secrets: true}, "--docker-build-secrets are for the builds of --backend-dockerfile and --frontend-dockerfile"},
		{Dockerfile{Backend: "backend/Dockerfile", BuildArgs: []string{"PIP_INDEX_URL=http://x/simple/", "EMPTY="}}, ""},
		{Dockerfile{Backend: "../Dockerfile"}, `--backend-dockerfile "../Dockerfile" must be a relative path inside --source`},
		{Dockerfile{Backend: "/Dockerfile"}, "must be a relative path inside --source"},
		{Dockerfile{BuildArgs: []string{"A=1"}}, "give a Dockerfile too"},
		{Dockerfile{Backend: "Dockerfile", BuildArgs: []string{"A=1", "no-equals"}}, "--docker-build-args item 2 is not KEY=VALUE"},
		{Dockerfile{Backend: "Dockerfile", BuildArgs: []string{"1X=1"}}, "--docker-build-args item 1"},
	} {
		c := validConfig()
		c.Dockerfile = tc.d
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tc.d, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want an error with %q", tc.d, err, tc.want)
		}
	}
}

func TestFrontendDockerfileIsNotStatic(t *testing.T) {
	c := validConfig()
	c.Dockerfile.Frontend = "frontend/Dockerfile"
	c.FrontendMode = FrontendStatic
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--frontend-dockerfile builds the frontend's image, and --frontend-mode static") {
		t.Errorf("Validate() = %v, want --frontend-dockerfile and static refused together", err)
	}
}

func TestDockerfilePaths(t *testing.T) {
	d := Dockerfile{Backend: "backend/Dockerfile", Frontend: "web/Dockerfile"}
	got := map[Service][2]string{}
	for _, s := range []Service{Backend, "worker", Frontend} {
		got[s] = [2]string{d.Path(s), DockerfileFlag(s)}
	}
	want := map[Service][2]string{
		Backend:  {"backend/Dockerfile", "--backend-dockerfile"},
		"worker": {"backend/Dockerfile", "--backend-dockerfile"},
		Frontend: {"web/Dockerfile", "--frontend-dockerfile"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Path, DockerfileFlag (-want +got):\n%s", diff)
	}
	if (Dockerfile{Backend: "Dockerfile"}).Builds(Frontend) {
		t.Error("Builds(Frontend) with the backend's Dockerfile only = true, want false")
	}
}

func TestDockerfileArgs(t *testing.T) {
	d := Dockerfile{Backend: "Dockerfile", BuildArgs: []string{"A=1", "B=x=y", "C="}}
	want := [][2]string{{"A", "1"}, {"B", "x=y"}, {"C", ""}}
	if diff := cmp.Diff(want, d.Args()); diff != "" {
		t.Errorf("Args() (-want +got):\n%s", diff)
	}
}

func TestImageUser(t *testing.T) {
	for _, tc := range []struct {
		out, user string
		root      bool
		err       bool
	}{
		{"1000\n1000\n", "1000:1000", false, false},
		{"1001\n100\n", "1001:100", false, false},
		{"0\n0\n", "10001:10001", true, false},
		{"", "", false, true},
		{"abc\n1\n", "", false, true},
	} {
		user, root, err := ImageUser(tc.out)
		if user != tc.user || root != tc.root || (err != nil) != tc.err {
			t.Errorf("ImageUser(%q) = %q, %v, %v; want %q, %v, error %v", tc.out, user, root, err, tc.user, tc.root, tc.err)
		}
	}
}

func TestUserOfTheBackendsImage(t *testing.T) {
	c := validConfig()
	c.Workers = []Worker{{Name: "worker", Command: "celery"}}
	c.BackendUser = "1000:1000"
	got := map[Service]string{}
	for _, s := range c.Logged() {
		got[s] = c.User(s)
	}
	want := map[Service]string{Postgres: "postgres", Redis: "redis", Backend: "1000:1000", "worker": "1000:1000",
		Frontend: "node", Proxy: "nginx"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User (-want +got):\n%s", diff)
	}
}
