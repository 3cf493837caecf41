package bot

import (
	"context"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
)

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testPlugs plugs every domain with no services behind it: enough to list
// commands and render notices.
func testPlugs() []Plug {
	return []Plug{Approvals(nil), Incidents(nil), Duty(nil, nil, time.Minute), Problems(nil, nil), Alerts(nil, nil), Tickets(nil), Inspections(nil, nil), Backups(nil),
		Calendar(nil), Digests(nil, "08:30"), Monthly(nil, "09:00"), Channels(nil), Delivery(nil), Audit(nil, time.Hour), Tokens(nil), DutyFeeds(nil, ""), Emergency(nil), DutyTasks(nil), Paging(nil)}
}

func testBot(lang string) *Bot {
	return New(Config{Language: lang, Location: time.FixedZone("CST", 8*3600), ConsoleURL: "https://ops.example.gov.cn/",
		Clock: fixedClock{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}, People: testPeople},
		nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Hooks{}, testPlugs()...)
}

// testNames names the user ids of the sample notices: fill() sets a
// string field to its lower-cased field name and a list's items to "s".
var testNames = map[string]string{
	"owner": "欧阳文", "declaredby": "孙丽", "by": "白雪", "actionowner": "安晓", "nextduty": "倪杰", "assignedby": "艾伦",
	"requester": "任强", "decidedby": "邓凯", "signedby": "沈冰", "who": "吴芳", "approvedby": "彭博", "assignee": "施远",
	"outgoing": "欧阳光", "incoming": "尹明", "secondary": "沈溪", "createdby": "程浩", "actor": "安然",
	"lastby": "刘备", "doneby": "杜甫", "setby": "司马", "reviewedby": "饶平", "recordedby": "芮雪", "issuedby": "易烊",
	"liftedby": "黎明", "revokedby": "任重", "user": "于谦", "members": "孟浩",
	"s": "苏珊",
	// the user ids of the realistic samples (zh_test.go)
	"zhangsan": "张三", "zhangsan2": "张三", "lisi": "李四", "wangwu": "王五",
}

func testPeople(context.Context) (map[string]string, error) { return testNames, nil }

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// domainCatalogs lists every domain's catalogs by language.
func domainCatalogs() map[string][2]catalog {
	return map[string][2]catalog{
		"general": {zhGeneral, enGeneral}, "org": {zhOrg, enOrg}, "approval": {zhApproval, enApproval},
		"incident": {zhIncident, enIncident}, "ticket": {zhTicket, enTicket}, "inspect": {zhInspect, enInspect},
		"backup": {zhBackup, enBackup}, "digest": {zhDigest, enDigest}, "monthly": {zhMonthly, enMonthly}, "emergency": {zhEmergency, enEmergency}, "calendar": {zhCalendar, enCalendar},
		"delivery":        {zhDelivery, enDelivery},
		"audit":           {zhAudit, enAudit},
		"api":             {zhAPI, enAPI},
		"token":           {zhToken, enToken},
		"paging":          {zhPaging, enPaging},
		"console":         {zhConsole, enConsole},
		"console_duty":    {zhConsoleDuty, enConsoleDuty},
		"console_reports": {zhConsoleReports, enConsoleReports},
		"console_trends":  {zhConsoleTrends, enConsoleTrends},
		"console_pages":   {zhConsolePages, enConsolePages},
		"problem":         {zhProblem, enProblem},
		"input":           {zhInput, enInput},
	}
}

