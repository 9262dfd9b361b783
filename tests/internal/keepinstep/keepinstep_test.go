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
