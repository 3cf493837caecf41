// Package approval is the one approval engine behind every request kind:
// app onboarding and offboarding (M 7.1), releases with a UAT gate
// (M 7.2), public notices about an app (M 7.3.3 b), workbench permission
// requests and their withdrawal (M 5.2.2),
// changes (W 8.6), dual-person operations (W 8.2), a unit contact's org
// change requests (M 4.2.3 b) and access to offline backup data (W 8.4.3
// c, registered once approved).
//
// An onboarding passes a system test before it goes online (W 5.6 a): its
// requester asks for the test, an operator passes or fails it with a
// reason (a fail goes back to the request). A change carries its test
// plan, steps, staff and rollback (W 8.6 b), is done only with the record
// of its tests before and after (W 8.6 e), and may be linked to the
// problem it fixes through the Problems port.
//
// A release's notice and an approved app notice go to the app's users
// (AppUsers: the users and units granted access), not only the channel.
//
// A request follows a route: ordered steps loaded from the store (the
// approval_routes table), each naming the roles that act on it, where its
// scope comes from, how many distinct people must act and the verbs they
// may use. The state machine is
//
//	pending(step 1) → pending(step 2) → … → done
//	      │ reject                          ▲
//	      ▼                                 │ last step's verb
//	   rejected          cancelled (requester, while pending)
//	                     expired (a change not started by its window's end)
//
// A "fail" or "issues" verb sends the request back to the step its route
// names (UAT; an operation's check back to its execution).
//
// Changes (W 8.6 d) start only inside their window (an emergency change as
// soon as it is approved); an approver may narrow or move the window
// (ApproveWindow), recorded on the decision; a change whose window ends
// before it started expires and its requester and approvers are told.
// Operations (W 8.2 a/c) are approved by two people, executed by the
// requester and checked (复核) by another operator, who is neither the
// requester, an approver nor the executor; they are done only once checked.
// Each transition happens under a row lock in one transaction with its
// decision record, audit entry, notices (cards to the next deciders, card
// updates, the requester's notice) and timers (reminders, change-window
// deadline), so a double click or two approvers racing produce exactly one
// transition and the loser is told who decided and when.
//
// Rules that hold on every step: the requester never approves or rejects
// their own request; a step needing two approvals needs two distinct
// people; an approver of an earlier step does not approve again (the
// emergency change's second approval); a change's reviewer is not its
// implementer; an operation's checker is none of the others.
//
// The engine works through four narrow ports of one transaction (Ports):
// Tx (requests, decisions, audit, notices, timers), Reader (decisions and
// routes), Directory (the org it reads) and Register (apps and their
// grants). What it tells people are typed notices: Card, Reminder,
// CardUpdate, Progress, WindowMissed and the channel's announcements.
package approval