// TestCatalogsMatch: zh-CN and en have the same keys, and no key is
// defined by two domains.
func TestCatalogsMatch(t *testing.T) {
	t.Parallel()
	owner := map[string]string{}
	for name, cs := range domainCatalogs() {
		for k := range cs[0] {
			_, ok := cs[1][k]
			require.Truef(t, ok, "%s: key %q has zh-CN text but no en text", name, k)
			prev, dup := owner[k]
			require.Falsef(t, dup, "key %q is defined in catalog_%s.go and catalog_%s.go", k, prev, name)
			owner[k] = name
		}
		for k := range cs[1] {
			_, ok := cs[0][k]
			require.Truef(t, ok, "%s: key %q has en text but no zh-CN text", name, k)
		}
	}
	require.Len(t, zh, len(owner), "every domain catalog is merged into zh")
	require.Len(t, en, len(owner), "every domain catalog is merged into en")
}

// TestPlaceholdersMatch: a text's {arguments} are the same in both languages.
func TestPlaceholdersMatch(t *testing.T) {
	t.Parallel()
	args := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, m := range placeholder.FindAllString(s, -1) {
			out[m] = true
		}
		return out
	}
	for k, z := range zh {
		require.Equalf(t, args(z), args(en[k]), "key %q: zh-CN and en texts take different arguments", k)
	}
}

// TestEveryCommandHasHelp: each command of every module has help text in
// both languages.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	cmds := b.router.Commands()
	require.Greater(t, len(cmds), 40)
	for _, c := range cmds {
		for lang, cat := range catalogs {
			_, ok := cat["help."+c.Path]
			require.Truef(t, ok, "/%s has no help text (help.%s) in %s", c.Path, c.Path, lang)
		}
		require.NotEmptyf(t, c.Topic, "/%s is under no help topic", c.Path)
	}
	for _, topic := range b.topics {
		for lang, cat := range catalogs {
			_, ok := cat["help."+topic]
			require.Truef(t, ok, "help topic %q has no name in %s", topic, lang)
		}
	}
}

// goSources parses every non-test Go file of the tree (build output,
// test data and the bench left out) and hands each to fn.
func goSources(t *testing.T, fn func(path string, fset *token.FileSet, f *ast.File)) {
	t.Helper()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".data", "bin", "testdata", "node_modules", "bench":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		fn(path, fset, f)
		return nil
	})
	require.NoError(t, err)
}

// coreErrorCall returns the code of n when it builds a core error
// (core.Invalid("code", …) and the like; Invalid(…) itself inside package
// core), with the call.
func coreErrorCall(n ast.Node, inCore bool) (string, *ast.CallExpr, bool) {
	x, ok := n.(*ast.CallExpr)
	if !ok || len(x.Args) == 0 {
		return "", nil, false
	}
	name := ""
	switch fn := x.Fun.(type) {
	case *ast.SelectorExpr:
		if id, ok := fn.X.(*ast.Ident); ok && id.Name == "core" {
			name = fn.Sel.Name
		}
	case *ast.Ident:
		if inCore {
			name = fn.Name
		}
	}
	switch name {
	case "NotFound", "Forbidden", "Invalid", "Conflict", "AlreadyDecided":
	default:
		return "", nil, false
	}
	lit, ok := x.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", nil, false
	}
	code, _ := strconv.Unquote(lit.Value)
	return code, x, true
}

// errorCodes finds the codes of every core error built in the tree
// (core.Invalid("code", …) and the like, and the bot's usage and parse
// errors).
func errorCodes(t *testing.T) map[string]string {
	t.Helper()
	codes := map[string]string{}
	goSources(t, func(path string, _ *token.FileSet, f *ast.File) {
		inCore := f.Name.Name == "core"
		ast.Inspect(f, func(n ast.Node) bool {
			if code, _, ok := coreErrorCall(n, inCore); ok {
				codes[code] = path
			}
			if x, ok := n.(*ast.CompositeLit); ok {
				if id, ok := x.Type.(*ast.Ident); ok && (id.Name == "usageError" || id.Name == "parseError") && len(x.Elts) > 0 {
					e := x.Elts[0]
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						e = kv.Value
					}
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						code, _ := strconv.Unquote(lit.Value)
						codes[code] = path
					}
				}
			}
			return true
		})
	})
	return codes
}

