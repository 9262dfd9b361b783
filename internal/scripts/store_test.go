package scripts

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// storeEnv is what the module gives the postgres container's scripts of
// the store, with the keys in a dotenv file the way users write one.
func (s *sandbox) storeEnv(credentials string) []string {
	return []string{
		"COMMANDCENTER_STORE_CREDENTIALS=" + s.write(filepath.Join(s.dir, "store.env"), credentials, 0o400),
		"COMMANDCENTER_STORE_KEY_FILE=" + s.write(filepath.Join(s.dir, "store-key"), "cipher-"+secretValue, 0o400),
		"TMPDIR=" + s.dir,
	}
}

const credentials = "# keys\nexport AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY = \"" + secretValue + "\"\n"

func TestPgBackRestGetsTheKeysInItsEnvironmentOnly(t *testing.T) {
	s := newSandbox(t)
	s.fake("pgbackrest")
	if _, stderr, err := s.run(s.storeEnv(credentials), "pgbackrest", "--stanza=shop", "backup"); err != nil {
		t.Fatalf("commandcenter-pgbackrest: %v\n%s", err, stderr)
	}
	env := s.read("pgbackrest.env")
	for _, want := range []string{"PGBACKREST_REPO1_S3_KEY=AKIDEXAMPLE\n", "PGBACKREST_REPO1_S3_KEY_SECRET=" + secretValue + "\n",
		"PGBACKREST_REPO1_CIPHER_PASS=cipher-" + secretValue + "\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("pgbackrest's environment lacks %q", want)
		}
	}
	if argv := s.read("pgbackrest.argv"); argv != "--stanza=shop\nbackup\n" || strings.Contains(argv, secretValue) {
		t.Errorf("pgbackrest's argv = %q, want the arguments alone", argv)
	}
}

func TestPgBackRestNamesTheFlagWhenAKeyIsMissing(t *testing.T) {
	s := newSandbox(t)
	s.fake("pgbackrest")
	_, stderr, err := s.run(s.storeEnv("AWS_ACCESS_KEY_ID=AKIDEXAMPLE\n"), "pgbackrest", "info")
	if exitCode(err) != 2 || !strings.Contains(stderr, "--store-credentials") || !strings.Contains(stderr, "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("a credentials file without the secret: exit %d, stderr %q; want 2 and the flag", exitCode(err), stderr)
	}
}

func TestArchivePushRecordsFailuresAndTheCatchUp(t *testing.T) {
	s := newSandbox(t)
	s.write(filepath.Join(s.bin, "pgbackrest"), `#!/bin/sh
[ -e "$FAKE_OUT/store-up" ] && exit 0
echo "ERROR: [039]: HTTP request failed: unable to reach the store" >&2
exit 39
`, 0o755)
	push := func() error {
		_, _, err := s.run(s.storeEnv(credentials), "pgbackrest", "archive-push", "pg_wal/000000010000000000000007")
		return err
	}
	for range 2 {
		if exitCode(push()) != 39 {
			t.Fatal("archive-push against a store that is down: want pgBackRest's exit 39")
		}
	}
	down := fields(s.read("logs/postgres.archive"))
	if down["failures"] != "2" || down["failing_since"] == "" || !strings.Contains(down["error"], "unable to reach") {
		t.Errorf("record while the store is down = %v, want 2 failures, since when, and the error", down)
	}
	s.write(filepath.Join(s.dir, "store-up"), "", 0o644)
	if err := push(); err != nil {
		t.Fatalf("archive-push once the store is back: %v", err)
	}
	up := fields(s.read("logs/postgres.archive"))
	if up["wal"] != "000000010000000000000007" || up["at"] == "" || up["failing_since"] != "" || up["failures"] != "0" {
		t.Errorf("record once archiving caught up = %v, want the segment, when, and no failure", up)
	}
}

func TestRunRunsTheBeforeStopHookFirst(t *testing.T) {
	s := newSandbox(t)
	s.write(filepath.Join(s.bin, "flush"), "#!/bin/sh\necho \"flush $1\" >>\"$FAKE_OUT/order\"\n", 0o755)
	cmd, exited := s.startSupervised([]string{"COMMANDCENTER_BEFORE_STOP=flush now"},
		`trap 'echo term >>"$FAKE_OUT/order"; exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, exited, 5*time.Second); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	if got := s.read("order"); got != "flush now\nterm\n" {
		t.Errorf("order = %q, want the hook, with its argument, then the stop signal", got)
	}
}
