package org

// Notice types the org writes, each to the user concerned.
const (
	NoticeUserAdded   = "org.user_added"
	NoticeUserMoved   = "org.user_moved"
	NoticeRoleGranted = "org.role_granted"
	NoticeRoleRevoked = "org.role_revoked"
)

// UserAdded welcomes a user added to the org.
type UserAdded struct {
	UnitName string `json:"unit"` // the unit's name
	ByName   string `json:"by"`   // the admin's name
}

// NoticeType names the notice.
// Why grants were revoked with their unit (RoleRevoked.Reason): stable
// markers, not texts; the bot renders them in the reader's language.
const (
	ReasonUnitRemoved = "unit removed"
	ReasonUnitMerged  = "unit merged into " // followed by the unit's code
)

func (UserAdded) NoticeType() string { return NoticeUserAdded }

// UserMoved tells a user they were moved to another unit (by a move or a
// merge of their unit).
type UserMoved struct {
	From   string `json:"from"` // the old unit's name
	To     string `json:"to"`   // the new unit's name
	ByName string `json:"by"`
}

// NoticeType names the notice.
func (UserMoved) NoticeType() string { return NoticeUserMoved }

// RoleGranted tells a user they were granted a role.
type RoleGranted struct {
	Role   Role   `json:"role"`
	Scope  string `json:"scope"` // a unit code, or an app code for access_party
	ByName string `json:"by"`
}

// NoticeType names the notice.
func (RoleGranted) NoticeType() string { return NoticeRoleGranted }

// RoleRevoked tells a user a role of theirs was revoked: by an admin, or
// because its unit was removed or merged (Reason says which).
type RoleRevoked struct {
	Role   Role   `json:"role"`
	Scope  string `json:"scope"`
	ByName string `json:"by"`
	Reason string `json:"reason,omitempty"` // ReasonUnitRemoved, ReasonUnitMerged+"<code>"; "" when revoked directly
}

// NoticeType names the notice.
func (RoleRevoked) NoticeType() string { return NoticeRoleRevoked }
