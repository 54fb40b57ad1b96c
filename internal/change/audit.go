package change

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Entry is one line of the audit log: one attempted change.
type Entry struct {
	Time time.Time `json:"time"`
	// RunID groups the entries of one run.
	RunID string `json:"run_id,omitempty"`
	// Caller is the ARN of who made the change (sts:GetCallerIdentity).
	Caller  string `json:"caller"`
	Account string `json:"account"`
	Target  string `json:"target"`
	Action  string `json:"action"`
	Step    string `json:"step"`
	// Via is what the change was signed with, when that is not the
	// caller's own credentials: a task-policy session, a root access key
	// named by its ID. Never a secret.
	Via string `json:"via,omitempty"`
	// Result is "succeeded" or "failed".
	Result string `json:"result"`
	// Detail is what the change produced (a new policy's ID); Error is why
	// it failed. Neither ever holds a credential.
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

// AuditLog appends entries to a file as JSON lines. The file is opened
// for appending only, so earlier lines are never rewritten; each entry is
// one write of one line followed by a sync, so a crash loses at most the
// line being written and never corrupts the ones before it.
type AuditLog struct {
	mu   sync.Mutex
	f    *os.File // nil until the first change is about to be attempted
	path string
}

// OpenAuditLog checks, before anything changes, that the audit log at
// path can be written, and returns it. An existing file is opened for
// appending at once. A new one is created (mode 0600) only by Begin, when
// the first change is about to be attempted, so a run that changes
// nothing (declined, refused, nothing to do) leaves no file behind; its
// directory is checked now, so an unwritable log still stops the run
// before its first change, and before its confirmation.
func OpenAuditLog(path string) (*AuditLog, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("open audit log: %s is a directory", path)
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
		return &AuditLog{f: f, path: path}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	// A file created and removed at once proves the directory takes new
	// files, and leaves nothing behind.
	probe, err := os.CreateTemp(filepath.Dir(path), ".vigil-audit-check-*")
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: cannot create files in its directory: %w", path, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &AuditLog{path: path}, nil
}

// Begin creates the file if it does not exist yet. Apply calls it once
// confirmed, before the first change; calling it again does nothing.
func (l *AuditLog) Begin() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.beginLocked()
}

func (l *AuditLog) beginLocked() error {
	if l.f != nil {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create audit log: %w", err)
	}
	l.f = f
	return nil
}

// Path is the log's file name.
func (l *AuditLog) Path() string { return l.path }

// Record appends one entry.
func (l *AuditLog) Record(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.beginLocked(); err != nil {
		return err
	}
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file, if it was ever opened.
func (l *AuditLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
