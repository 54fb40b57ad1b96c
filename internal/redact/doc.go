// Package redact removes credentials from text Vigil did not write itself,
// before it is printed or stored: never print, log or store a secret.
//
// # Where a secret could come from
//
// A run holds credentials only in the AWS SDK's credential chain, and
// Vigil copies none of them anywhere. What can still carry one is text
// from outside:
//
//   - Error messages, which become gap messages, evidence errors, the
//     reasons of unreached targets and of an incomplete run, and log
//     lines. The SDK quotes more than AWS does: when a credential_process
//     prints what it cannot parse, aws-sdk-go-v2 puts the whole output in
//     the error ("parse failed of process output: {… "SecretAccessKey":
//     …, "SessionToken": …}"), and a configuration error can quote a line
//     of the shared config or credentials file.
//   - An endpoint URL with a user and password (a source's detail).
//   - Files the run reads (--from, --credential-report, --targets), which
//     anyone may have edited.
//
// Identifiers (account IDs and names, ARNs, OU names, profile names, rule
// IDs, and access key IDs, which AWS itself prints in errors and
// CloudTrail) are names, not credentials, and are left as they are:
// redacting one would hide which account a finding is about.
//
// report.Build passes every free-text field of the result document
// through Text, so a report.Document holds no credential whoever renders
// it: a writer, a store, a notification.
package redact
