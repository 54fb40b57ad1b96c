package main

// Tests of the gates that must fail closed and of the bounds on what
// Vigil accepts (issue 8, items 4, 5, 6, 8, 9 and 12).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestDurationBounds: a duration out of a flag's range is a usage error
// that states the range, never a wrapped-around value. 999999d once
// became 0s, and a window of 0s passed a root user used 2 days ago;
// 213504d of --min-idle once became 25 minutes.
func TestDurationBounds(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--demo", "--root-use-window", "999999d"}, `"999999d" is out of range: want 1h to 3650d`},
		{[]string{"scan", "--demo", "--root-use-window", "0"}, `"0" is out of range: want 1h to 3650d`},
		{[]string{"scan", "--demo", "--max-report-age", "106752d"}, "want 1m to 3650d, or 0 for no limit"},
		{[]string{"scan", "--demo", "--report-timeout", "0"}, "want 1s to 1h"},
		{[]string{"scan", "--org", "--demo", "--account-timeout", "3000000h"}, `"3000000h" is out of range: want 1s to 1d`},
		{[]string{"fix", "--org", "--demo", "--min-idle", "213504d"}, `"213504d" is out of range: want 1h to 3650d, or 0 to refuse only keys whose last use is unknown`},
		{[]string{"fix", "--org", "--demo", "--lookback", "0"}, "want 1h to 90d"},
		{[]string{"fix", "--org", "--demo", "--account-timeout", "0s"}, "want 1s to 1d"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 2)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
		})
	}
	// The top of the range is honoured: the demo's root, used 2 days
	// before the scan, was used within 3650 days.
	r := vigil(t, nil, "scan", "--demo", "--root-use-window", "3650d", "--format", "json").want(t, 0)
	if !strings.Contains(r.stdout, "The root user was used in the last 3650d") {
		t.Errorf("root-recent-use did not fail with the widest window:\n%s", r.stdout)
	}
}

// TestOutputIsInput: an output that is an input, or another output, is
// refused before anything runs, whatever it is called; the input is left
// as it was. Each of these once destroyed its input with exit code 0.
func TestOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(src, name string) string {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	report := copyFile("testdata/credential-report.csv", "report.csv")
	snap := copyFile("testdata/snapshot.json", "snapshot.json")
	targets := filepath.Join(dir, "targets.yaml")
	os.WriteFile(targets, []byte("targets:\n  - profile: prod\n"), 0o644)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(snap, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Link(report, hard); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "out.json")
	before := map[string][]byte{}
	for _, p := range []string{report, snap, targets} {
		before[p], _ = os.ReadFile(p)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"report as output", []string{"scan", "--credential-report", report, "--output", report}, "--output " + report + " is the same file as --credential-report " + report},
		{"snapshot as output", []string{"scan", "--from", snap, "--output", snap}, "is the same file as --from"},
		{"snapshot through a symlink", []string{"scan", "--from", snap, "--output", link}, "--output " + link + " is the same file as --from " + snap},
		{"report through a hard link", []string{"scan", "--credential-report", report, "--output", hard}, "is the same file as --credential-report"},
		{"report through another spelling", []string{"scan", "--credential-report", report, "--output", filepath.Join(dir, ".", "..", filepath.Base(dir), "report.csv")}, "is the same file"},
		{"output and save", []string{"scan", "--demo", "--output", fresh, "--save", fresh}, "--output " + fresh + " is the same file as --save " + fresh + ": an output cannot be another output"},
		{"output and save, not yet written, two spellings", []string{"scan", "--demo", "--output", fresh, "--save", filepath.Join(dir, ".", "out.json")}, "is the same file"},
		{"save over the report", []string{"scan", "--credential-report", report, "--save", report}, "--save " + report + " is the same file as --credential-report"},
		{"targets as output", []string{"scan", "--targets", targets, "--output", targets}, "is the same file as --targets"},
		{"fix audit log over the snapshot", []string{"fix", "--demo", "--from", snap, "--apply", "--yes", "--audit-log", snap}, "--audit-log " + snap + " is the same file as --from " + snap},
		{"fix audit log over the targets", []string{"fix", "--targets", targets, "--apply", "--yes", "--audit-log", targets}, "is the same file as --targets"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 2)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
			for p, b := range before {
				if now, _ := os.ReadFile(p); !bytes.Equal(now, b) {
					t.Errorf("%s was changed", p)
				}
			}
			if _, err := os.Stat(fresh); err == nil {
				t.Errorf("%s was written", fresh)
			}
		})
	}
	// Different files in the same directory are fine.
	vigil(t, nil, "scan", "--from", snap, "--output", fresh).want(t, 0)
}

