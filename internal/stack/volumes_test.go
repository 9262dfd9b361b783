package stack

import "testing"

func TestVolume(t *testing.T) {
	if got, want := Volume("shop", "pgdata", "16"), "commandcenter-shop-pgdata-16"; got != want {
		t.Errorf("Volume() = %q, want %q", got, want)
	}
}

func TestImageMajor(t *testing.T) {
	tests := map[string]string{
		"postgres:16-alpine":                  "16",
		"postgres:16.4":                       "16",
		"docker.io/library/postgres:18":       "18",
		"redis:7-alpine@sha256:0123abcd":      "7",
		"localhost:5000/postgres:15-bookworm": "15",
		"localhost:5000/postgres":             "custom",
		"postgres":                            "custom",
		"postgres:latest":                     "custom",
		"postgres@sha256:0123abcd":            "custom",
	}
	for ref, want := range tests {
		if got := ImageMajor(ref); got != want {
			t.Errorf("ImageMajor(%q) = %q, want %q", ref, got, want)
		}
	}
}
