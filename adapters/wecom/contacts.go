package wecom

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	"opsbot/core/org"
)

// Department is a WeCom department (department/list).
type Department struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	ParentID int64  `json:"parentid"`
	Order    int64  `json:"order"`
}

// Member is a WeCom member (user/list).
type Member struct {
	UserID         string  `json:"userid"`
	Name           string  `json:"name"`
	Departments    []int64 `json:"department"`
	MainDepartment int64   `json:"main_department"`
	// Status is 1 active, 2 disabled, 4 not yet activated, 5 left.
	Status int `json:"status"`
}

// Active reports whether the member can use WeCom (active or invited).
func (m Member) Active() bool { return m.Status == 0 || m.Status == 1 || m.Status == 4 }

// Main returns the member's main department (the first one when WeCom
// does not say), 0 when none.
func (m Member) Main() int64 {
	if m.MainDepartment != 0 {
		return m.MainDepartment
	}
	if len(m.Departments) > 0 {
		return m.Departments[0]
	}
	return 0
}

// Contacts reads departments and members from WeCom's contacts, within the
// app's visible range (or the whole corp with the 通讯录同步 secret). It is
// core/org's ContactSource for /org sync wecom; the sync's rules live there.
type Contacts struct {
	api *apiClient
}

var _ org.ContactSource = (*Contacts)(nil)

// Fetch reads every visible department and member as core/org's contacts.
func (c *Contacts) Fetch(ctx context.Context) (org.Contacts, error) {
	depts, members, err := c.All(ctx)
	if err != nil {
		return org.Contacts{}, err
	}
	return orgContacts(depts, members), nil
}

// orgContacts converts WeCom's departments and members.
func orgContacts(depts []Department, members []Member) org.Contacts {
	var out org.Contacts
	for _, d := range depts {
		out.Departments = append(out.Departments, org.ContactDepartment{ID: d.ID, Name: d.Name, ParentID: d.ParentID, Order: d.Order})
	}
	for _, m := range members {
		out.Members = append(out.Members, org.ContactMember{ExternalID: m.UserID, Name: m.Name, MainDepartment: m.Main(), Active: m.Active()})
	}
	return out
}

// Contacts returns the contacts client. It uses Config.ContactsSecret when
// set, else the app Secret.
func (a *Adapter) Contacts() *Contacts {
	if a.cfg.ContactsSecret == "" {
		return &Contacts{api: a.api}
	}
	return &Contacts{api: newAPIClient(a.cfg.APIBase, a.cfg.CorpID, a.cfg.ContactsSecret, "contacts", a.api.cache, a.cfg.CallTimeout)}
}

// Departments lists every visible department, parents before children.
func (c *Contacts) Departments(ctx context.Context) ([]Department, error) {
	var resp struct {
		Department []Department `json:"department"`
	}
	if err := c.api.call(ctx, "department/list", nil, nil, &resp); err != nil {
		return nil, fmt.Errorf("wecom: list departments: %w", err)
	}
	return resp.Department, nil
}

// Members lists the members directly in a department.
func (c *Contacts) Members(ctx context.Context, departmentID int64) ([]Member, error) {
	q := url.Values{"department_id": {strconv.FormatInt(departmentID, 10)}}
	var resp struct {
		UserList []Member `json:"userlist"`
	}
	if err := c.api.call(ctx, "user/list", q, nil, &resp); err != nil {
		return nil, fmt.Errorf("wecom: list members of department %d: %w", departmentID, err)
	}
	return resp.UserList, nil
}

// All returns every visible department and every member in them (each
// member once, ordered by userid).
func (c *Contacts) All(ctx context.Context) ([]Department, []Member, error) {
	depts, err := c.Departments(ctx)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	var members []Member
	for _, d := range depts {
		ms, err := c.Members(ctx, d.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range ms {
			if m.UserID != "" && !seen[m.UserID] {
				seen[m.UserID] = true
				members = append(members, m)
			}
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].UserID < members[j].UserID })
	return depts, members, nil
}
