package stack

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcfile(t *testing.T) {
	text := `# CommandCenter's background work
web: uvicorn app.main:app --port $PORT
worker: celery -A app.tasks worker --loglevel=info --concurrency=4

beat:celery -A app.tasks beat --schedule=/var/lib/commandcenter/beat,with-comma
release: alembic upgrade head
`
	got, err := ParseProcfile("backend/Procfile", text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Worker{
		{"worker", "celery -A app.tasks worker --loglevel=info --concurrency=4"},
		{"beat", "celery -A app.tasks beat --schedule=/var/lib/commandcenter/beat,with-comma"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseProcfile (-want +got):\n%s", diff)
	}
}

func TestParseProcfileRefuses(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"worker:\n", `backend/Procfile line 1: worker "worker" has no command`},
		{"a: x\na: y\n", `backend/Procfile line 2: worker "a" is declared twice`},
		{"Celery_Worker: celery\n", `worker "Celery_Worker": the name is not a DNS label`},
		{"redis: redis-server\n", `worker "redis": the name is a service of the stack`},
		{"just a command\n", "backend/Procfile line 1 is not NAME: COMMAND"},
	} {
		_, err := ParseProcfile("backend/Procfile", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseProcfile(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

func TestWorkersAreServices(t *testing.T) {
	c := validConfig()
	c.Workers = []Worker{{"worker", "celery -A app.tasks worker"}}
	if diff := cmp.Diff([]Service{Postgres, Redis, Backend, "worker", Frontend, Proxy}, c.Logged()); diff != "" {
		t.Errorf("Logged() (-want +got):\n%s", diff)
	}
	want := []string{Script("run"), "worker", Script("backend-env"), Script("app"), "--", "sh", "-c", "celery -A app.tasks worker"}
	if diff := cmp.Diff(want, c.Command("worker")); diff != "" {
		t.Errorf("Command(worker) (-want +got):\n%s", diff)
	}
	if User("worker") != User(Backend) {
		t.Errorf("User(worker) = %s, want the backend's %s", User("worker"), User(Backend))
	}
	env := c.Env("worker", Given{}.SecretFiles())
	for _, name := range []string{"DB_PASSWORD_FILE", "REDIS_PASSWORD_FILE", "SECRET_KEY_FILE", "COMMANDCENTER_RESTART_AFTER"} {
		if !slices.ContainsFunc(env, func(e EnvVar) bool { return e.Name == name }) {
			t.Errorf("Env(worker) = %v, want %s", env, name)
		}
	}
	if slices.ContainsFunc(c.Env(Backend, Given{}.SecretFiles()), func(e EnvVar) bool { return e.Name == "COMMANDCENTER_RESTART_AFTER" }) {
		t.Error("Env(backend) has COMMANDCENTER_RESTART_AFTER: the backend is not restarted by its supervisor")
	}
	if got := c.HealthCheck("worker"); len(got) == 0 || got[0] != Script("alive") {
		t.Errorf("HealthCheck(worker) = %v, want commandcenter-alive", got)
	}
}
