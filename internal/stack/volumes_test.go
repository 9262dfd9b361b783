package stack

import (
	"strings"
	"testing"
)

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

func TestPGDataVolume(t *testing.T) {
	if got, want := PGDataVolume("shop", "17"), "commandcenter-shop-pgdata-17"; got != want {
		t.Errorf("PGDataVolume() = %q, want %q", got, want)
	}
}

func TestPostgresMajor(t *testing.T) {
	tests := []struct {
		env, version, want string
	}{
		{"16", "", "16"},
		{"17", "postgres (PostgreSQL) 16.4", "17"}, // PG_MAJOR wins
		{"9.6", "", "9.6"},
		{"", "postgres (PostgreSQL) 16.4", "16"},
		{"", "postgres (PostgreSQL) 17.0 (Debian 17.0-1.pgdg120+1)\n", "17"},
		{"", "postgres (PostgreSQL) 18beta1", "18"},
		{"", "postgres (PostgreSQL) 9.6.24", "9.6"},
		{"latest", "postgres (PostgreSQL) 15.8", "15"}, // a PG_MAJOR that is no version is ignored
	}
	for _, tt := range tests {
		got, err := PostgresMajor(tt.env, tt.version)
		if err != nil || got != tt.want {
			t.Errorf("PostgresMajor(%q, %q) = %q, %v; want %q", tt.env, tt.version, got, err, tt.want)
		}
	}
	if got, err := PostgresMajor("", "sh: postgres: not found"); err == nil || !strings.Contains(err.Error(), "PG_MAJOR") {
		t.Errorf("PostgresMajor of an image without PostgreSQL = %q, %v; want an error naming PG_MAJOR", got, err)
	}
}
