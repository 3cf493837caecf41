package approval

import (
	"context"
	"slices"
	"strconv"
	"time"

	"opsbot/core"
	"opsbot/core/org"
)

// Kind is a request kind.
type Kind string

// Request kinds.
const (
	KindAppOnline  Kind = "app_online"
	KindAppOffline Kind = "app_offline"
	KindRelease    Kind = "app_release"
	KindPermission Kind = "permission"
	KindChange     Kind = "change"
	KindOperation  Kind = "operation"
	KindAppNotice  Kind = "app_notice" // a public notice to an app's users (M 7.3.3 b)
	// KindRevoke withdraws a permission on an app (M 5.2.2), on the
	// grant's route.
	KindRevoke Kind = "permission_revoke"
	// KindOrgChange is a unit contact's request to the district admin for
	// an org change (M 4.2.3 b).
	KindOrgChange Kind = "org_change"
	// KindBackupAccess is access to offline backup data, approved and
	// registered (W 8.4.3 c).
	KindBackupAccess Kind = "backup_access"
)

// State is a request's state.
type State string

// Request states.
const (
	StatePending   State = "pending"
	StateDone      State = "done"
	StateRejected  State = "rejected"
	StateCancelled State = "cancelled"
	StateExpired   State = "expired" // a change whose window passed before it started (W 8.6 d)
)

// Verbs deciders use. Approve and reject are approvals; the requester may
// never use them on their own request.
const (
	VerbApprove    = "approve"
	VerbReject     = "reject"
	VerbDone       = "done"
	VerbUATRequest = "uat_request"
	VerbPass       = "pass"
	VerbFail       = "fail"
	VerbPublish    = "publish"
	VerbConfirm    = "confirm"
	VerbStart      = "start"
	VerbOK         = "ok"
	VerbIssues     = "issues"
	// An onboarding's system test (W 5.6 a): the access party asks for it,
	// an operator passes or fails it.
	VerbTestRequest = "test_request"
	VerbTestPass    = "test_pass"
	VerbTestFail    = "test_fail"
)

// NeedsNote lists the verbs that must carry a reason or result.
var NeedsNote = map[string]bool{VerbReject: true, VerbFail: true, VerbIssues: true, VerbTestFail: true}

// Request is one request.
type Request struct {
	ID        int64             `json:"id"`
	Kind      Kind              `json:"kind"`
	Route     string            `json:"route"`
	State     State             `json:"state"`
	Step      int               `json:"step"`
	Requester string            `json:"requester"`
	Title     string            `json:"title"`
	App       string            `json:"app,omitempty"`
	Unit      string            `json:"unit,omitempty"`
	Payload   map[string]string `json:"payload,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	StepSince time.Time         `json:"step_since"`
	ClosedAt  *time.Time        `json:"closed_at,omitempty"`
}

// Ref is the entity reference of a request.
func (r Request) Ref() string { return "request:" + itoa(r.ID) }

// StepRef names the cards of one step, so deciding a step updates exactly
// its cards.
func (r Request) StepRef(step int) string { return r.Ref() + "#" + itoa(int64(step)) }

// Step is one step of a route.
type Step struct {
	Route         string
	Seq           int
	Name          string
	Roles         []org.Role
	FallbackRoles []org.Role
	Scope         string // owner | city | app | target | requester
	Count         int
	Verbs         []string
	BackTo        int
}

// Allows reports whether verb may be used on the step.
func (s Step) Allows(verb string) bool { return slices.Contains(s.Verbs, verb) }

// Decision is one person's act on one step.
type Decision struct {
	ID        int64     `json:"id"`
	RequestID int64     `json:"request_id"`
	Step      int       `json:"step"`
	Actor     string    `json:"actor"`
	Verb      string    `json:"verb"`
	Note      string    `json:"note,omitempty"`
	Window    string    `json:"window,omitempty"` // the change window an approver set ("" when unchanged)
	Platform  string    `json:"platform"`
	At        time.Time `json:"at"`
}

// AppGrant is a permission on an app (M 5.2.2).
type AppGrant struct {
	App       string    `json:"app"`
	Grantee   string    `json:"grantee"` // user:<id> or unit:<code>
	Kind      string    `json:"kind"`    // visible | inapp:<name>
	RequestID int64     `json:"request_id"`
	GrantedAt time.Time `json:"granted_at"`
}

// Filter selects requests for listing.
type Filter struct {
	Requester string // only these requester's
	Pending   bool   // only pending
	Kind      Kind   // only this kind ("" for every kind)
	Limit     int
}

// Tx is the engine's transactional port: requests and their decisions,
// with audit entries, notices and timers committed with them.
type Tx interface {
	core.Tx

	InsertRequest(ctx context.Context, r *Request) error
	// Request returns a request; lock takes a row lock until commit.
	Request(ctx context.Context, id int64, lock bool) (Request, error)
	UpdateRequest(ctx context.Context, r Request) error
	InsertDecision(ctx context.Context, d Decision) error
	Requests(ctx context.Context, f Filter) ([]Request, error)
}

// Reader reads a request's decisions and the routes requests follow.
type Reader interface {
	Decisions(ctx context.Context, requestID int64) ([]Decision, error)
	Route(ctx context.Context, route string) ([]Step, error)
	// RequestsBetween lists the requests submitted in [from, to), by id
	// (the approvals month).
	RequestsBetween(ctx context.Context, from, to time.Time) ([]Request, error)
	// DecisionsOf returns the decisions of each of the requests, in order.
	DecisionsOf(ctx context.Context, requestIDs []int64) (map[int64][]Decision, error)
}

// Directory is what the engine reads of the org: who a user is, the unit
// tree, and who holds which role where. Getters return an error wrapping
// core.ErrNotFound for a missing row and include removed rows.
type Directory interface {
	User(ctx context.Context, id string) (org.User, error)
	Unit(ctx context.Context, code string) (org.Unit, error)
	Root(ctx context.Context) (org.Unit, error)
	// Holders returns the active users holding role (on any scope).
	Holders(ctx context.Context, role org.Role) ([]org.Grant, error)
	GrantsOf(ctx context.Context, userID string) ([]org.Grant, error)
	// Subtree returns the active units under the path prefix (the app's
	// users of a unit granted access).
	Subtree(ctx context.Context, pathPrefix string) ([]org.Unit, error)
	// UsersIn returns the active users whose unit is one of codes.
	UsersIn(ctx context.Context, codes []string) ([]org.User, error)
}

// Register is the app register: apps and the permissions granted on them.
type Register interface {
	App(ctx context.Context, code string) (org.App, error)
	Apps(ctx context.Context) ([]org.App, error)
	InsertApp(ctx context.Context, a org.App) error
	UpdateApp(ctx context.Context, a org.App) error
	UpsertAppGrant(ctx context.Context, g AppGrant) error
	DeleteAppGrants(ctx context.Context, app string) ([]AppGrant, error)
	// DeleteAppGrant removes one grant (app, grantee, kind) and returns
	// it; false when there was none.
	DeleteAppGrant(ctx context.Context, g AppGrant) (AppGrant, bool, error)
	AppGrants(ctx context.Context, app string) ([]AppGrant, error)
}

// Ports are one transaction seen through the engine's four narrow ports;
// a store hands the same transaction as each, so reads and writes commit
// or roll back together.
type Ports struct {
	Tx
	Reader
	Directory
	Register
}

// Store runs approval work in transactions. fn's error rolls everything back.
type Store interface {
	InTx(ctx context.Context, fn func(p Ports) error) error
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
