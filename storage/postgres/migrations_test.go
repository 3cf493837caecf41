package postgres_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Expand/contract: during a rolling upgrade the previous release's
// replicas run against the new schema, so a migration may only add. A
// statement that removes or narrows what old code reads or writes is a
// "contract" and needs an explicit `-- contract: <why it is safe>` comment
// in the statement (or the comment lines just before it); README Deploy →
// Upgrades has the rule and the procedure.

// contracting lists the statement shapes that break the previous release.
var contracting = []struct {
	what string
	re   *regexp.Regexp
}{
	{"DROP TABLE", regexp.MustCompile(`\bDROP\s+TABLE\b`)},
	{"DROP COLUMN", regexp.MustCompile(`\bDROP\s+COLUMN\b`)},
	{"RENAME", regexp.MustCompile(`\bRENAME\b`)},
	{"ALTER … TYPE", regexp.MustCompile(`\bALTER\s+(COLUMN\s+)?"?\w+"?\s+(SET\s+DATA\s+)?TYPE\b`)},
	{"SET NOT NULL without default", regexp.MustCompile(`\bSET\s+NOT\s+NULL\b`)},
	{"ADD COLUMN NOT NULL without default", regexp.MustCompile(`\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?"?\w+"?\s[^,;]*\bNOT\s+NULL\b`)},
}

var (
	lineComment  = regexp.MustCompile(`--[^\n]*`)
	contractNote = regexp.MustCompile(`--\s*contract:\s*\S`)
	setDefault   = regexp.MustCompile(`\bSET\s+DEFAULT\b`)
	hasDefault   = regexp.MustCompile(`\bDEFAULT\b`)
	addColumn    = regexp.MustCompile(`\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?"?\w+"?\s[^,;]*`)
)

// contracts returns the contracting statements of a migration that carry
// no `-- contract:` note, as "what: statement".
func contracts(sql string) []string {
	var found []string
	stmts := splitStatements(sql)
	for i, stmt := range stmts {
		own := stmt
		if i > 0 { // the rest of the previous statement's last line is not this one's
			if nl := strings.IndexByte(own, '\n'); nl >= 0 {
				own = own[nl:]
			} else {
				own = ""
			}
		}
		trailing := "" // a note after this statement's semicolon, on the same line
		if i+1 < len(stmts) {
			trailing, _, _ = strings.Cut(stmts[i+1], "\n")
		}
		if contractNote.MatchString(own) || contractNote.MatchString(trailing) {
			continue
		}
		stmt = own
		code := strings.ToUpper(strings.Join(strings.Fields(lineComment.ReplaceAllString(stmt, "")), " "))
		if code == "" || strings.HasPrefix(code, "CREATE TABLE") {
			continue // a new table breaks nobody
		}
		for _, c := range contracting {
			if !c.re.MatchString(code) {
				continue
			}
			switch c.what {
			case "SET NOT NULL without default":
				if setDefault.MatchString(code) {
					continue
				}
			case "ADD COLUMN NOT NULL without default":
				ok := true
				for _, clause := range addColumn.FindAllString(code, -1) {
					if strings.Contains(clause, "NOT NULL") && !hasDefault.MatchString(clause) {
						ok = false
					}
				}
				if ok {
					continue
				}
			}
			found = append(found, c.what+": "+code)
		}
	}
	return found
}

func TestContractsAreFound(t *testing.T) {
	t.Parallel()
	for _, sql := range []string{
		"DROP TABLE old_things;",
		"ALTER TABLE t DROP COLUMN c;",
		"ALTER TABLE t RENAME COLUMN a TO b;",
		"ALTER TABLE t RENAME TO u;",
		"ALTER TABLE t ALTER COLUMN c TYPE bigint;",
		"ALTER TABLE t ALTER c SET DATA TYPE text;",
		"ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
		"ALTER TABLE t ADD COLUMN c text NOT NULL;",
		"-- an ordinary comment\nALTER TABLE t\n    ADD COLUMN a int NOT NULL DEFAULT 0,\n    ADD COLUMN b text NOT NULL;",
	} {
		require.NotEmpty(t, contracts(sql), "%s", sql)
	}
	for _, sql := range []string{
		"CREATE TABLE t (id bigint NOT NULL, name text NOT NULL);",
		"ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;",
		"ALTER TABLE t ADD COLUMN c timestamptz;",
		"ALTER TABLE t ALTER COLUMN c SET DEFAULT 0, ALTER COLUMN c SET NOT NULL;",
		"CREATE INDEX t_c ON t (c);",
		"-- contract: nothing has read t since release 1.2\nDROP TABLE t;",
		"ALTER TABLE t DROP COLUMN c; -- contract: c was never read",
	} {
		require.Empty(t, contracts(sql), "%s", sql)
	}
	// A note covers its own statement only.
	require.Len(t, contracts("ALTER TABLE t DROP COLUMN c; -- contract: c was never read\nALTER TABLE t DROP COLUMN d;"), 1)
	// A semicolon in a comment ends nothing.
	require.Empty(t, contracts("-- contract: old code never reads c; it is safe\nALTER TABLE t DROP COLUMN c;"))
}

func TestMigrationsOnlyExpand(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, c := range contracts(string(b)) {
			t.Errorf("%s: contracting statement without a `-- contract: why it is safe` comment (README Deploy → Upgrades): %s", filepath.Base(f), c)
		}
	}
}

// splitStatements splits sql after each semicolon that is not inside a
// line comment; a statement keeps the comments before it.
func splitStatements(sql string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(sql, "\n") {
		code, comment, found := strings.Cut(line, "--")
		for {
			before, after, ok := strings.Cut(code, ";")
			if !ok {
				break
			}
			cur.WriteString(before)
			stmts = append(stmts, cur.String())
			cur.Reset()
			code = after
		}
		cur.WriteString(code)
		if found {
			cur.WriteString("--" + comment)
		}
	}
	return append(stmts, cur.String())
}