// TestOutputNotWritable: an output directory that exists but cannot be
// written is found before the scan calls AWS, not after it.
func TestOutputNotWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "read-only")
	os.Mkdir(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		// Running as root, permissions do not stop a write; /proc does.
		f.Close()
		os.Remove(f.Name())
		if _, err := os.Stat("/proc/self"); err != nil {
			t.Skip("no directory this user cannot write to")
		}
		dir = "/proc"
	}
	srv, env := emulated(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--output", filepath.Join(dir, "out.json")}, "--output " + filepath.Join(dir, "out.json") + ": cannot write to directory " + dir},
		{[]string{"scan", "--save", filepath.Join(dir, "snap.json")}, "--save " + filepath.Join(dir, "snap.json") + ": cannot write to directory"},
		{[]string{"fix", "--apply", "--yes", "--audit-log", filepath.Join(dir, "audit.jsonl")}, "--audit-log " + filepath.Join(dir, "audit.jsonl") + ": cannot write to directory"},
		{[]string{"prevent", "--apply", "--yes", "--target", "r-ab12", "--audit-log", filepath.Join(dir, "audit.jsonl")}, "cannot write to directory"},
		{[]string{"prevent", "--offline", "--out", dir}, "--out: cannot write to directory " + dir},
		{[]string{"docs", "--out", filepath.Join(dir, "site")}, "--out: cannot write to directory " + dir},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := vigil(t, env, c.args...).want(t, 1)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
		})
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d AWS calls were made before the unwritable output was found", n)
	}
}

