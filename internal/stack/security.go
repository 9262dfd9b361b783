package stack

import "fmt"

// AppUID is the user and group ID of the backend's "app" user, which the
// module creates in the backend image.
const AppUID = 10001

// SecretMode is the mode of every secret the module mounts: read-only, and
// only by the owner, the user of the service that reads it.
const SecretMode = 0o400

// User is who a service's process runs as: a user of its image, by name so
// that the image decides the ID (postgres is 70 on Alpine and 999 on
// Debian), or the app user the module creates. Never root.
func User(s Service) string {
	switch s {
	case Postgres:
		return "postgres"
	case Redis:
		return "redis"
	case Backend:
		return fmt.Sprintf("%d:%d", AppUID, AppUID)
	case Frontend:
		return "node"
	case Proxy:
		return "nginx"
	}
	// A worker runs as the backend does.
	return User(Backend)
}

// SecretPath is where a given secret is mounted.
func SecretPath(name string) string {
	return SecretDir + "/" + name
}

// Given says which secrets the module's caller supplied.
type Given struct {
	DBPassword, RedisPassword, SecretKey bool
	// BackendEnvFile: the app's dotenv file for the backend.
	BackendEnvFile bool
	// Store: the project has a durable store, whose backups carry the
	// generated database password and SECRET_KEY.
	Store bool
}

// SecretFiles says where each secret is read from: the mounted file of a
// given secret, or the file a service generates on its project's volume.
func (g Given) SecretFiles() SecretFiles {
	f := SecretFiles{
		DBPassword:            GeneratedDBDir + "/db-password",
		GenerateDBPassword:    !g.DBPassword,
		RedisPassword:         GeneratedRedisDir + "/redis-password",
		GenerateRedisPassword: !g.RedisPassword,
		SecretKey:             StateDir + "/secret-key",
		GenerateSecretKey:     !g.SecretKey,
	}
	if g.DBPassword {
		f.DBPassword = SecretPath("db-password")
	}
	if g.RedisPassword {
		f.RedisPassword = SecretPath("redis-password")
	}
	if g.SecretKey {
		f.SecretKey = SecretPath("secret-key")
	} else if g.Store {
		// postgres generates it beside the database password, and keeps a
		// copy of both in PGDATA, which the store's backups carry.
		f.SecretKey, f.GenerateSecretKey, f.PostgresGeneratesSecretKey = GeneratedDBDir+"/secret-key", false, true
	}
	if g.BackendEnvFile {
		f.BackendEnvFile = SecretPath("backend.env")
	}
	return f
}
