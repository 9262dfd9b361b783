package stack

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRunningRoundTrip(t *testing.T) {
	c := validConfig()
	c.Workers = []Worker{{Name: "worker", Command: "celery -A app worker"}, {Name: "beat", Command: "celery -A app beat"}}
	c.BackendUser = "1000:1000"
	text := RunningOf(c).Render()
	if want := "backend-user=1000:1000\nworker=worker\nworker=beat\n"; text != want {
		t.Errorf("Render() = %q, want %q", text, want)
	}
	r, found, err := ParseRunning(text)
	if err != nil || !found {
		t.Fatalf("ParseRunning(%q) = %v, %v", text, found, err)
	}
	// Another terminal, without the source: the default configuration.
	got := r.Apply(validConfig())
	if diff := cmp.Diff([]Service{Postgres, Redis, Backend, "worker", "beat", Frontend}, got.Services()); diff != "" {
		t.Errorf("Services() after Apply (-want +got):\n%s", diff)
	}
	if got.User("beat") != "1000:1000" {
		t.Errorf("User(beat) after Apply = %q, want 1000:1000", got.User("beat"))
	}
	// A source that declares another worker, and one of the recorded ones.
	src := validConfig()
	src.Workers = []Worker{{Name: "beat", Command: "celery beat", Probe: "true"}, {Name: "mailer", Command: "mail"}}
	want := []Worker{{Name: "beat", Command: "celery beat", Probe: "true"}, {Name: "mailer", Command: "mail"}, {Name: "worker"}}
	if diff := cmp.Diff(want, r.Apply(src).Workers); diff != "" {
		t.Errorf("Apply to a source's workers (-want +got):\n%s", diff)
	}
}

func TestParseRunning(t *testing.T) {
	if _, found, err := ParseRunning(""); found || err != nil {
		t.Errorf("ParseRunning(\"\") = %v, %v; want no record", found, err)
	}
	if _, _, err := ParseRunning("backend-user=10001:10001\nworker=Not_A_Label\n"); err == nil {
		t.Error("ParseRunning of a worker name that is no DNS label: want an error")
	}
}