// TestInputSizeLimits: every file input is read up to a limit, with an
// error that names the file, the limit and the flag that raises it; a
// value of megabytes inside an input is refused without being echoed.
// Before, a 200 MB snapshot took gigabytes of memory, stdin had no bound
// at all, and a 10 MB account name went into the report.
func TestInputSizeLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Past the default limit (64 MiB): a sparse file costs no disk.
	huge := filepath.Join(dir, "huge.json")
	if f, err := os.Create(huge); err != nil || f.Truncate(65<<20) != nil || f.Close() != nil {
		t.Fatal("cannot make a 65 MiB file")
	}
	twoMiB := bytes.Repeat([]byte(" "), 2<<20)
	snap, _ := os.ReadFile("testdata/snapshot.json")
	report, _ := os.ReadFile("testdata/credential-report.csv")
	bigSnap := write("big.json", append(append([]byte{}, snap...), twoMiB...))
	bigReport := write("big.csv", append(append([]byte{}, report...), bytes.Repeat([]byte("\n"), 2<<20)...))
	bigTargets := write("targets.yaml", append([]byte("targets:\n  - profile: prod\n"), bytes.Repeat([]byte("# padding\n"), 220<<10)...))

	tenMB := strings.Repeat("A", 10<<20)
	var doc map[string]any
	json.Unmarshal(snap, &doc)
	doc["accounts"].([]any)[0].(map[string]any)["name"] = tenMB
	longName, _ := json.Marshal(doc)
	longNameSnap := write("long-name.json", longName)
	json.Unmarshal(snap, &doc)
	doc["accounts"].([]any)[0].(map[string]any)["account_id"] = strings.Repeat("9", 3000)
	badID, _ := json.Marshal(doc)
	badIDSnap := write("bad-id.json", badID)
	lines := strings.SplitN(string(report), "\n", 3)
	longRegion := write("long-region.csv", []byte(lines[0]+"\n"+strings.Replace(lines[1], "us-east-1", tenMB, 1)+"\n"+lines[2]))
	longARN := write("long-arn.csv", []byte(lines[0]+"\n"+strings.Replace(lines[1], "arn:aws:iam::210987654321:root", "arn:aws:iam::210987654321:"+strings.Repeat("r", 3000), 1)+"\n"))
	longTarget := write("long-target.yaml", []byte("targets:\n  - profile: prod\n    name: "+tenMB+"\n"))

	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"snapshot past the default limit", []string{"scan", "--from", huge}, []string{"snapshot " + huge + ": larger than 64 MiB, the input size limit", "--max-input-size"}},
		{"snapshot past a lower limit", []string{"scan", "--from", bigSnap, "--max-input-size", "1MiB"}, []string{"snapshot " + bigSnap + ": larger than 1 MiB", "raise the limit with --max-input-size"}},
		{"fix snapshot past a lower limit", []string{"fix", "--from", bigSnap, "--max-input-size", "1MiB"}, []string{"larger than 1 MiB", "--max-input-size"}},
		{"report past a lower limit", []string{"scan", "--credential-report", bigReport, "--max-input-size", "1MiB"}, []string{"credential report " + bigReport + ": larger than 1 MiB", "--max-input-size"}},
		{"targets past a lower limit", []string{"scan", "--targets", bigTargets, "--max-input-size", "1MiB"}, []string{"targets file " + bigTargets + ": larger than 1 MiB", "--max-input-size"}},
		{"a 10 MB account name", []string{"scan", "--from", longNameSnap}, []string{"long-name.json: line 1, column", "a string of 10485760 bytes"}},
		{"a long account ID, quoted short", []string{"scan", "--from", badIDSnap}, []string{`account_id "999999`, "(3000 bytes) is not a 12-digit AWS account ID"}},
		{"a 10 MB region in a report", []string{"scan", "--credential-report", longRegion}, []string{"long-region.csv: line 2", "a cell of 10485760 bytes"}},
		{"a long ARN in a report, quoted short", []string{"scan", "--credential-report", longARN}, []string{"(3026 bytes), not a root ARN"}},
		{"a 10 MB target name", []string{"scan", "--targets", longTarget}, []string{"long-target.yaml:3: name is 10485760 bytes long"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 1)
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", head(r.stderr), w)
				}
			}
			if len(r.stderr) > 600 || r.stdout != "" {
				t.Errorf("%d bytes on stderr and %d on stdout: an input's value was echoed", len(r.stderr), len(r.stdout))
			}
		})
	}
	// Stdin is bounded too: an endless stream stops at the limit.
	cmd := exec.Command(binary, "scan", "--credential-report", "-", "--max-input-size", "1MiB")
	cmd.Env = []string{"HOME=" + dir, "AWS_EC2_METADATA_DISABLED=true"}
	cmd.Stdin = endless{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "credential report stdin: larger than 1 MiB") {
		t.Errorf("endless stdin: %v: %s", err, stderr.String())
	}
	// Raising the limit lets a genuine file through.
	vigil(t, nil, "scan", "--from", bigSnap, "--max-input-size", "3MiB").want(t, 0)
	for _, bad := range []string{"512KiB", "lots"} {
		vigil(t, nil, "scan", "--from", bigSnap, "--max-input-size", bad).want(t, 2)
	}
}

// head is the start of a long output, for failure messages.
func head(s string) string {
	if len(s) > 1000 {
		return s[:1000] + "…"
	}
	return s
}

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ','
	}
	return len(p), nil
}

