// Package serveconfig owns the configuration file of `vigil serve`: its
// YAML grammar (version 1), its validation and the resolution of the
// secrets it refers to.
//
// Every mistake is reported with the file, line and column it sits at,
// all of them at once, so that fixing a config is one round trip. Unknown
// keys are errors (with the nearest known key as a hint): a misspelt
// `min_severty` silently ignored would mean alerts nobody asked for.
//
// Secrets are never written in the file. A channel names an environment
// variable (`*_env`) or a file (`*_file`) holding each one; Parse reads
// them once, at load, and refuses a config that carries a secret inline —
// a password, an HMAC key, a Slack webhook URL, or a URL with credentials
// or a token in it. A resolved secret is a Secret, whose String, GoString,
// Format and MarshalJSON never show the value, so logging a Config does
// not leak one.
package serveconfig
