package openapicheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"microcert/infra/template"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The machine codes a client switches on are enums in openapi.yaml. The
// code base states them as string literals and constants at the places
// that make errors, findings, requirement errors and notifications. This
// file reads the Go source (not the tests) and collects every code it can
// produce, so that a code added anywhere fails TestCodesAreDocumented until
// the matching enum lists it.

// codeSource says where one enum's values come from in the source.
type codeSource struct {
	schema string // component schema holding the enum
	// types are composite literal types whose field holds a code
	// (matched on the type's last name: domain.Error and Error alike).
	types map[string]string
	// calls are constructors: name -> index of the code argument.
	calls map[string]int
	// assigned is a struct field whose assignment (x.F = "code" or an
	// untyped string constant) sets a code.
	assigned string
	// servedBy, when set, limits the scan to the packages that folder's
	// program imports (error codes: only what ApiFunction can answer).
	servedBy string
}

var codeSources = []codeSource{
	{
		schema:   "ErrorCode",
		types:    map[string]string{"Error": "Code", "FieldError": "Code"},
		calls:    map[string]int{"E": 1, "Wrap": 1},
		assigned: "Code",
		servedBy: "functions/api",
	},
	{schema: "RequirementErrorCode", types: map[string]string{"RequirementError": "Code"}},
	{schema: "FindingCode", types: map[string]string{"Finding": "Code"}},
	{schema: "NotificationKind", types: map[string]string{"Notification": "Kind"}, assigned: "Kind"},
}

// hiddenKinds are error kinds whose own code never reaches a client: the
// problem shows the kind's code instead (httpapi.publicCode).
var hiddenKinds = map[string]string{"KindInternal": "internal", "KindUnavailable": "unavailable"}

// sourceDirs are the folders holding the code the API runs.
var sourceDirs = []string{"shared", "functions"}

type goFile struct {
	pkg  string // the folder's base name (what importers qualify with)
	dir  string // the folder, relative to the repository root
	path string
	f    *ast.File
}

// modulePath is go.mod's module name, the prefix of the code's imports.
const modulePath = "microcert/"

// importClosure lists the folders that the program in dir imports,
// directly or not, within this module (dir included).
func importClosure(files []goFile, dir string) map[string]bool {
	imports := map[string][]string{}
	for _, gf := range files {
		for _, im := range gf.f.Imports {
			if p, err := strconv.Unquote(im.Path.Value); err == nil && strings.HasPrefix(p, modulePath) {
				imports[gf.dir] = append(imports[gf.dir], strings.TrimPrefix(p, modulePath))
			}
		}
	}
	seen := map[string]bool{}
	var visit func(d string)
	visit = func(d string) {
		if seen[d] {
			return
		}
		seen[d] = true
		for _, next := range imports[d] {
			visit(next)
		}
	}
	visit(dir)
	return seen
}

// parsedSource parses every non-test Go file of the source folders.
func parsedSource(t *testing.T) []goFile {
	t.Helper()
	root, err := template.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []goFile
	for _, dir := range sourceDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			out = append(out, goFile{pkg: filepath.Base(filepath.Dir(path)), dir: filepath.ToSlash(filepath.Dir(rel)),
				path: filepath.ToSlash(rel), f: f})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// codeScan holds what the files declare, to resolve code expressions.
type codeScan struct {
	files []goFile
	// consts are untyped string constants: "pkg.Name" -> value.
	consts map[string]string
	// params: "pkg.func" -> parameter names (functions and closures
	// assigned to a name), to follow a code passed in as an argument.
	params map[string][]string
}

func newCodeScan(files []goFile) *codeScan {
	s := &codeScan{files: files, consts: map[string]string{}, params: map[string][]string{}}
	for _, gf := range files {
		for _, decl := range gf.f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					if vs.Type != nil {
						continue
					}
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := stringLit(vs.Values[i]); ok {
								s.consts[gf.pkg+"."+name.Name] = v
							}
						}
					}
				}
			}
		}
	}
	// Constants defined as another package's constant (KindLapsed =
	// domain.NoticeLapsed), once the literals are known.
	for _, gf := range files {
		for _, decl := range gf.f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if sel, ok := vs.Values[i].(*ast.SelectorExpr); ok {
						if pkg, ok := sel.X.(*ast.Ident); ok {
							if v, ok := s.consts[pkg.Name+"."+sel.Sel.Name]; ok {
								s.consts[gf.pkg+"."+name.Name] = v
							}
						}
					}
				}
			}
		}
		ast.Inspect(gf.f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncDecl:
				if x.Recv == nil {
					s.params[gf.pkg+"."+x.Name.Name] = paramNames(x.Type)
				}
			case *ast.AssignStmt:
				for i, rhs := range x.Rhs {
					if lit, ok := rhs.(*ast.FuncLit); ok && i < len(x.Lhs) {
						if id, ok := x.Lhs[i].(*ast.Ident); ok {
							s.params[gf.pkg+"."+id.Name] = paramNames(lit.Type)
						}
					}
				}
			}
			return true
		})
	}
	return s
}