// TestEveryErrorCodeHasMessage: each error code in the tree has a message
// in both languages.
func TestEveryErrorCodeHasMessage(t *testing.T) {
	t.Parallel()
	codes := errorCodes(t)
	require.Greater(t, len(codes), 100, "the scan finds the error codes")
	for code, where := range codes {
		for lang, cat := range catalogs {
			_, ok := cat["err."+code]
			require.Truef(t, ok, "error code %q (%s) has no message err.%s in %s", code, where, code, lang)
		}
	}
}

// TestNoticeRenderingGolden renders a sample of every typed notice in both
// languages and compares it with testdata/notices/<type>.<lang>.json
// (go test ./bot -run Golden -update rewrites them).
func TestNoticeRenderingGolden(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{LangZH, LangEN} {
		b := testBot(lang)
		require.NotEmpty(t, b.renderers)
		for typ, r := range b.renderers {
			sample := r.sample()
			require.Equalf(t, typ, sample.NoticeType(), "renderer registered under the payload's type")
			n := core.Notice{Ref: "ref:1", To: core.Recipient{User: "u1"}, Body: sample}
			m, err := b.RenderNotice(context.Background(), n)
			require.NoErrorf(t, err, "%s in %s", typ, lang)
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(m))
			text := strings.TrimSuffix(buf.String(), "\n")
			got := []byte(text)
			require.Falsef(t, placeholder.MatchString(text), "%s in %s: a placeholder was not replaced:\n%s", typ, lang, text)
			for k := range zh {
				require.NotContainsf(t, text, `"`+k+`"`, "%s in %s shows the bare key %s", typ, lang, k)
			}
			path := filepath.Join("testdata", "notices", typ+"."+lang+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
				continue
			}
			want, err := os.ReadFile(path)
			require.NoErrorf(t, err, "no golden file for %s in %s: run go test ./bot -run Golden -update", typ, lang)
			require.Equalf(t, string(want), text+"\n", "%s in %s differs from %s (go test ./bot -run Golden -update)", typ, lang, path)
		}
	}
}

// TestLegacyDecode: a version-0 string map decodes into a typed payload by
// its json tags.
func TestLegacyDecode(t *testing.T) {
	t.Parallel()
	type p struct {
		ID    int64     `json:"id"`
		Title string    `json:"title"`
		OK    bool      `json:"ok"`
		Due   time.Time `json:"due"`
		Names []string  `json:"names"`
	}
	var got p
	require.NoError(t, DecodeLegacy([]byte(`{"id":"42","title":"t","ok":"true","due":"2026-11-23T09:30:00Z","names":"a,b"}`), &got))
	require.Equal(t, p{ID: 42, Title: "t", OK: true, Due: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC), Names: []string{"a", "b"}}, got)
	require.Error(t, DecodeLegacy([]byte(`{"id":"x"}`), &got))
}

// TestEveryNoticeTypeIsRendered: each payload type core declares (a type
// with a NoticeType method) has a renderer registered by some module.
func TestEveryNoticeTypeIsRendered(t *testing.T) {
	t.Parallel()
	declared := map[string]string{} // "opsbot/core/x.Type" → file
	err := filepath.WalkDir(filepath.Join("..", "core"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		pkg := "opsbot/" + filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, ".."+string(filepath.Separator))))
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != "NoticeType" || len(fd.Recv.List) != 1 {
				continue
			}
			rt := fd.Recv.List[0].Type
			if st, ok := rt.(*ast.StarExpr); ok {
				rt = st.X
			}
			if id, ok := rt.(*ast.Ident); ok {
				declared[pkg+"."+id.Name] = path
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(declared), 30, "the scan finds core's payload types")
	registered := map[string]bool{}
	for _, r := range testBot(LangEN).renderers {
		typ := reflect.TypeOf(r.sample())
		registered[typ.PkgPath()+"."+typ.Name()] = true
	}
	for name, where := range declared {
		require.Truef(t, registered[name], "notice payload %s (%s) has no renderer in any module", name, where)
	}
}

