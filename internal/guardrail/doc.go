// Package guardrail owns putting Vigil's preventive controls in place in
// an AWS Organization: it reads what is already there from the management
// account, and plans exactly what is missing — trusted access for IAM,
// centralised root access (RootCredentialsManagement, RootSessions), the
// SCP policy type on the root, the SCPs, and their attachments — as a
// change.Plan whose steps make the calls.
//
// Reading comes first and is complete, so a second run after a partial
// failure plans only what the first did not finish, and a run with
// nothing missing plans nothing. Vigil's policies are found by name, or
// by content when someone created the same policy under another name.
//
// The read-only and the mutating calls are listed by the Orgs, IAM and STS
// interfaces; Actions and Policy derive the IAM policy from them, and a
// test holds the two together.
package guardrail
