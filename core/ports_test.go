package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxPortMethods is the most methods an exported interface of core may
// hold, embedded ones included: a port holds what its caller calls.
const maxPortMethods = 15

// iface is one interface type declared in core: its own method names and
// the interfaces it embeds, as "pkgdir.Name".
type iface struct {
	methods []string
	embeds  []string
}

// coreInterfaces parses every non-test file under root (the core folder)
// and returns its interface types keyed "pkgdir.Name" (pkgdir relative to
// the module root, e.g. "core/incident.WriteTx").
func coreInterfaces(t *testing.T, root, prefix string) map[string]iface {
	t.Helper()
	out := map[string]iface{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Join(prefix, filepath.Dir(path)))
		imports := map[string]string{} // local name → pkgdir
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if !strings.HasPrefix(p, "opsbot/") {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			imports[name] = strings.TrimPrefix(p, "opsbot/")
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				it, ok := ts.Type.(*ast.InterfaceType)
				if !ok {
					continue
				}
				var in iface
				for _, m := range it.Methods.List {
					switch x := m.Type.(type) {
					case *ast.FuncType:
						for _, n := range m.Names {
							in.methods = append(in.methods, n.Name)
						}
					case *ast.Ident:
						in.embeds = append(in.embeds, dir+"."+x.Name)
					case *ast.SelectorExpr:
						if pkg, ok := x.X.(*ast.Ident); ok {
							if p, ok := imports[pkg.Name]; ok {
								in.embeds = append(in.embeds, p+"."+x.Sel.Name)
							}
						}
					}
				}
				out[dir+"."+ts.Name.Name] = in
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// methodSet returns the method names of an interface with its embedded
// ones, once each.
func methodSet(all map[string]iface, name string, seen map[string]bool) map[string]bool {
	out := map[string]bool{}
	if seen[name] {
		return out
	}
	seen[name] = true
	in := all[name]
	for _, m := range in.methods {
		out[m] = true
	}
	for _, e := range in.embeds {
		for m := range methodSet(all, e, seen) {
			out[m] = true
		}
	}
	return out
}

// TestPortsAreNarrow: no exported interface in core holds more than 15
// methods, embedded ones counted.
func TestPortsAreNarrow(t *testing.T) {
	t.Parallel()
	all := coreInterfaces(t, ".", "core")
	require.Greater(t, len(all), 10, "the scan finds core's interfaces")
	var wide []string
	for name := range all {
		if ast.IsExported(name[strings.LastIndex(name, ".")+1:]) {
			if n := len(methodSet(all, name, map[string]bool{})); n > maxPortMethods {
				wide = append(wide, name)
			}
		}
	}
	sort.Strings(wide)
	require.Emptyf(t, wide, "ports with more than %d methods", maxPortMethods)
}

// TestPortCountEmbeds: the count follows embedded interfaces across
// packages, so a wide port cannot hide behind embedding.
func TestPortCountEmbeds(t *testing.T) {
	t.Parallel()
	all := map[string]iface{
		"core.Recorder":  {methods: []string{"Audit", "Notify"}},
		"core/x.Reads":   {methods: []string{"A", "B"}},
		"core/x.Tx":      {embeds: []string{"core.Recorder", "core/x.Reads"}, methods: []string{"C", "A"}},
		"core/y.Loop":    {embeds: []string{"core/y.Loop"}, methods: []string{"D"}},
		"core/y.Missing": {embeds: []string{"elsewhere.Thing"}},
	}
	require.Len(t, methodSet(all, "core/x.Tx", map[string]bool{}), 5)
	require.Len(t, methodSet(all, "core/y.Loop", map[string]bool{}), 1)
	require.Empty(t, methodSet(all, "core/y.Missing", map[string]bool{}))
}
