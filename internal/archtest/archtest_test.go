package archtest

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/vigil-zt/vigil"

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	Deps       []string
	GoFiles    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// pure packages hold logic that takes data and time as input: no storage,
// no network, no command line.
var pure = []string{"/internal/event", "/internal/source", "/internal/useragent",
	"/internal/detect", "/internal/risk", "/internal/classify", "/internal/hygiene", "/internal/decide"}

var impure = []string{module + "/internal/store", module + "/internal/ingest", module + "/internal/cli",
	module + "/internal/server", "net/http", "database/sql", "os/exec"}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module)
		if rel == "/internal/event" {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, module+"/") {
					t.Errorf("internal/event must import nothing internal, depends on %s", d)
				}
			}
		}
		for _, root := range pure {
			if rel != root && !strings.HasPrefix(rel, root+"/") {
				continue
			}
			if strings.HasSuffix(rel, "test") { // test helpers may use anything
				continue
			}
			for _, d := range p.Deps {
				for _, bad := range impure {
					if d == bad || strings.HasPrefix(d, bad+"/") {
						t.Errorf("%s must stay pure but depends on %s", rel, d)
					}
				}
			}
		}
		if rel != "/cmd/vigil" {
			for _, imp := range p.Imports {
				if imp == module+"/internal/cli" {
					t.Errorf("%s imports internal/cli: only cmd/vigil may", rel)
				}
			}
		}
	}
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range listPackages(t) {
		docs := 0
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if file.Doc != nil && strings.TrimSpace(file.Doc.Text()) != "" {
				docs++
				want := "Package " + file.Name.Name + " "
				if file.Name.Name == "main" {
					want = "Command "
				}
				if !strings.HasPrefix(file.Doc.Text(), want) {
					t.Errorf("%s/%s: package comment should start %q", p.ImportPath, f, want)
				}
			}
		}
		if docs == 0 {
			t.Errorf("%s has no package doc comment", p.ImportPath)
		}
		if docs > 1 {
			t.Errorf("%s has %d package doc comments; keep one", p.ImportPath, docs)
		}
	}
}

func TestNoUtilPackages(t *testing.T) {
	for _, p := range listPackages(t) {
		base := filepath.Base(p.ImportPath)
		switch base {
		case "util", "utils", "common", "helpers", "misc":
			t.Errorf("%s: name packages for what they provide", p.ImportPath)
		}
	}
}
