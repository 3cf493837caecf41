// Package monthly pushes the periodic reports instead of waiting for
// someone to ask for them.
//
// On the first working day of each month (core/calendar: PRC holidays
// skipped, make-up workdays counted) at reports.at, every manager gets one
// notice with last month's report of their scope (org.View: sys_admin the
// city, a district_admin their district, a unit_admin their unit): the
// monthly incident analysis (W 8.5 d) and the operations report (M 6.1 b)
// — incidents, tickets and SLA, approvals, inspections, backups, and the
// availability of each system computed from the non-200 joint
// troubleshooting incidents (M 7.3.3). The numbers come from core/report;
// this package only summarises them.
//
// On the first working day of each quarter the sys_admins and operators
// get the quarterly internal check (W 6 c–e) of the last quarter's
// inspections: every plan with missed runs and every run with issues is
// a finding, and each finding gets a corrective action with an owner and
// a due date. An action goes open → done (/check action done); while it
// is open a reminder fires on its due date and, if it is still open, the
// next working day the sys_admins hear it is overdue.
//
// Exactly once per manager and period whatever the schedulers do: a
// report_sent row per (kind, period, user), inserted in the transaction
// that queues the notice, turns a second scheduler's run (or a retried
// task) into nothing; the quarter's actions are created under a
// (quarterly, period, "*") row the same way. The job runs every working
// day, so a run missed on the first working day (process down) is caught
// up on a later day of the period.
package monthly
