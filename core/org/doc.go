// Package org is the organisation: a tree of units (city → district →
// unit → department), the users in them, their platform identities, and
// the roles they hold over a scope.
//
// Who may do what (STANDARDS M 4–5, DESIGN §6) is decided here, once:
//
//   - An admin "covers" a unit when they hold unit_admin, district_admin or
//     sys_admin on that unit or one of its ancestors. A tiered admin is a
//     district_admin or sys_admin.
//   - Adding a unit or user under P needs an admin covering P. Renaming or
//     removing X needs an admin covering X's parent, so a unit admin edits
//     departments but not their own unit, and a district admin edits units
//     but not their district. The city itself is the sys_admin's.
//   - Merging units and moving users between units are tiered-admin work;
//     moving a user between departments of one unit is the unit admin's.
//   - sys_admin, district_admin and operator are granted by a sys_admin;
//     unit_admin by a tiered admin covering the unit; unit_contact by an
//     admin covering the unit; access_party by an admin covering the app's
//     owner unit. Nobody grants a role to themselves, and the last
//     sys_admin cannot be revoked or removed.
//
// Every change writes an audit entry and notices in the same transaction.
//
// Contacts sync (/org sync wecom, sync.go): a platform adapter reads its
// contacts (departments and members) into Contacts; DiffContacts plans
// what to add, rename, move and link, never removing anyone; ApplySync
// makes each change through the Service, so each is checked and audited.
//
// The service works through narrow ports of one transaction (Ports):
// Directory (reads), Editor (changes with audit and notices), Accounts
// (identities and web tokens), Seeder (demo data) and Trail (the audit
// log). Its notices are typed: UserAdded, UserMoved, RoleGranted and
// RoleRevoked, each to the user concerned.
package org
