package change

import (
	"encoding/json"
	"fmt"
	"os"
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
	f    *os.File
	path string
}

// OpenAuditLog opens (creating if needed, mode 0600) the audit log at
// path for appending. Callers open it before changing anything, so an
// unwritable log stops the run before the first change.
func OpenAuditLog(path string) (*AuditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &AuditLog{f: f, path: path}, nil
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
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file.
func (l *AuditLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
