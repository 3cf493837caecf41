package bot

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"opsbot/core"
	"opsbot/core/incident"
	"opsbot/core/org"
)

// auditActions finds every audit action written in the tree: the action
// argument of core.Record and core.Change, the Action of a core.AuditEntry
// literal, followed through helpers that pass their own parameter on
// (incident's record, inspect's start …) and through local variables and
// constants. "request."+verb takes each Verb constant of its package. It
// returns the actions with where they are written, and the call sites
// whose action it could not resolve.
func auditActions(t *testing.T) (actions map[string]string, unresolved []string) {
	t.Helper()
	type file struct {
		path string
		f    *ast.File
		fset *token.FileSet
	}
	pkgs := map[string][]file{}
	consts := map[string]string{} // every string constant of the tree, by name
	goSources(t, func(path string, fset *token.FileSet, f *ast.File) {
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], file{path, f, fset})
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	})

	actions = map[string]string{}
	for dir, files := range pkgs {
		inCore := filepath.Base(dir) == "core"
		verbs := []string{}
		for _, fl := range files {
			for _, decl := range fl.f.Decls {
				if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
					for _, s := range g.Specs {
						for _, n := range s.(*ast.ValueSpec).Names {
							if strings.HasPrefix(n.Name, "Verb") {
								verbs = append(verbs, consts[n.Name])
							}
						}
					}
				}
			}
		}
		// forward: the functions of this package that write their
		// parameter at that index as the action.
		forward := map[string]int{}
		for changed := true; changed; {
			changed = false
			unresolved = unresolved[:0:0]
			for _, fl := range files {
				for _, decl := range fl.f.Decls {
					fn, ok := decl.(*ast.FuncDecl)
					if !ok || fn.Body == nil {
						continue
					}
					where := func(n ast.Node) string { return fl.fset.Position(n.Pos()).String() }
					resolve := func(arg ast.Expr) {
						switch a := arg.(type) {
						case *ast.BasicLit:
							if a.Kind == token.STRING {
								s, _ := strconv.Unquote(a.Value)
								actions[s] = where(a)
								return
							}
						case *ast.SelectorExpr:
							if s, ok := consts[a.Sel.Name]; ok {
								actions[s] = where(a)
								return
							}
						case *ast.BinaryExpr:
							if lit, ok := a.X.(*ast.BasicLit); ok && a.Op == token.ADD && lit.Kind == token.STRING && len(verbs) > 0 {
								prefix, _ := strconv.Unquote(lit.Value)
								for _, v := range verbs {
									actions[prefix+v] = where(a)
								}
								return
							}
						case *ast.Ident:
							if s, ok := consts[a.Name]; ok {
								actions[s] = where(a)
								return
							}
							i := 0
							for _, p := range fn.Type.Params.List {
								for _, n := range p.Names {
									if n.Name == a.Name {
										if _, ok := forward[fn.Name.Name]; !ok {
											forward[fn.Name.Name] = i
											changed = true
										}
										return
									}
									i++
								}
							}
							found := false
							ast.Inspect(fn.Body, func(n ast.Node) bool {
								if as, ok := n.(*ast.AssignStmt); ok {
									for j, l := range as.Lhs {
										if id, ok := l.(*ast.Ident); ok && id.Name == a.Name && j < len(as.Rhs) {
											if lit, ok := as.Rhs[j].(*ast.BasicLit); ok && lit.Kind == token.STRING {
												s, _ := strconv.Unquote(lit.Value)
												actions[s] = where(lit)
												found = true
											}
										}
									}
								}
								return true
							})
							if found {
								return
							}
						}
						unresolved = append(unresolved, where(arg))
					}
					ast.Inspect(fn.Body, func(n ast.Node) bool {
						switch x := n.(type) {
						case *ast.CallExpr:
							name, isCore := "", false
							switch f := x.Fun.(type) {
							case *ast.SelectorExpr:
								name = f.Sel.Name
								if id, ok := f.X.(*ast.Ident); ok && id.Name == "core" {
									isCore = true
								}
							case *ast.Ident:
								name, isCore = f.Name, inCore
							}
							i, ok := forward[name]
							if isCore && name == "Record" {
								i, ok = 4, true
							}
							if isCore && name == "Change" {
								i, ok = 2, true
							}
							if ok && i < len(x.Args) {
								resolve(x.Args[i])
							}
						case *ast.CompositeLit:
							typ := ""
							switch ty := x.Type.(type) {
							case *ast.SelectorExpr:
								if id, ok := ty.X.(*ast.Ident); ok && id.Name == "core" {
									typ = ty.Sel.Name
								}
							case *ast.Ident:
								if inCore {
									typ = ty.Name
								}
							}
							if typ == "AuditEntry" {
								for _, e := range x.Elts {
									if kv, ok := e.(*ast.KeyValueExpr); ok {
										if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Action" {
											resolve(kv.Value)
										}
									}
								}
							}
						}
						return true
					})
				}
			}
		}
	}
	sort.Strings(unresolved)
	return actions, unresolved
}

