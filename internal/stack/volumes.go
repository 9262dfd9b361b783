package stack

import "strings"

// Volume names a cache volume of one project: commandcenter-<project>-<parts...>.
func Volume(project string, parts ...string) string {
	return strings.Join(append([]string{"commandcenter", project}, parts...), "-")
}

// ImageMajor returns the major version in an image reference's tag
// ("16" for postgres:16-alpine), or "custom" when the tag does not start
// with one. Data volumes carry it in their name, so a new major version
// starts on a fresh volume instead of failing on files it cannot read.
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