func paramNames(ft *ast.FuncType) []string {
	var out []string
	for _, field := range ft.Params.List {
		for _, n := range field.Names {
			out = append(out, n.Name)
		}
	}
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(lit.Value)
	return v, err == nil
}

// lastName is the final identifier of a name or selector.
func lastName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.StarExpr:
		return lastName(x.X)
	}
	return ""
}

// found is one code and where it was stated.
type found map[string][]string

func (f found) add(code, where string) { f[code] = append(f[code], where) }

// resolve finds the values an expression can have: a literal, a constant,
// or a parameter of the enclosing function (then the literals passed to it
// by its callers). Anything else (e.g. domain.CodeOf(err), which repeats a
// code made elsewhere) resolves to nothing.
func (s *codeScan) resolve(gf goFile, e ast.Expr, enclosing []string, out found, where string) {
	if v, ok := stringLit(e); ok {
		out.add(v, where)
		return
	}
	switch x := e.(type) {
	case *ast.Ident:
		if v, ok := s.consts[gf.pkg+"."+x.Name]; ok {
			out.add(v, where)
			return
		}
		for _, fn := range enclosing {
			names := s.params[gf.pkg+"."+fn]
			for i, n := range names {
				if n == x.Name {
					s.callers(gf.pkg, fn, i, out)
					return
				}
			}
		}
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok {
			if v, ok := s.consts[pkg.Name+"."+x.Sel.Name]; ok {
				out.add(v, where)
			}
		}
	}
}

// callers adds the values passed as argument i to pkg.fn.
func (s *codeScan) callers(pkg, fn string, i int, out found) {
	for _, gf := range s.files {
		if gf.pkg != pkg {
			continue
		}
		s.walk(gf, func(n ast.Node, enclosing []string, where string) {
			call, ok := n.(*ast.CallExpr)
			if !ok || lastName(call.Fun) != fn || i >= len(call.Args) {
				return
			}
			if _, local := call.Fun.(*ast.Ident); !local {
				return
			}
			s.resolve(gf, call.Args[i], enclosing, out, where)
		})
	}
}

// walk visits every node of gf with the names of the functions (and named
// closures) that enclose it, innermost first.
func (s *codeScan) walk(gf goFile, visit func(n ast.Node, enclosing []string, where string)) {
	var stack []string
	var inspect func(n ast.Node) bool
	inspect = func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncDecl:
			stack = append([]string{x.Name.Name}, stack...)
			visit(n, stack, gf.path+":"+x.Name.Name)
			if x.Body != nil {
				ast.Inspect(x.Body, inspect)
			}
			stack = stack[1:]
			return false
		case *ast.AssignStmt:
			for i, rhs := range x.Rhs {
				if lit, ok := rhs.(*ast.FuncLit); ok && i < len(x.Lhs) {
					if id, ok := x.Lhs[i].(*ast.Ident); ok {
						stack = append([]string{id.Name}, stack...)
						ast.Inspect(lit.Body, inspect)
						stack = stack[1:]
						return false
					}
				}
			}
		}
		where := gf.path
		if len(stack) > 0 {
			where += ":" + stack[0]
		}
		visit(n, stack, where)
		return true
	}
	ast.Inspect(gf.f, inspect)
}

// collect returns every value of src's enum the source can produce.
func (s *codeScan) collect(src codeSource) found {
	out := found{}
	var served map[string]bool
	if src.servedBy != "" {
		served = importClosure(s.files, src.servedBy)
	}
	for _, gf := range s.files {
		if served != nil && !served[gf.dir] {
			continue
		}
		s.walk(gf, func(n ast.Node, enclosing []string, where string) {
			// The constructors' own bodies build errors from their
			// parameters: their callers are what counts.
			if gf.pkg == "domain" && len(enclosing) > 0 {
				if _, ctor := src.calls[enclosing[0]]; ctor {
					return
				}
			}
			switch x := n.(type) {
			case *ast.CallExpr:
				i, ok := src.calls[lastName(x.Fun)]
				if !ok || i >= len(x.Args) || !isDomainCall(gf, x) {
					return
				}
				if code, hidden := hiddenKinds[lastName(x.Args[0])]; hidden {
					out.add(code, where)
					return
				}
				s.resolve(gf, x.Args[i], enclosing, out, where)
			case *ast.CompositeLit:
				// []T{{...}}: the elements' type is elided.
				if arr, ok := x.Type.(*ast.ArrayType); ok {
					if field, ok := src.types[lastName(arr.Elt)]; ok {
						for _, el := range x.Elts {
							if lit, ok := el.(*ast.CompositeLit); ok && lit.Type == nil {
								s.literal(gf, lit, field, enclosing, out, where)
							}
						}
					}
					return
				}
				if field, ok := src.types[lastName(x.Type)]; ok {
					s.literal(gf, x, field, enclosing, out, where)
				}
			case *ast.AssignStmt:
				if src.assigned == "" || len(x.Lhs) != len(x.Rhs) {
					return
				}
				for i, lhs := range x.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == src.assigned {
						// Only literals and constants: a copied value
						// repeats a code stated elsewhere.
						switch rhs := x.Rhs[i].(type) {
						case *ast.BasicLit, *ast.Ident, *ast.SelectorExpr:
							s.resolve(gf, rhs, nil, out, where)
						}
					}
				}
			}
		})
	}
	return out
}

