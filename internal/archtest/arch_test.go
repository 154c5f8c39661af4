package archtest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// layers gives, for each package of the module, the packages of the module
// it may import (its own tests aside). Dependencies point one way, down the
// layers of DESIGN.md:
//
//	cmd/sonde → internal/cli → scan trace analyze → probe → capture rawsock route
//	→ filter capfile → packet;  geo and lab stand alone.
//
// A package missing here fails the test: add it where it belongs.
var layers = map[string][]string{
	"cmd/sonde":         {"internal/cli"},
	"internal/cli":      {"*"},
	"internal/labsvc":   {},
	"internal/parquet":  {},
	"internal/archtest": {},
	"lab":               {"internal/labsvc"},
	"lab/labtest":       {"lab"},
	"geo":               {},
	"packet":            {},
	"filter":            {"packet"},
	"capfile":           {"packet"},
	"capture":           {"packet", "filter", "capfile"},
	"rawsock":           {"packet"},
	"route":             {"packet", "rawsock"},
	"probe":             {"packet", "rawsock", "route", "capture", "filter"},
	"analyze":           {"packet", "filter", "capfile", "capture", "internal/parquet"},
	"trace":             {"packet", "rawsock", "route", "probe", "geo"},
	"scan":              {"packet", "rawsock", "route", "probe", "capture", "filter"},
	"report":            {"analyze", "geo", "packet"},
	"bench/gen":         {"capfile", "packet"}, // a tool of the benchmarks, above no layer

	// The world map of reports: constant data, and the generator of it
	// that go generate runs.
	"report/worldmap":     {},
	"report/worldmap/gen": {"report/worldmap"},
}

// pure packages never make a syscall, start a goroutine or read a clock.
var pure = []string{"packet", "filter", "report/worldmap"}

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "sonde/...")
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
	return pkgs
}

func TestLayerOrder(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 3 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		name := strings.TrimPrefix(p.ImportPath, "sonde/")
		allowed, ok := layers[name]
		if !ok {
			t.Errorf("package %s is not in the layer map of %s: place it", name, "internal/archtest")
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, "sonde/")
			if !ours {
				continue
			}
			if dep == "internal/cli" && name != "cmd/sonde" {
				t.Errorf("%s imports internal/cli: only cmd/sonde may", name)
			}
			if !slices.Contains(allowed, "*") && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, against the layer order (it may import: %v)", name, dep, allowed)
			}
		}
	}
}

func TestPurePackagesMakeNoSyscallsGoroutinesOrClockReads(t *testing.T) {
	forbidden := []string{"syscall", "golang.org/x/sys/unix", "os", "os/exec", "net/http", "unsafe"}
	for _, p := range listPackages(t) {
		name := strings.TrimPrefix(p.ImportPath, "sonde/")
		if !slices.Contains(pure, name) {
			continue
		}
		for _, imp := range p.Imports {
			if slices.Contains(forbidden, imp) {
				t.Errorf("pure package %s imports %s", name, imp)
			}
		}
		fset := token.NewFileSet()
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: pure package %s starts a goroutine", fset.Position(n.Pos()), name)
				case *ast.SelectorExpr:
					if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && slices.Contains([]string{"Now", "Since", "Until", "Sleep", "After", "Tick", "NewTimer", "NewTicker"}, n.Sel.Name) {
						t.Errorf("%s: pure package %s reads the clock (time.%s)", fset.Position(n.Pos()), name, n.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
