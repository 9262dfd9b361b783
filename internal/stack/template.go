package stack

import "strings"

// A new project's cluster is a copy of a template cluster, made once per
// postgres image and settings in a cached build step that names no project
// (internal/scripts/pg-template.sh), instead of an initdb of its own.

// PGTemplate is where the template cluster sits in the postgres image.
const PGTemplate = "/usr/share/commandcenter/pg-template"

// PasswordPending exists in a cluster copied from the template until its
// server has given the app's role the project's password
// (commandcenter-pg-template password): until then that role has none, so
// nobody logs in with it, and postgres's health check fails, so nothing that
// binds postgres starts.
const PasswordPending = PGData + "/commandcenter/password-pending"

// PGTemplateBuild is where the build step makes the template cluster.
const PGTemplateBuild = "/tmp/commandcenter-pg-template"

// UsesTemplate says whether a new cluster of the project is copied from
// the template. With a store, a new project runs its own initdb: each
// project's cluster then has a system identifier of its own, which
// pgBackRest checks its archive against.
func (c Config) UsesTemplate() bool { return !c.Store.Enabled() }

// TemplateEnv is the environment of the step that makes the template: the
// settings it depends on, and nothing of any project (no name, no secret).
func (c Config) TemplateEnv() []EnvVar {
	return []EnvVar{
		{"COMMANDCENTER_LOG_DIR", "/tmp"},
		{"POSTGRES_USER", DBUser}, {"POSTGRES_DB", DBName},
		{"POSTGRES_INITDB_ARGS", InitdbArgs},
		{"COMMANDCENTER_PG_SUPERUSER", Superuser},
		{"COMMANDCENTER_PG_EXTENSIONS", c.extensions()},
		{"COMMANDCENTER_PG_IMAGE", c.Images.Postgres},
	}
}

// extensions is --postgres-extensions as a space-separated list, without
// the empty names that ask for none.
func (c Config) extensions() string {
	return strings.Join(strings.Fields(strings.Join(c.PostgresExtensions, " ")), " ")
}
