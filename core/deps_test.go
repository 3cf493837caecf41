package core_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreImportsOnlyStdlib enforces the dependency rule: core imports the
// standard library and other core packages, never an adapter, SDK, pgx,
// redis, asynq or net/http.
func TestCoreImportsOnlyStdlib(t *testing.T) {
	t.Parallel()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first := strings.Split(p, "/")[0]
			ok := (!strings.Contains(first, ".") && first != "opsbot") || p == "opsbot/core" || strings.HasPrefix(p, "opsbot/core/")
			require.Truef(t, ok, "%s imports %s: core may import only the standard library and core packages", path, p)
			require.NotEqualf(t, "net/http", p, "%s imports net/http", path)
		}
		checked++
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, checked, 5)
}
