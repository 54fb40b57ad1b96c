package change

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type recorder struct{ calls []string }

func (r *recorder) step(id string, fail bool, deps ...string) Step {
	return Step{ID: id, Account: "111122223333", Action: "svc:" + id, Target: "target-" + id, Description: "does " + id, DependsOn: deps,
		Run: func(context.Context) (string, error) {
			r.calls = append(r.calls, id)
			if fail {
				return "", errors.New(id + " broke")
			}
			return "made-" + id, nil
		}}
}

type answer struct {
	ok     bool
	err    error
	prompt string
}

func (a *answer) Confirm(_ context.Context, prompt string) (bool, error) {
	a.prompt = prompt
	return a.ok, a.err
}

func openLog(t *testing.T) (*AuditLog, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func readLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestApplyRunsInOrderAndSkipsDependents(t *testing.T) {
	rec := &recorder{}
	b := rec.step("b", true)
	b.Via = "sts:AssumeRoot session (IAMDeleteRootUserCredentials)"
	p := &Plan{Title: "t", Scope: "organisation o-1", Steps: []Step{
		rec.step("a", false), b, rec.step("c", false, "b"), rec.step("d", false, "a"), rec.step("e", false, "c"),
	}}
	log, path := openLog(t)
	conf := &answer{ok: true}
	rep, err := Apply(t.Context(), p, Options{Confirmer: conf, Audit: log, Caller: "arn:aws:iam::111122223333:user/admin", RunID: "run-1", Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "d"}, rec.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Step+"="+string(r.Status))
	}
	if diff := cmp.Diff([]string{"a=succeeded", "b=failed", "c=skipped", "d=succeeded", "e=skipped"}, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if rep.Failed() != 3 {
		t.Errorf("Failed() = %d", rep.Failed())
	}
	if !strings.Contains(rep.Results[4].Error, "depends on c") {
		t.Errorf("skip reason %q", rep.Results[4].Error)
	}
	if !strings.Contains(conf.prompt, "Apply 5 change(s) to organisation o-1?") {
		t.Errorf("prompt %q", conf.prompt)
	}

	// One line per attempted action, with who, where, what and how it went.
	lines := readLog(t, path)
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3 (skipped steps are not changes)", len(lines))
	}
	want := map[string]any{"time": "2026-11-26T12:00:00Z", "run_id": "run-1", "caller": "arn:aws:iam::111122223333:user/admin",
		"account": "111122223333", "target": "target-b", "action": "svc:b", "step": "b", "result": "failed", "error": "b broke",
		"via": "sts:AssumeRoot session (IAMDeleteRootUserCredentials)"}
	if diff := cmp.Diff(want, lines[1]); diff != "" {
		t.Errorf("audit line (-want +got):\n%s", diff)
	}
	if lines[0]["detail"] != "made-a" || lines[2]["step"] != "d" {
		t.Errorf("audit lines %v", lines)
	}

	// A second run appends; nothing is rewritten.
	if _, err := Apply(t.Context(), &Plan{Scope: "x", Steps: []Step{rec.step("f", false)}}, Options{Confirmer: Yes{}, Audit: log}); err != nil {
		t.Fatal(err)
	}
	if lines := readLog(t, path); len(lines) != 4 || lines[3]["step"] != "f" {
		t.Errorf("log after a second run: %v", lines)
	}
}

func TestApplyDeclinedChangesNothing(t *testing.T) {
	rec := &recorder{}
	log, path := openLog(t)
	p := &Plan{Scope: "x", Steps: []Step{rec.step("a", false)}}
	_, err := Apply(t.Context(), p, Options{Confirmer: &answer{ok: false}, Audit: log})
	if !errors.Is(err, ErrDeclined) {
		t.Fatalf("err = %v", err)
	}
	_, err = Apply(t.Context(), p, Options{Confirmer: &answer{err: errors.New("tty gone")}, Audit: log})
	if err == nil || !strings.Contains(err.Error(), "tty gone") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); len(rec.calls) != 0 || err == nil {
		t.Errorf("declined run made calls %v or created the log", rec.calls)
	}
	// No consent at all is refused outright.
	if _, err := Apply(t.Context(), p, Options{Audit: log}); err == nil {
		t.Error("Apply ran without a Confirmer")
	}
	if _, err := Apply(t.Context(), p, Options{Confirmer: Yes{}}); err == nil {
		t.Error("Apply ran without an audit log")
	}
}

func TestApplyEmptyPlanAsksNothing(t *testing.T) {
	log, _ := openLog(t)
	conf := &answer{ok: false}
	rep, err := Apply(t.Context(), &Plan{Scope: "x"}, Options{Confirmer: conf, Audit: log})
	if err != nil || len(rep.Results) != 0 || conf.prompt != "" {
		t.Errorf("empty plan: %v %+v prompt %q", err, rep, conf.prompt)
	}
}

func TestApplyStopsWhenTheLogFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full to make writes fail")
	}
	log, err := OpenAuditLog("/dev/full")
	if err != nil {
		t.Skip(err)
	}
	defer log.Close()
	rec := &recorder{}
	p := &Plan{Scope: "x", Steps: []Step{rec.step("a", false), rec.step("b", false)}}
	rep, err := Apply(t.Context(), p, Options{Confirmer: Yes{}, Audit: log})
	if err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("err = %v", err)
	}
	if len(rec.calls) != 1 || rep.Results[1].Status != Skipped {
		t.Errorf("a change was made after the audit log failed: calls %v results %+v", rec.calls, rep.Results)
	}
}