// TestNoticesShowNames: no notice shows a person by their user id; the
// sample's person fields are known to the test directory, so each must
// come out as a name.
func TestNoticesShowNames(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	var ids []string
	for id := range testNames {
		if len(id) > 1 {
			ids = append(ids, id)
		}
	}
	raw := regexp.MustCompile(`\b(` + strings.Join(ids, "|") + `)\b`)
	for typ, r := range b.renderers {
		m, err := b.RenderNotice(context.Background(), core.Notice{Ref: "ref:1", To: core.Recipient{User: "u1"}, Body: r.sample()})
		require.NoError(t, err)
		text, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Emptyf(t, raw.FindAllString(string(text), -1), "%s shows user ids:\n%s", typ, text)
	}
}

func TestPeopleHelper(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	assert.Equal(t, "孙丽", b.person("declaredby"))
	assert.Equal(t, "nobody", b.person("nobody"), "an unknown id is shown as it is")
	assert.Equal(t, "系统", b.person(core.SystemUser))
	assert.Equal(t, "Alertmanager", b.declarer(incident.Incident{DeclaredBy: core.SystemUser, Source: incident.SourceAlertmanager}))
	assert.Equal(t, "系统", b.declarer(incident.Incident{DeclaredBy: core.SystemUser}), "a failed backup's incident is not Alertmanager's")
	assert.Equal(t, "孙丽", b.declarer(incident.Incident{DeclaredBy: "declaredby", Source: incident.SourceChat}))
	assert.Equal(t, "孙丽（declaredby）", b.personID("declaredby"))
	assert.Equal(t, "nobody", b.personID("nobody"))
	assert.Equal(t, "孙丽、nobody", b.names([]string{"declaredby", "nobody"}))
	assert.Equal(t, "无", b.names(nil))
	assert.Equal(t, "Alertmanager", b.named(core.SystemUser, "Alertmanager"))
	assert.Equal(t, "系统", b.named(core.SystemUser, "opsbot"))
	assert.Equal(t, "孙丽", b.named("declaredby", "declaredby"))
	assert.Equal(t, "Sun Li (declaredby)", testBot(LangEN).in(LangEN).t("person.with_id", "name", "Sun Li", "id", "declaredby"))
}

// TestHelpShowsChineseForms: in Chinese, every command's help line also
// gives its Chinese form, which reads back as the command; the forms use
// the words people know for each command (报表 for reports, 预案 for
// emergency plans, 撤销 and 升级 rather than their rarer synonyms).
func TestHelpShowsChineseForms(t *testing.T) {
	t.Parallel()
	b := testBot(LangZH)
	for _, c := range b.router.Commands() {
		zh := zhPath(c.Path)
		require.NotEmptyf(t, zh, "/%s has no Chinese form", c.Path)
		require.Equalf(t, c.Path, strings.Join(canonicalPath(strings.Fields(zh)), " "), "/%s: %s reads as another command", c.Path, zh)
	}
	for path, want := range map[string]string{
		"incident declare": "事件 申报", "duty now": "值班 当前", "report incidents": "报表 事件", "plan add": "预案 添加",
		"incident escalate": "事件 升级", "org role revoke": "组织 角色 撤销", "backup report": "备份 上报", "contact add": "联系方式 添加",
		"backup verify": "备份 恢复测试", "incident assign": "事件 指派", "webchat link": "网页版 登录",
	} {
		require.Equal(t, want, zhPath(path), path)
	}
	topic, err := b.helpTopic("incident")
	require.NoError(t, err)
	require.Contains(t, topic[0].Text, "（/事件 申报）")
	en, err := testBot(LangEN).helpTopic("incident")
	require.NoError(t, err)
	require.NotContains(t, en[0].Text, "/事件", "English help stays English")
}
