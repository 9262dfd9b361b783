package stack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Volume names a cache volume of one project: commandcenter-<project>-<parts...>.
func Volume(project string, parts ...string) string {
	return strings.Join(append([]string{"commandcenter", project}, parts...), "-")
}

// PGDataVolume names a project's PostgreSQL data volume for one major
// version: a new major starts on its own volume instead of failing on files
// that another major wrote, and commandcenter-postgres refuses to start it
// empty while the project's database lives on another major's volume.
func PGDataVolume(project, major string) string {
	return Volume(project, "pgdata", major)
}

// ImageMajor returns the major version in an image reference's tag
// ("7" for redis:7-alpine), or "custom" when the tag does not start
// with one. Redis data volumes carry it in their name.
func ImageMajor(ref string) string {
	if at := strings.Index(ref, "@"); at >= 0 {
		ref = ref[:at]
	}
	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if colon <= slash {
		return "custom"
	}
	tag := ref[colon+1:]
	end := 0
	for end < len(tag) && tag[end] >= '0' && tag[end] <= '9' {
		end++
	}
	if end == 0 {
		return "custom"
	}
	return tag[:end]
}

var (
	pgMajorValue   = regexp.MustCompile(`^([1-9][0-9]*|9\.[0-9])$`)
	postgresSemver = regexp.MustCompile(`\(PostgreSQL\) ([0-9]+)(\.[0-9]+)?`)
)

// PostgresMajor is the major version of a postgres image: its PG_MAJOR
// variable, as the official images set it, or else what `postgres --version`
// printed ("postgres (PostgreSQL) 16.4" is 16, "... 9.6.24" is 9.6).
func PostgresMajor(pgMajor, versionOutput string) (string, error) {
	if pgMajorValue.MatchString(pgMajor) {
		return pgMajor, nil
	}
	m := postgresSemver.FindStringSubmatch(versionOutput)
	if m == nil {
		return "", fmt.Errorf("cannot tell the PostgreSQL version: the image sets no PG_MAJOR and `postgres --version` printed %q", Summary(versionOutput))
	}
	if n, _ := strconv.Atoi(m[1]); n < 10 && m[2] != "" {
		return m[1] + m[2], nil
	}
	return m[1], nil
}

// PostgresFamilies are the uids of the postgres user in the two families of
// official postgres images: 70 in the Alpine ones, 999 in the Debian ones
// (pgvector/pgvector included). The engine keys a volume on its owner, so
// each family sees its own volumes of a project; the module mounts the
// other family's under FamiliesDir to carry a project across a change of
// image family (internal/scripts/pg-family.sh).
var PostgresFamilies = []int{70, 999}

// FamiliesDir is where the project's volumes of each family are mounted,
// one directory per uid, in the step that carries a project across.
const FamiliesDir = "/var/lib/commandcenter-families"

// FamilyOwner is the owner that mounts a volume of the family of uid.
func FamilyOwner(uid int) string {
	return fmt.Sprintf("%d:%d", uid, uid)
}
