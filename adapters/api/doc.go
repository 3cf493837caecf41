// Package api is opsbot's REST API, /api/v1: a table of routes (Route),
// each served on the mux and described in the OpenAPI 3.1 document
// generated from the same table, calling the same core services as the
// chat commands. Backup scripts report their results here too (W 8.4.4),
// so a check needs no person to type it.
package api