// literal adds the code of one composite literal (field names the member
// holding it); an error of a hidden kind counts as its kind's code.
func (s *codeScan) literal(gf goFile, x *ast.CompositeLit, field string, enclosing []string, out found, where string) {
	var kind string
	var code ast.Expr
	for _, el := range x.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch lastName(kv.Key) {
		case field:
			code = kv.Value
		case "Kind":
			kind = lastName(kv.Value)
		}
	}
	if c, hidden := hiddenKinds[kind]; hidden && field == "Code" {
		out.add(c, where)
		return
	}
	if code != nil {
		s.resolve(gf, code, enclosing, out, where)
	}
}

// isDomainCall reports whether a call to E or Wrap is the domain's error
// constructor: domain.E(...) anywhere, or E(...) inside package domain.
func isDomainCall(gf goFile, call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		pkg, ok := fn.X.(*ast.Ident)
		return ok && pkg.Name == "domain"
	case *ast.Ident:
		return gf.pkg == "domain"
	}
	return false
}

// enumOf returns the values of a component schema's enum.
func enumOf(t *testing.T, name string) map[string]bool {
	t.Helper()
	ref := document(t).Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("%s has no schema %s", DocFile, name)
	}
	out := map[string]bool{}
	for _, v := range ref.Value.Enum {
		if s, ok := v.(string); ok {
			out[s] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("schema %s has no enum", name)
	}
	return out
}

// TestCodesAreDocumented fails when the code base can produce a code that
// its enum in openapi.yaml lacks. Generated clients (and apps switching on
// codes) learn codes from these enums; an undocumented one is a contract
// change nobody was told about. Add the code to the enum named in the
// failure (and to the operations' error lists).
func TestCodesAreDocumented(t *testing.T) {
	scan := newCodeScan(parsedSource(t))
	for _, src := range codeSources {
		t.Run(src.schema, func(t *testing.T) {
			enum := enumOf(t, src.schema)
			got := scan.collect(src)
			if len(got) == 0 {
				t.Fatalf("found no %s in the source: the scan is broken", src.schema)
			}
			var codes []string
			for c := range got {
				codes = append(codes, c)
			}
			sort.Strings(codes)
			for _, c := range codes {
				if !enum[c] {
					t.Errorf("%q (from %s) is missing from components.schemas.%s.enum in %s",
						c, strings.Join(got[c], ", "), src.schema, DocFile)
				}
			}
			t.Logf("%s: %d codes in the source, %d in the enum", src.schema, len(codes), len(enum))
		})
	}
}

// TestCodeScan keeps the scanner honest on known cases of each pattern.
func TestCodeScan(t *testing.T) {
	scan := newCodeScan(parsedSource(t))
	want := map[string][]string{
		// domain.E literal, E inside domain, a FieldError literal, a field
		// code passed through a helper's parameter, a hidden kind.
		"ErrorCode": {"enterprise_exists", "missing_field", "invalid_uscc", "invalid_region_code", "invalid_result", "internal", "unavailable", "too_many_documents"},
		// a closure's parameter (fail(item, code, msg)).
		"RequirementErrorCode": {"document_failed", "explanation_too_long", "legal_rep_outdated"},
		// constants passed to a helper, and a literal.
		"FindingCode": {"pdf_too_many_pages", "object_missing"},
		// a composite literal with a constant and a field assignment.
		"NotificationKind": {"decision", "certification_revoked", "reminder", "lapse", "expiry"},
	}
	for _, src := range codeSources {
		got := scan.collect(src)
		for _, c := range want[src.schema] {
			if got[c] == nil {
				t.Errorf("%s: the scan missed %q", src.schema, c)
			}
		}
	}
	// Codes of hidden kinds never show.
	if got := scan.collect(codeSources[0]); got["random"] != nil || got["read_failed"] != nil {
		t.Errorf("hidden codes collected: random=%v read_failed=%v", got["random"], got["read_failed"])
	}
}