func TestApplyCancelled(t *testing.T) {
	log, _ := openLog(t)
	ctx, cancel := context.WithCancel(t.Context())
	rec := &recorder{}
	first := rec.step("a", false)
	run := first.Run
	first.Run = func(ctx context.Context) (string, error) { cancel(); return run(ctx) }
	rep, err := Apply(ctx, &Plan{Scope: "x", Steps: []Step{first, rec.step("b", false)}}, Options{Confirmer: Yes{}, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Results[1].Status != Skipped || !strings.Contains(rep.Results[1].Error, "cancelled") {
		t.Errorf("results %+v", rep.Results)
	}
}

func TestPlanValidate(t *testing.T) {
	rec := &recorder{}
	for name, p := range map[string]*Plan{
		"duplicate":     {Steps: []Step{rec.step("a", false), rec.step("a", false)}},
		"forward dep":   {Steps: []Step{rec.step("a", false, "b"), rec.step("b", false)}},
		"no run":        {Steps: []Step{{ID: "a", Account: "1", Action: "x", Target: "y"}}},
		"missing field": {Steps: []Step{{ID: "a", Run: rec.step("a", false).Run}}},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTerminalConfirm(t *testing.T) {
	for input, want := range map[string]bool{"yes\n": true, "  yes  \n": true, "y\n": false, "YES\n": false, "\n": false, "": false, "no\n": false, "yes": true} {
		var out bytes.Buffer
		got, err := Terminal{In: strings.NewReader(input), Out: &out}.Confirm(t.Context(), "Go?")
		if err != nil || got != want {
			t.Errorf("input %q: %v %v, want %v", input, got, err, want)
		}
		if !strings.Contains(out.String(), "Go?") || !strings.Contains(out.String(), "Only 'yes'") {
			t.Errorf("prompt %q", out.String())
		}
	}
}

func TestWritePlanAndReport(t *testing.T) {
	rec := &recorder{}
	s := rec.step("attach", false, "create")
	s.Warning = "reaches every member account"
	p := &Plan{Title: "Prevent", Scope: "organisation o-1", InPlace: []string{"trusted access for IAM"}, Steps: []Step{rec.step("create", false), s},
		Warnings: []string{"SCPs never apply to the management account"}}
	var b bytes.Buffer
	if err := WritePlan(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Prevent — organisation o-1", "✓ trusted access for IAM", "Planned changes (2):", "2. svc:attach  target-attach",
		"after: create", "WARNING: reaches every member account", "WARNING: SCPs never apply"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	WriteReport(&b, &Report{Results: []Result{{Step: "a", Action: "svc:a", Target: "t", Status: Failed, Error: "boom"}, {Step: "b", Action: "svc:b", Target: "u", Status: Succeeded, Detail: "p-1"}}})
	if !strings.Contains(b.String(), "FAILED  svc:a  t") || !strings.Contains(b.String(), "boom") || !strings.Contains(b.String(), "(p-1)") {
		t.Errorf("report:\n%s", b.String())
	}
}

// TestAuditLogCreatedOnlyForAChange: opening the log checks it and
// creates nothing; a declined or empty run leaves no file; the file is
// created, mode 0600, when the first change is about to be made. A log
// whose directory disappears after the check stops the run before any
// change.
func TestAuditLogCreatedOnlyForAChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	exists := func() bool { _, err := os.Stat(path); return err == nil }
	if exists() {
		t.Fatal("opening the log created the file")
	}
	rec := &recorder{}
	p := &Plan{Scope: "x", Steps: []Step{rec.step("a", false)}}
	if _, err := Apply(t.Context(), p, Options{Confirmer: &answer{ok: false}, Audit: log}); !errors.Is(err, ErrDeclined) || exists() {
		t.Fatalf("declined: err %v, file created %v", err, exists())
	}
	if _, err := Apply(t.Context(), &Plan{Scope: "x"}, Options{Confirmer: Yes{}, Audit: log}); err != nil || exists() {
		t.Fatalf("nothing to do: err %v, file created %v", err, exists())
	}
	if _, err := Apply(t.Context(), p, Options{Confirmer: Yes{}, Audit: log}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || len(readLog(t, path)) != 1 {
		t.Fatalf("after a change: %v %v, %d lines", st, err, len(readLog(t, path)))
	}

	// An existing log is appended to.
	again, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(t.Context(), p, Options{Confirmer: Yes{}, Audit: again}); err != nil || len(readLog(t, path)) != 2 {
		t.Fatalf("append: %v, %d lines", err, len(readLog(t, path)))
	}
	again.Close()

	if _, err := OpenAuditLog(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a directory as the log: %v", err)
	}
	if _, err := OpenAuditLog(filepath.Join(t.TempDir(), "missing", "audit.jsonl")); err == nil {
		t.Error("a log in a missing directory was accepted")
	}

	dir := filepath.Join(t.TempDir(), "sub")
	os.Mkdir(dir, 0o700)
	gone, err := OpenAuditLog(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	rec2 := &recorder{}
	rep, err := Apply(t.Context(), &Plan{Scope: "x", Steps: []Step{rec2.step("a", false)}}, Options{Confirmer: Yes{}, Audit: gone})
	if err == nil || len(rec2.calls) != 0 || rep == nil || rep.Results[0].Status != Skipped {
		t.Errorf("a log that cannot be created: err %v, calls %v, report %+v", err, rec2.calls, rep)
	}
}
