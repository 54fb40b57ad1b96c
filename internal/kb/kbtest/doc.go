// Package kbtest owns the emulated AWS estate that the knowledge base's
// tests run against: an organisation with dirty and clean member accounts
// and a standalone account, each root user holding the credentials the
// pages teach how to find and remove, and the IAM identities (auditor,
// management administrator) that the pages' commands are run as.
//
// It also serves EventBridge rules, which a page's alerting commands
// create, and SNS topics, which the scheduled check publishes to, with just
// enough state for the tests to check what the commands and scripts did;
// CloudTrail's event history is the emulator's own (Seed adds events to it).
//
// The emulator stores service control policies and never enforces them, so
// SCPCoverage judges what the pages' SCP commands leave behind: it reads
// the organisation back through the Organizations API, as vigil scan does,
// and evaluates the rule org-root-scp-coverage on it.
//
// Only tests import it.
package kbtest
