// Package kb owns Vigil's knowledge base: one page per rule, embedded in
// the binary, that says how bad a finding is, which compliance controls it
// breaks, how it arises and how to find it, how to fix it in a standalone or
// management account and in Organizations member accounts, how to prevent
// it, which published advice is wrong, and where to read more.
//
// A page's source (pages/RULE.md) holds the sections a person writes; the
// package composes the page from it, the rule's metadata (title, severity,
// category, service) and the compliance catalog, so the Compliance section
// and the risk facts cannot drift from the rules and the mappings. Shared
// text (the service control policy, the alert rule, the centralised root
// session) lives once in fragments/ and is included by
// <!-- vigil:include NAME --> lines.
//
// Pages are strict Markdown with a fixed outline, checked when they load.
// Every fenced code block is tagged: "sh id=…" for commands, "python id=…
// file=NAME.py" for boto3 scripts (saved and run under that name), "json
// id=… file=…" for documents the commands read, "go snippet=FILE" for Go SDK
// code, which must be the text of internal/kb/snippets/FILE. The tags let
// the tests find every command and script and run it with the AWS CLI or
// Python against the emulator, and prove every Go snippet compiles and
// runs. A section that shows AWS CLI commands must show Python too.
package kb
