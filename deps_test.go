package main_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// importRule says what the packages under Dir must not import (DESIGN §1
// and §11: adapters → bot → core ← storage; main wires).
type importRule struct {
	Dir string // a top-level directory; the rule covers it and below
	// Only, when set, lists the opsbot or third-party imports allowed at
	// all (the standard library always is); Deny lists forbidden ones
	// besides. A pattern "x/..." matches x and every path below it.
	Only []string
	Deny []string
	Why  string
}

// importRules is the dependency rule of the tree.
var importRules = []importRule{
	{Dir: "core", Only: []string{"opsbot/core/..."}, Deny: []string{"net/http"},
		Why: "core imports only the standard library (no net/http) and other core packages"},
	{Dir: "storage", Only: []string{"opsbot/core/...", "opsbot/storage/...", "github.com/jackc/...", "github.com/redis/go-redis/..."},
		Deny: []string{"opsbot/bot/...", "opsbot/adapters/...", "opsbot/tasks/...", "opsbot/alerts/..."},
		Why:  "storage imports core only (plus pgx, tern and go-redis); record types shared with adapters are core types"},
	{Dir: "adapters", Deny: []string{"github.com/jackc/pgx/...", "opsbot/storage/...", "github.com/redis/go-redis/..."},
		Why: "adapters never import pgx, go-redis or storage: they take small interfaces main wires with storage"},
	{Dir: "bot", Deny: []string{"opsbot/storage/...", "opsbot/adapters/...", "opsbot/tasks/...", "github.com/jackc/pgx/...",
		"github.com/redis/go-redis/...", "github.com/hibiken/asynq/..."},
		Why: "bot imports core only, never storage, adapters, tasks, pgx, go-redis or asynq"},
}

// matchImport reports whether import path p matches pattern.
func matchImport(pattern, p string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// stdlib reports whether p is a standard library import path.
func stdlib(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".") && first != "opsbot"
}

// broken reports whether import path p breaks r.
func (r importRule) broken(p string) bool {
	for _, d := range r.Deny {
		if matchImport(d, p) {
			return true
		}
	}
	if r.Only == nil || stdlib(p) {
		return false
	}
	for _, o := range r.Only {
		if matchImport(o, p) {
			return false
		}
	}
	return true
}

// checkImports parses the imports of every non-test .go file under root
// (skipping hidden directories, .data, bin and testdata) and returns one
// line per import that breaks rules, "file imports path: why", and how
// many files each rule covered.
func checkImports(root string, rules []importRule) (violations []string, covered map[string]int, err error) {
	covered = map[string]int{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		var applied []importRule
		for _, r := range rules {
			if strings.HasPrefix(rel, r.Dir+"/") {
				applied = append(applied, r)
				covered[r.Dir]++
			}
		}
		if len(applied) == 0 {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: import %s: %w", rel, imp.Path.Value, err)
			}
			for _, r := range applied {
				if r.broken(p) {
					violations = append(violations, rel+" imports "+p+": "+r.Why)
				}
			}
		}
		return nil
	})
	return violations, covered, err
}

// TestImportDirection enforces the dependency rule on this tree.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	violations, covered, err := checkImports(".", importRules)
	require.NoError(t, err)
	for _, v := range violations {
		t.Errorf("against the dependency rule (DESIGN §11): %s", v)
	}
	for _, r := range importRules {
		require.Positivef(t, covered[r.Dir], "no file under %s/ was checked", r.Dir)
	}
}

// TestCheckImportsReportsViolations shows the checker fails on forbidden
// imports, on a small tree written for the test.
func TestCheckImportsReportsViolations(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{
		"storage/x/x.go":           `"opsbot/bot"`,
		"storage/ok/ok.go":         `"opsbot/core/chat"; _ "github.com/jackc/pgx/v5"; _ "context"`,
		"storage/y/y.go":           `"opsbot/configs"`,
		"adapters/y/y.go":          `"github.com/jackc/pgx/v5"`,
		"adapters/r/r.go":          `"github.com/redis/go-redis/v9"; _ "opsbot/storage/redis"`,
		"adapters/ok/ok.go":        `"opsbot/bot"; _ "opsbot/core"; _ "github.com/slack-go/slack"`,
		"bot/b.go":                 `"github.com/hibiken/asynq"`,
		"core/c/c.go":              `"net/http"`,
		"core/d/d.go":              `"opsbot/chart"`,
		"core/ok/ok.go":            `"opsbot/core"; _ "time"`,
		"tasks/t.go":               `"opsbot/storage/postgres"`,
		"storage/x/x_test.go":      `"opsbot/adapters/webchat"`,
		"storage/testdata/td.go":   `"opsbot/bot"`,
		".data/storage/hidden.go":  `"opsbot/bot"`,
		"bin/storage/generated.go": `"opsbot/bot"`,
	}
	for name, imports := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		src := "package p\n\nimport (_ " + strings.ReplaceAll(imports, "; ", "\n") + ")\n"
		require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	}
	violations, covered, err := checkImports(root, importRules)
	require.NoError(t, err)
	var got []string
	for _, v := range violations {
		file, rest, _ := strings.Cut(v, ": ")
		got = append(got, file)
		require.NotEmpty(t, rest, "a violation says why")
	}
	require.ElementsMatch(t, []string{
		"storage/x/x.go imports opsbot/bot",
		"storage/y/y.go imports opsbot/configs",
		"adapters/y/y.go imports github.com/jackc/pgx/v5",
		"adapters/r/r.go imports github.com/redis/go-redis/v9",
		"adapters/r/r.go imports opsbot/storage/redis",
		"bot/b.go imports github.com/hibiken/asynq",
		"core/c/c.go imports net/http",
		"core/d/d.go imports opsbot/chart",
	}, got)
	require.Equal(t, map[string]int{"storage": 3, "adapters": 3, "bot": 1, "core": 3}, covered,
		"test files, testdata, hidden directories and bin are not checked")
}