// reportCSV is a credential report whose root user has MFA and nothing
// else, and whose newest recorded time is newest.
func reportCSV(newest time.Time) string {
	lines := strings.SplitN(string(must(os.ReadFile("testdata/credential-report.csv"))), "\n", 2)
	at := newest.UTC().Format("2006-01-02T15:04:05+00:00")
	// The account is older than its newest entry, wherever the
	// reference time is (VIGIL_TEST_TIME).
	created := newest.AddDate(-7, 0, 0).UTC().Format("2006-01-02T15:04:05+00:00")
	return lines[0] + "\n" +
		"<root_account>,arn:aws:iam::210987654321:root," + created + ",not_supported," + at + ",not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// statusOf is the status of a rule's result in a JSON report.
func statusOf(t *testing.T, report, ruleID string) (status, message string, evidence []map[string]any) {
	t.Helper()
	var doc struct {
		Results []struct {
			RuleID   string           `json:"rule_id"`
			Status   string           `json:"status"`
			Message  string           `json:"message"`
			Evidence []map[string]any `json:"evidence"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(report), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, report)
	}
	for _, r := range doc.Results {
		if r.RuleID == ruleID {
			return r.Status, r.Message, r.Evidence
		}
	}
	t.Fatalf("no %s result in:\n%s", ruleID, report)
	return "", "", nil
}

// TestCredentialReportAge: a CSV has no generation time, and its file's
// modification time is not one (a copy made now of a 640-day-old report
// read "0s old" and passed). The age is what the input carries or the
// user gives; failing both, the newest time the report records bounds it;
// a time after the run is an error. The evidence says where the time came
// from.
func TestCredentialReportAge(t *testing.T) {
	dir := t.TempDir()
	ref := testclock.Ref()
	old := filepath.Join(dir, "old.csv") // copied just now: a fresh mtime
	os.WriteFile(old, []byte(reportCSV(ref.Add(-640*24*time.Hour))), 0o644)
	recent := filepath.Join(dir, "recent.csv")
	os.WriteFile(recent, []byte(reportCSV(ref.Add(-time.Hour))), 0o644)
	cliJSON := func(name string, generated time.Time) string {
		b64 := base64.StdEncoding.EncodeToString([]byte(reportCSV(ref.Add(-640 * 24 * time.Hour))))
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(fmt.Sprintf(`{"Content": %q, "ReportFormat": "text/csv", "GeneratedTime": %q}`, b64, generated.Format(time.RFC3339))), 0o644)
		return p
	}
	fresh := cliJSON("fresh.json", ref.Add(-2*time.Hour))
	future := cliJSON("future.json", ref.Add(24*time.Hour))

	// The copied old report cannot support a PASS, whatever its mtime.
	r := vigil(t, nil, "scan", "--credential-report", old, "--format", "json").want(t, 0)
	st, msg, ev := statusOf(t, r.stdout, "root-signing-certificate")
	if st != "UNKNOWN" || !strings.Contains(msg, "at most 640d old") || !strings.Contains(msg, "--report-time") {
		t.Errorf("old report copied now: %s: %s", st, msg)
	}
	if !hasAsOfSource(ev, "the newest time recorded in the report (a lower bound)") {
		t.Errorf("the evidence does not say its time is a lower bound: %v", ev)
	}
	txt := vigil(t, nil, "scan", "--credential-report", old).want(t, 0).stdout
	if strings.Contains(txt, "0s old") || !strings.Contains(txt, "the newest time it records (so at most 640d old)") {
		t.Errorf("text report:\n%s", txt)
	}
	// A report whose newest entry is an hour old is at most an hour old.
	r = vigil(t, nil, "scan", "--credential-report", recent, "--format", "json").want(t, 0)
	if st, msg, _ := statusOf(t, r.stdout, "root-signing-certificate"); st != "PASS" || !strings.Contains(msg, "at most 1h old") {
		t.Errorf("recent report: %s: %s", st, msg)
	}
	// The generation time the CLI's JSON carries is used, and named.
	r = vigil(t, nil, "scan", "--credential-report", fresh, "--format", "json").want(t, 0)
	st, msg, ev = statusOf(t, r.stdout, "root-signing-certificate")
	if st != "PASS" || !strings.Contains(msg, "(2h old)") || !hasAsOfSource(ev, "GeneratedTime in the file") {
		t.Errorf("CLI JSON: %s: %s %v", st, msg, ev)
	}
	// --report-time dates a CSV.
	generated := ref.Add(-3 * time.Hour).Format(time.RFC3339)
	r = vigil(t, nil, "scan", "--credential-report", old, "--report-time", generated, "--format", "json").want(t, 0)
	st, msg, ev = statusOf(t, r.stdout, "root-signing-certificate")
	if st != "PASS" || !strings.Contains(msg, "(3h old)") || !hasAsOfSource(ev, "--report-time") {
		t.Errorf("--report-time: %s: %s %v", st, msg, ev)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"generated tomorrow", []string{"scan", "--credential-report", future}, 1, "after the time of this run"},
		{"--report-time tomorrow", []string{"scan", "--credential-report", old, "--report-time", ref.Add(24 * time.Hour).Format(time.RFC3339)}, 1, "after the time of this run"},
		{"--report-time before what the report records", []string{"scan", "--credential-report", recent, "--report-time", ref.Add(-48 * time.Hour).Format(time.RFC3339)}, 1, "cannot have been generated then"},
		{"--report-time against GeneratedTime", []string{"scan", "--credential-report", fresh, "--report-time", generated}, 1, "but --report-time says"},
		{"--report-time not a time", []string{"scan", "--credential-report", old, "--report-time", "yesterday"}, 2, "want an RFC 3339 time"},
		{"--report-time without a report", []string{"scan", "--demo", "--report-time", generated}, 2, "--report-time dates a --credential-report file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, c.code)
			if !strings.Contains(r.stderr, c.want) || r.stdout != "" {
				t.Errorf("stderr %q lacks %q (stdout %q)", r.stderr, c.want, r.stdout)
			}
		})
	}
}

func hasAsOfSource(ev []map[string]any, source string) bool {
	for _, e := range ev {
		if e["as_of"] != nil && e["as_of_source"] == source {
			return true
		}
	}
	return false
}

// TestUnknownGate: a gate does not pass when nothing could be verified.
// An UNKNOWN at or above --fail-on exits 4 (FAIL, which says more, still
// exits 3), and stderr says how many and why; --unknown-ok accepts them.
// Every case below exited 0.
func TestUnknownGate(t *testing.T) {
	dir := t.TempDir()
	// A report of one IAM user, dated by the reference time.
	header, _, _ := strings.Cut(string(must(os.ReadFile("testdata/credential-report.csv"))), "\n")
	used := testclock.Days(-3).Format("2006-01-02T15:04:05+00:00")
	created := testclock.Days(-400).Format("2006-01-02T15:04:05+00:00")
	noRoot := filepath.Join(dir, "no-root.csv")
	os.WriteFile(noRoot, []byte(header+"\nalice,arn:aws:iam::210987654321:user/alice,"+created+",true,"+used+","+created+",N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"), 0o644)
	empty := filepath.Join(dir, "empty-account.json")
	os.WriteFile(empty, []byte(`{"schema":"vigil.snapshot","version":1,"collected_at":"`+testclock.Ref().Format(time.RFC3339)+`","source":{"kind":"aws"},"accounts":[{"account_id":"111122223333"}]}`), 0o644)
	// Every read denied: IAM, and the regional reads (EC2, Access
	// Analyzer), which would otherwise answer for their own rules.
	_, denied := emulated(t, awsemu.Fault{Service: "iam", Code: "AccessDenied"},
		awsemu.Fault{Service: "ec2", Code: "UnauthorizedOperation"}, awsemu.Fault{Service: "access-analyzer", Code: "AccessDeniedException"})

	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"every read denied", denied, []string{"scan", "--fail-on", "critical"},
			[]string{"result(s) at or above severity critical could not be decided (UNKNOWN)", "iam:GetAccountSummary: AccessDenied", "--unknown-ok"}},
		{"a report with no root row", nil, []string{"scan", "--credential-report", noRoot, "--fail-on", "critical"},
			[]string{"2 result(s) at or above severity critical could not be decided", "credential report: NoRootRow (2 results in 1 account)"}},
		{"a snapshot with no data", nil, []string{"scan", "--from", empty, "--fail-on", "high"},
			[]string{"6 result(s) at or above severity high could not be decided", "iam:GetAccountSummary: not collected (4 results in 1 account)", "ec2:DescribeRegions: not collected (1 result in 1 account)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, c.env, c.args...).want(t, 4)
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if !strings.Contains(r.stdout, "UNKNOWN") {
				t.Errorf("the report was not written first:\n%s", r.stdout)
			}
			vigil(t, c.env, append(c.args, "--unknown-ok")...).want(t, 0)
			// The compliance view changes nothing of the gate, and none
			// of its controls passes on these results.
			r = vigil(t, c.env, append(append([]string{}, c.args...), "--compliance", "cis-aws", "--format", "json")...).want(t, 4)
			if strings.Contains(r.stdout, `"status": "PASS"`) {
				t.Errorf("something passed:\n%s", r.stdout)
			}
		})
	}
	// Without --fail-on there is no gate.
	vigil(t, nil, "scan", "--from", empty).want(t, 0)
	// FAIL says more than UNKNOWN: exit 3, and the unknowns are counted.
	r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--fail-on", "info").want(t, 3)
	if !strings.Contains(r.stderr, "failed at or above severity info") {
		t.Errorf("stderr %q", r.stderr)
	}
	noRootFail := filepath.Join(dir, "no-root-but-failing.json")
	var doc map[string]any
	json.Unmarshal(must(os.ReadFile("testdata/snapshot.json")), &doc)
	doc["accounts"] = append(doc["accounts"].([]any), map[string]any{"account_id": "999988887777"})
	os.WriteFile(noRootFail, must(json.Marshal(doc)), 0o644)
	r = vigil(t, nil, "scan", "--from", noRootFail, "--fail-on", "critical").want(t, 3)
	if !strings.Contains(r.stderr, "and 2 more there could not be decided (UNKNOWN") {
		t.Errorf("stderr %q does not count the undecided results", r.stderr)
	}
	vigil(t, nil, "scan", "--from", empty, "--unknown-ok").want(t, 2)
	if h := vigil(t, nil, "scan", "--help").want(t, 0).stdout; !strings.Contains(h, "code 4 when one there could not be decided") || !strings.Contains(h, "--unknown-ok") {
		t.Errorf("scan --help does not document exit code 4 and --unknown-ok:\n%s", h)
	}
}

// TestEmptyRuns: a run that covered less than it was asked to is
// INCOMPLETE (exit 1 after the report), a snapshot of nothing is an
// error, and vigil fix refuses a snapshot of another organisation or
// account. Each of these once exited 0.
func TestEmptyRuns(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"an ID not in the organisation", []string{"scan", "--org", "--demo", "--accounts", "999999999999"},
			[]string{"the scan is incomplete: 1 of the 1 account(s) asked for by ID were not scanned: 999999999999 (not a member of organization o-demo1234567)", "no account was scanned"}},
		{"one ID of two not in the organisation, gated", []string{"scan", "--org", "--demo", "--accounts", "999999999999,222222222222", "--fail-on", "critical"},
			[]string{"1 of the 2 account(s) asked for by ID were not scanned: 999999999999"}},
		{"an ID outside the OUs asked for", []string{"scan", "--org", "--demo", "--ou", "Workloads", "--accounts", "555555555555,222222222222"},
			[]string{"555555555555 (requested with --accounts, but not in the OUs selected with --ou)"}},
		{"a suspended account asked for", []string{"scan", "--org", "--demo", "--accounts", "666666666666,222222222222"},
			[]string{"666666666666 (the account is SUSPENDED"}},
		{"fix with an ID not in the organisation", []string{"fix", "--org", "--demo", "--accounts", "999999999999"},
			[]string{"the run is incomplete: 1 of the 1 account(s) asked for by ID were not reached"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 1)
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if !strings.Contains(r.stdout, "INCOMPLETE") {
				t.Errorf("the report does not say it is incomplete:\n%s", r.stdout)
			}
		})
	}
	// An account asked for and excluded is excluded, as asked: not missing.
	vigil(t, nil, "scan", "--org", "--demo", "--accounts", "222222222222,333333333333", "--exclude", "222222222222").want(t, 0)

	// Snapshots of nothing.
	ref := testclock.Ref().Format(time.RFC3339)
	noAccount := filepath.Join(dir, "no-account.json")
	os.WriteFile(noAccount, []byte(`{"schema":"vigil.snapshot","version":1,"collected_at":"`+ref+`","source":{"kind":"aws"},"accounts":[]}`), 0o644)
	noTime := filepath.Join(dir, "no-time.json")
	os.WriteFile(noTime, []byte(`{"schema":"vigil.snapshot","version":1,"source":{"kind":"aws"},"accounts":[{"account_id":"111122223333"}]}`), 0o644)
	for _, c := range []struct{ file, want string }{
		{noAccount, "it holds no account"},
		{noTime, `"collected_at" is missing`},
	} {
		for _, cmd := range []string{"scan", "fix"} {
			if r := vigil(t, nil, cmd, "--from", c.file).want(t, 1); !strings.Contains(r.stderr, c.file+": "+c.want) || r.stdout != "" {
				t.Errorf("%s --from %s: stderr %q, stdout %q", cmd, c.file, r.stderr, r.stdout)
			}
		}
	}
	// An incomplete run that scanned nothing is saved, and read back as
	// incomplete.
	saved := filepath.Join(dir, "nothing.json")
	vigil(t, nil, "scan", "--org", "--demo", "--accounts", "999999999999", "--save", saved).want(t, 1)
	if r := vigil(t, nil, "scan", "--from", saved, "--fail-on", "critical").want(t, 1); !strings.Contains(r.stderr, "the scan is incomplete") {
		t.Errorf("stderr %q", r.stderr)
	}

	// vigil fix --from a snapshot of another organisation, or of another
	// account, is refused before anything could change.
	orgSnap := filepath.Join(dir, "org.json")
	vigil(t, nil, "scan", "--org", "--demo", "--save", orgSnap, "-q").want(t, 0)
	var doc map[string]any
	json.Unmarshal(must(os.ReadFile(orgSnap)), &doc)
	doc["organization"].(map[string]any)["id"] = "o-other1111111"
	for _, a := range doc["accounts"].([]any) {
		if m, ok := a.(map[string]any)["organization"].(map[string]any); ok {
			m["organization_id"] = "o-other1111111"
		}
	}
	otherOrg := filepath.Join(dir, "other-org.json")
	os.WriteFile(otherOrg, must(json.Marshal(doc)), 0o644)
	audit := filepath.Join(dir, "audit.jsonl")
	r := vigil(t, nil, "fix", "--from", otherOrg, "--demo", "--apply", "--yes", "--audit-log", audit).want(t, 1)
	if !strings.Contains(r.stderr, "is of organization o-other1111111, but these credentials are of organization o-demo1234567; nothing was changed") {
		t.Errorf("stderr %q", r.stderr)
	}
	if _, err := os.Stat(audit); err == nil {
		t.Error("an audit log was written: something was attempted")
	}
	otherAccount := filepath.Join(dir, "other-account.json")
	os.WriteFile(otherAccount, []byte(`{"schema":"vigil.snapshot","version":1,"collected_at":"`+ref+`","source":{"kind":"aws"},"accounts":[{"account_id":"999999999999","summary":{"account_access_keys_present":true,"account_mfa_enabled":true,"account_password_present":true,"account_signing_certificates_present":false}}]}`), 0o644)
	r = vigil(t, nil, "fix", "--from", otherAccount, "--demo").want(t, 1)
	if !strings.Contains(r.stderr, "holds account(s) 999999999999, but these credentials reach account(s) 111111111111") {
		t.Errorf("stderr %q", r.stderr)
	}
	// The right snapshot is accepted.
	vigil(t, nil, "fix", "--from", orgSnap, "--demo").want(t, 0)
}
