// Package problem keeps the problem library (问题库, W 8.5): the causes
// behind recurring or major incidents, entered by hand or proposed when a
// review closes the third incident with the same system and cause within
// 30 days, and the monthly incident analysis that lists them.
//
// Reviews stay in package incident: a review is the step that closes an
// incident (its cause and improvement actions are the incident's), and
// its action items are reminded by the incident's timers. Only the repeat
// detection moves here, as the Proposer the incident service calls
// through its one-method ProblemProposer interface inside the review's
// transaction. Linking an incident by hand notes it on the incident's
// timeline through incident.Ops, in the link's transaction.
package problem
