package stack

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNoServiceRunsAsRoot(t *testing.T) {
	for _, s := range Logged {
		u := User(s)
		name, _, _ := strings.Cut(u, ":")
		if name == "" || name == "root" {
			t.Errorf("User(%s) = %q, want a non-root user", s, u)
		}
		if id, err := strconv.Atoi(name); err == nil && id == 0 {
			t.Errorf("User(%s) = %q is uid 0", s, u)
		}
	}
	if got, want := User(Backend), "10001:10001"; got != want {
		t.Errorf("User(backend) = %q, want %q", got, want)
	}
}

func TestSecretMode(t *testing.T) {
	if SecretMode&0o077 != 0 || SecretMode&0o222 != 0 {
		t.Errorf("SecretMode = %o, want owner read-only", SecretMode)
	}
}

func TestSecretFiles(t *testing.T) {
	tests := []struct {
		name  string
		given Given
		want  SecretFiles
	}{
		{"none given", Given{}, SecretFiles{
			DBPassword: "/var/lib/commandcenter-db/db-password", GenerateDBPassword: true,
			RedisPassword: "/var/lib/commandcenter-redis/redis-password", GenerateRedisPassword: true,
			SecretKey: "/var/lib/commandcenter/secret-key", GenerateSecretKey: true,
		}},
		{"all given", Given{DBPassword: true, RedisPassword: true, SecretKey: true}, SecretFiles{
			DBPassword: "/run/secrets/db-password", RedisPassword: "/run/secrets/redis-password",
			SecretKey: "/run/secrets/secret-key",
		}},
		{"only the database password", Given{DBPassword: true}, SecretFiles{
			DBPassword:    "/run/secrets/db-password",
			RedisPassword: "/var/lib/commandcenter-redis/redis-password", GenerateRedisPassword: true,
			SecretKey: "/var/lib/commandcenter/secret-key", GenerateSecretKey: true,
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.given.SecretFiles()); diff != "" {
			t.Errorf("%s: SecretFiles() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}
