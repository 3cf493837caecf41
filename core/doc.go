// Package core is opsbot's domain: the shared vocabulary (actors, errors,
// notices, audit entries, clocks) used by the domain packages below it
// (core/org, core/audit, …).
//
// core imports only the standard library. It defines the ports it needs
// (stores, clocks) as small interfaces; storage and adapters implement them.
// A state change happens in one store transaction that writes the row, its
// audit entry and an outbox notice for everyone who must hear about it.
package core