// TestEveryAuditActionHasSentence: each audit action written in the tree
// has a sentence template in both languages.
func TestEveryAuditActionHasSentence(t *testing.T) {
	t.Parallel()
	actions, unresolved := auditActions(t)
	require.Emptyf(t, unresolved, "audit actions the scan cannot resolve: write them as literals, constants or through a helper's parameter")
	require.Greater(t, len(actions), 90, "the scan finds the audit actions")
	for _, want := range []string{"org.user.add", "inspect.run.now", "channel.member.add", "incident.assign", "request.approve", "calendar.set", "audit.rekey"} {
		require.Containsf(t, actions, want, "the scan finds %s", want)
	}
	for action, where := range actions {
		for lang, cat := range catalogs {
			for _, key := range auditKeys(action) {
				_, ok := cat[key]
				require.Truef(t, ok, "audit action %q (%s) has no sentence %s in %s", action, where, key, lang)
			}
		}
	}
}

// TestAuditSentences renders entries as they are stored (before and after
// as JSON of the domains' own values) and reads them as sentences: no raw
// JSON, no action code, and in zh no field shown by its ASCII name except
// ids.
func TestAuditSentences(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)
	cst := time.FixedZone("CST", 8*3600)
	sunli := core.Actor{UserID: "sunli", Platform: "wecom"}
	inc := incident.Incident{ID: 7, Title: "社保系统无法登录", Level: 2, State: "acknowledged", Owner: "sunli", DeclaredBy: "zhoujie",
		Stakeholders: []string{"wangfang"}, CreatedAt: at, LastUpdateAt: at}
	assigned := inc
	assigned.Owner, assigned.LastUpdateAt = "zhoujie", at.Add(time.Hour)
	resolved := assigned
	resolved.State, resolved.ResolvedAt = "resolved", &at
	user := org.User{ID: "x1020", Name: "王芳", Unit: "edu"}
	grant := org.Grant{UserID: "x1020", Role: org.RoleUnitAdmin, Scope: "edu", GrantedBy: "sunli", GrantedAt: at}
	cases := []struct {
		e    core.AuditEntry
		want string // the zh sentence, when checked whole
	}{
		{core.Change(at, sunli, "incident.assign", inc.Ref(), inc, assigned), "孙丽 指派事件 #7（负责人：孙丽 → 周杰）"},
		{core.Change(at, sunli, "org.user.add", "user:x1020", nil, user), "孙丽 添加用户 x1020（名称：王芳；单位：edu）"},
		{core.Change(at, sunli, "org.role.grant", "user:x1020", nil, grant), ""},
		{core.Change(at, sunli, "org.role.revoke", "user:x1020", grant, map[string]string{"reason": "user removed"}), ""},
		{core.Change(at, sunli, "incident.resolve", inc.Ref(), assigned, resolved), ""},
		{core.Change(at, sunli, "request.approve", "request:12", map[string]any{"state": "pending", "step": 1},
			map[string]any{"state": "pending", "step": 2, "note": "同意", "decided_step": 1, "window": "2026-11-24 22:00–23:00"}), ""},
		{core.Change(at, sunli, "alert.silence", inc.Ref(), nil, map[string]any{"silence_id": "ab12",
			"matchers": []map[string]string{{"name": "alertname", "value": "SjsjDown"}}, "until": at.Add(2 * time.Hour)}), ""},
		{core.Change(at, sunli, "webchat.token.revoke", "user:x1020", nil, map[string]int{"revoked": 2}), "孙丽 吊销用户 x1020 的网页聊天令牌（吊销数量：2）"},
		{core.Change(at, core.SystemActor(), "inspect.run.now", "inspect:3", nil, map[string]any{"plan_id": 4, "plan": "机房巡检", "assignees": []string{"a", "b"},
			"results": map[string]any{}, "mystery_field": "x"}), ""},
		{core.Change(at, sunli, "org.user.remove", "user:x1020", user, nil), ""},
		{core.Change(at, sunli, "problem.assign", "problem:3", map[string]string{"owner": core.SystemUser}, map[string]string{"owner": "zhoujie"}),
			"孙丽 指派问题 #3（负责人：系统 → 周杰）"},
	}
	jsonKey := regexp.MustCompile(`"([A-Za-z_]+)":`)
	// People by name through the names helper's lookup; an unknown id as it is.
	names := map[string]string{"sunli": "孙丽", "zhoujie": "周杰"}
	person := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	require.Equal(t, "sunli 指派事件 #7（负责人：sunli → zhoujie）", AuditSentence(LangZH, cst, cases[0].e, nil), "no names: ids")
	for _, c := range cases {
		zhs := AuditSentence(LangZH, cst, c.e, person)
		ens := AuditSentence(LangEN, cst, c.e, person)
		for _, s := range []string{zhs, ens} {
			require.NotContainsf(t, s, "{", "%s shows raw JSON: %s", c.e.Action, s)
			require.NotContainsf(t, s, `":`, "%s shows raw JSON: %s", c.e.Action, s)
			require.NotContainsf(t, s, c.e.Action, "%s shows the action's code: %s", c.e.Action, s)
			require.Falsef(t, placeholder.MatchString(s), "%s: a placeholder was not replaced: %s", c.e.Action, s)
		}
		for _, m := range jsonKey.FindAllStringSubmatch(c.e.Before+c.e.After, -1) {
			if auditIDLike(m[1]) {
				continue
			}
			require.NotContainsf(t, zhs, m[1]+"：", "%s in zh shows the field name %q: %s", c.e.Action, m[1], zhs)
		}
		if c.want != "" {
			require.Equal(t, c.want, zhs)
		}
		t.Log(zhs, " | ", ens)
	}
}
