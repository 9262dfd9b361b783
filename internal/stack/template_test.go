package stack

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTemplateEnvNamesNoProjectAndNoSecret(t *testing.T) {
	c := validConfig()
	c.Project = "shop"
	c.PostgresExtensions = []string{"vector", "", "pg_trgm"}
	want := []EnvVar{
		{"COMMANDCENTER_LOG_DIR", "/tmp"},
		{"POSTGRES_USER", "commandcenter"}, {"POSTGRES_DB", "commandcenter"},
		{"POSTGRES_INITDB_ARGS", "--encoding=UTF8 --locale=C"},
		{"COMMANDCENTER_PG_SUPERUSER", "postgres"},
		{"COMMANDCENTER_PG_EXTENSIONS", "vector pg_trgm"},
		{"COMMANDCENTER_PG_IMAGE", "pgvector/pgvector:pg16"},
	}
	got := c.TemplateEnv()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TemplateEnv mismatch (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if strings.Contains(e.Value, "shop") || strings.Contains(e.Name, "PASSWORD") || strings.HasPrefix(e.Value, SecretDir) {
			t.Errorf("TemplateEnv has %s=%s: the template must name no project and read no secret", e.Name, e.Value)
		}
	}
}

func TestOnlyProjectsWithoutAStoreUseTheTemplate(t *testing.T) {
	c := validConfig()
	if !c.UsesTemplate() {
		t.Error("a project without a store does not use the template")
	}
	c.Store.URL = "s3://bucket/cc"
	if c.UsesTemplate() {
		t.Error("a project with a store uses the template: its cluster would share the template's system identifier")
	}
}
