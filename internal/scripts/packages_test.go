package scripts

import (
	"strings"
	"testing"
)

func TestSystemPackagesUseAptGet(t *testing.T) {
	s := newSandbox(t)
	s.fake("apt-get")
	_, stderr, err := s.run([]string{"PATH=" + s.bin + ":/bin"}, "system-packages", "gcc", "libpq-dev")
	if err != nil {
		t.Fatalf("system-packages = %v, %q", err, stderr)
	}
	got := strings.Fields(s.read("apt-get.argv"))
	want := "install -y -qq --no-install-recommends gcc libpq-dev"
	if strings.Join(got, " ") != want {
		t.Errorf("apt-get argv = %q, want %q", got, want)
	}
}

func TestSystemPackagesPreferApk(t *testing.T) {
	s := newSandbox(t)
	s.fake("apk")
	s.fake("apt-get")
	if _, stderr, err := s.run([]string{"PATH=" + s.bin + ":/bin"}, "system-packages", "gcc"); err != nil {
		t.Fatalf("system-packages = %v, %q", err, stderr)
	}
	if got := strings.Fields(s.read("apk.argv")); strings.Join(got, " ") != "add --no-cache gcc" {
		t.Errorf("apk argv = %q, want add --no-cache gcc", got)
	}
}

func TestSystemPackagesWithoutAPackageManager(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run([]string{"PATH=" + s.bin}, "system-packages", "gcc")
	if exitCode(err) != 78 || !strings.Contains(stderr, "needs apk or apt-get") {
		t.Errorf("system-packages without apk or apt-get = %v, %q; want exit 78 naming the fix", err, stderr)
	}
}
