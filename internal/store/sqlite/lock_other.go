//go:build !unix

package sqlite

// lockFile is a no-op where advisory locks are not available; SQLite's
// own locking still keeps the file consistent.
func lockFile(string) (func(), error) { return func() {}, nil }
