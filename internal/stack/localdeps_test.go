package stack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRequirementRefs(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []Ref
	}{
		{"none", "fastapi==0.109.0\nuvicorn[standard]==0.27.0\n# a comment\n", nil},
		{"editable with a comment", "-e ../libs/knowledgebeast  # Editable install from monorepo libs/\n",
			[]Ref{{Line: 1, Path: "../libs/knowledgebeast"}}},
		{"editable forms", "--editable ../a\n--editable=../b\n-e ./c[dev]\n-e ../d#egg=d\n",
			[]Ref{{1, "../a", false}, {2, "../b", false}, {3, "./c", false}, {4, "../d", false}}},
		{"bare paths", "../libs/x\n./vendor/y ; python_version >= '3.8'\n..\n",
			[]Ref{{1, "../libs/x", false}, {2, "./vendor/y", false}, {3, "..", false}}},
		{"file URLs", "file:../libs/x\nkb @ file:../libs/kb\nz @ file:///opt/z\n",
			[]Ref{{1, "../libs/x", false}, {2, "../libs/kb", false}, {3, "/opt/z", false}}},
		{"includes", "-r base.txt\n--requirement=../common/req.txt\n-c constraints.txt\n-r https://example.com/r.txt\n",
			[]Ref{{1, "base.txt", true}, {2, "../common/req.txt", true}, {3, "constraints.txt", true}}},
		{"remote and VCS are not local", "-e git+https://github.com/a/b#egg=b\nhttps://example.com/x.whl\nx @ https://e.com/x.tar.gz\n", nil},
		{"continued line", "-e \\\n  ../libs/x\nrequests\r\n",
			[]Ref{{1, "../libs/x", false}}},
		{"a # inside a version is a comment only after whitespace", "a==1.0#not-a-comment\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RequirementRefs(tc.text)); diff != "" {
				t.Errorf("RequirementRefs(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestPackageJSONRefs(t *testing.T) {
	got, err := PackageJSONRefs(`{"dependencies": {"react": "^18", "b": "file:../libs/b", "a": "file:./vendor/a"},
		"devDependencies": {"c": "file:../libs/c", "d": "workspace:*"}, "scripts": {"x": "file:../no"}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{{Path: "./vendor/a"}, {Path: "../libs/b"}, {Path: "../libs/c"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PackageJSONRefs (-want +got):\n%s", diff)
	}
	if _, err := PackageJSONRefs("{"); err == nil {
		t.Error("PackageJSONRefs(\"{\") = nil error, want one")
	}
}

// files is a source tree for ResolveInstall: read fails on a missing file
// as the module's does.
func files(tree map[string]string) func(string) (string, error) {
	return func(p string) (string, error) {
		text, ok := tree[p]
		if !ok {
			return "", fmt.Errorf("%s not found in --source", p)
		}
		return text, nil
	}
}

func TestResolveInstall(t *testing.T) {
	tree := map[string]string{
		"backend/requirements.txt": "fastapi\n-e ../libs/kb  # local\n-r ../common/base.txt\n-r extra.txt\n",
		"backend/extra.txt":        "../libs/other\n-e ../libs/kb\n",
		"common/base.txt":          "file:../libs/third\n",
		"frontend/package.json":    `{"dependencies": {"ui": "file:../libs/ui"}}`,
	}
	for _, tc := range []struct {
		name, kind, app, manifest string
		want                      InstallInputs
	}{
		{"requirements with includes", Requirements, "backend", "requirements.txt", InstallInputs{
			Manifests: []Copy{
				{"backend/requirements.txt", "/app/requirements.txt"},
				{"common/base.txt", "/common/base.txt"},
				{"backend/extra.txt", "/app/extra.txt"},
			},
			Packages: []Copy{
				{"libs/kb", "/libs/kb"},
				// pip resolves a package's path from its working directory,
				// /app, whichever file names it: ../libs from common/ too.
				{"libs/third", "/libs/third"},
				{"libs/other", "/libs/other"},
			},
		}},
		{"package.json", PackageJSON, "frontend", "package.json", InstallInputs{
			Manifests: []Copy{{"frontend/package.json", "/app/package.json"}},
			Packages:  []Copy{{"libs/ui", "/libs/ui"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveInstall(tc.kind, tc.app, tc.manifest, files(tree))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ResolveInstall (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveInstallRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, app, requirements, want string
	}{
		{"outside the source", "backend", "-e ../../elsewhere\n", "backend/requirements.txt line 1 names ../../elsewhere, which is outside --source"},
		{"absolute", "backend", "file:///opt/x\n", "names /opt/x, which is outside --source"},
		{"a system directory", "backend", "../etc\n", "would be copied to /etc in the image"},
		{"the image's root", "backend", "-e ..\n", "would be copied to / in the image"},
		{"one place, two sources", "a/b", "-e ../x\n-e ../../x\n", "where a/x already goes"},
		{"a missing include", "backend", "-r missing.txt\n", "backend/missing.txt not found in --source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := map[string]string{tc.app + "/requirements.txt": tc.requirements}
			_, err := ResolveInstall(Requirements, tc.app, "requirements.txt", files(tree))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ResolveInstall(%q) = %v, want an error with %q", tc.requirements, err, tc.want)
			}
		})
	}
}
