// Package keepinstep checks, with plain `go test` and no engine, that the
// tests module's suite lists every test function and that each carries
// +check. It reads the module's source instead of importing it: the
// generated client in package main needs a running engine.
package keepinstep

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type source struct {
	tests  map[string]bool // methods of *Tests shaped like a test
	suite  []string        // the names listed in suite()
	checks map[string]bool // methods whose doc carries +check
}

func parseTests(t *testing.T) source {
	t.Helper()
	files, err := filepath.Glob("../../*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in the tests module: %v", err)
	}
	src := source{tests: map[string]bool{}, checks: map[string]bool{}}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, ".gen.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !isTestsMethod(fn) {
				continue
			}
			if fn.Name.Name == "suite" {
				src.suite = suiteNames(fn)
			}
			if isTestShape(fn) && fn.Name.Name != "All" {
				src.tests[fn.Name.Name] = true
				src.checks[fn.Name.Name] = fn.Doc != nil && strings.Contains(fn.Doc.Text(), "+check")
			}
		}
	}
	return src
}

func isTestsMethod(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == "Tests"
}

// isTestShape matches func (m *Tests) X(ctx context.Context) error, exported.
func isTestShape(fn *ast.FuncDecl) bool {
	params, results := fn.Type.Params.List, fn.Type.Results
	if !fn.Name.IsExported() || len(params) != 1 || len(params[0].Names) != 1 || results == nil || len(results.List) != 1 {
		return false
	}
	sel, ok := params[0].Type.(*ast.SelectorExpr)
	res, ok2 := results.List[0].Type.(*ast.Ident)
	return ok && ok2 && sel.Sel.Name == "Context" && res.Name == "error"
}

// suiteNames collects every m.X referenced in suite().
func suiteNames(fn *ast.FuncDecl) []string {
	var names []string
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "m" {
				names = append(names, sel.Sel.Name)
			}
		}
		return true
	})
	return names
}

func TestSuiteListsEveryTest(t *testing.T) {
	src := parseTests(t)
	var defined []string
	for name := range src.tests {
		defined = append(defined, name)
	}
	listed := append([]string(nil), src.suite...)
	sort.Strings(defined)
	sort.Strings(listed)
	if diff := cmp.Diff(defined, listed); diff != "" {
		t.Errorf("suite() and the test functions differ (-defined +listed):\n%s", diff)
	}
	if len(defined) < 16 {
		t.Errorf("found %d tests, want at least the 16 of the suite: is the parser still finding them?", len(defined))
	}
}

func TestEveryTestIsACheck(t *testing.T) {
	for name, check := range parseTests(t).checks {
		if !check {
			t.Errorf("%s has no +check pragma: dagger check would skip it", name)
		}
	}
}

func TestFixtureNeedsNoDownload(t *testing.T) {
	req, err := os.ReadFile("../../testdata/app/backend/requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(req)) != "" {
		t.Errorf("fixture requirements.txt = %q, want it empty: the suite must run without PyPI", req)
	}
	pkg, err := os.ReadFile("../../testdata/app/frontend/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(pkg), "dependencies") {
		t.Errorf("fixture package.json has dependencies: the suite must run without npm")
	}
}

// notTests are the names the docs cite in backquotes, shaped like a test
// (three capitalised words or more), that are no test: the engine's and
// the S3 API's. A name cited that is neither here nor a test of the suite
// fails TestDocsNameOnlyExistingTests.
var notTests = map[string]bool{
	"InsecureRootCapabilities": true, "NoSuchBucket": true, "SignatureDoesNotMatch": true,
	"StopSessionServices": true, "WithEnvVariable": true, "WithoutSecretVariable": true,
	"commandcenter-p-logs-backend": true, // a container's name
	"archive-push-queue-max":       true, // a pgBackRest option
}

// cited matches a backquoted name of three capitalised words or more, a
// backquoted kebab-case name of four words or more, or the function after
// `dagger call -m tests`.
var cited = regexp.MustCompile("`([A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*){2,})`|`([a-z0-9]+(?:-[a-z0-9]+){3,})`|dagger call -m tests ([a-z0-9-]+)")

// kebab is a test's name on the command line: HardKillKeepsCommittedRows
// is hard-kill-keeps-committed-rows, digits a word of their own.
func kebab(name string) string {
	var b strings.Builder
	for i, r := range name {
		prev := rune(0)
		if i > 0 {
			prev = rune(name[i-1])
		}
		upper, digit := r >= 'A' && r <= 'Z', r >= '0' && r <= '9'
		if i > 0 && (upper || digit && !(prev >= '0' && prev <= '9')) {
			b.WriteByte('-')
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

// TestDocsNameOnlyExistingTests fails when README.md or docs/*.md names a
// test that the suite does not have: a renamed or removed test, or a typo.
func TestDocsNameOnlyExistingTests(t *testing.T) {
	tests := map[string]bool{"all": true, "bench": true}
	for name := range parseTests(t).tests {
		tests[name], tests[kebab(name)] = true, true
	}
	for _, name := range unitTests(t) {
		tests[name] = true
	}
	docs, err := filepath.Glob("../../../docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md beside the tests module: %v", err)
	}
	found := 0
	for _, doc := range append(docs, "../../../README.md") {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cited.FindAllStringSubmatch(string(text), -1) {
			name := m[1] + m[2] + m[3]
			switch {
			case tests[name]:
				found++
			case !notTests[name]:
				t.Errorf("%s names %s, which is no test of the suite: rename it to the test's name, or add it to notTests if it is not a test", filepath.Base(doc), name)
			}
		}
	}
	if found == 0 {
		t.Error("the docs name no test of the suite: is the pattern still finding them?")
	}
}

// unitTestFunc is a Go unit test's declaration.
var unitTestFunc = regexp.MustCompile(`(?m)^func (Test[A-Z]\w*)\(t \*testing\.T\)`)

// unitTests lists the Go unit tests of the repository, which the docs may
// cite too (TestTemplateEnvNamesNoProjectAndNoSecret).
func unitTests(t *testing.T) []string {
	var names []string
	err := filepath.WalkDir("../../..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		text, err := os.ReadFile(path)
		for _, m := range unitTestFunc.FindAllStringSubmatch(string(text), -1) {
			names = append(names, m[1])
		}
		return err
	})
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go unit tests found in the repository: %v", err)
	}
	return names
}

func TestKebab(t *testing.T) {
	for name, want := range map[string]string{
		"HardKillKeepsCommittedRows":   "hard-kill-keeps-committed-rows",
		"StoreArchivesWithin60Seconds": "store-archives-within-60-seconds",
	} {
		if got := kebab(name); got != want {
			t.Errorf("kebab(%s) = %s, want %s", name, got, want)
		}
	}
}
