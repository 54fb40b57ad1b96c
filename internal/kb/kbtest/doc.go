// Package kbtest owns the emulated AWS estate that the knowledge base's
// tests run against: an organisation with dirty and clean member accounts
// and a standalone account, each root user holding the credentials the
// pages teach how to find and remove, and the IAM identities (auditor,
// management administrator) that the pages' commands are run as.
//
// It also serves EventBridge rules, which a page's alerting commands
// create, with just enough state for the tests to check what the commands
// did; CloudTrail's event history and SNS are the emulator's own (Seed adds
// events, CreateTopic makes the topic the scheduled check publishes to).
//
// The emulator stores service control policies and never enforces them, so
// SCPCoverage judges what the pages' SCP commands leave behind: it reads
// the organisation back through the Organizations API, as vigil scan does,
// and evaluates the rule org-root-scp-coverage on it.
//
// Only tests import it.
package kbtest
