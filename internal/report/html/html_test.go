package html

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

var testGuides = guide.Guides{
	"root-access-key": {Fix: "Delete the root user's access keys.", Requirements: []string{"CIS AWS 5.0.0/1.3", "PCI DSS 4.0/8.2.2"}},
	"root-mfa":        {Fix: "Give the root user MFA.", Requirements: []string{"CIS AWS 5.0.0/1.4"}},
}

// TestConformance: the writer keeps the report.Writer contract, and its
// output is well-formed HTML that fetches and runs nothing.
func TestConformance(t *testing.T) {
	reporttest.Run(t, New(Options{}), readHTML)
	t.Run("guides", func(t *testing.T) { reporttest.Run(t, New(Options{Guides: testGuides}), readHTML) })
}

// voids are the elements without an end tag.
var voids = map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true, "wbr": true}

// cssFetch finds what would make a style sheet fetch something.
var cssFetch = regexp.MustCompile(`(?i)url\s*\(|@import|expression\s*\(`)

// readHTML reads a report as a browser would, and fails unless it is one
// well-formed document (every element closed in order) that holds no
// script, no event handler, no frame or object, no link to anything
// outside itself and no style that fetches. Its text is every text node,
// decoded, one per line.
func readHTML(out []byte) (string, error) {
	z := xhtml.NewTokenizer(bytes.NewReader(out))
	var stack []string
	var text strings.Builder
	inStyle := false
	doctype := false
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				if len(stack) > 0 {
					return "", fmt.Errorf("unclosed elements %v", stack)
				}
				if !doctype {
					return "", errors.New("no <!DOCTYPE html>")
				}
				return text.String(), nil
			}
			return "", z.Err()
		case xhtml.DoctypeToken:
			doctype = string(z.Token().Data) == "html"
		case xhtml.TextToken:
			s := string(z.Text())
			if inStyle && cssFetch.MatchString(s) {
				return "", fmt.Errorf("the style sheet fetches: %q", cssFetch.FindString(s))
			}
			text.WriteString(s + "\n")
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "link", "img", "base", "form", "frame", "audio", "video", "source":
				return "", fmt.Errorf("a <%s> element", tok.Data)
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(k, "on"):
					return "", fmt.Errorf("an event handler %s", a.Key)
				case k == "style" && cssFetch.MatchString(a.Val):
					return "", fmt.Errorf("a style that fetches: %q", a.Val)
				case (k == "href" || k == "src" || strings.HasSuffix(k, ":href") || k == "action") && !strings.HasPrefix(a.Val, "#"):
					return "", fmt.Errorf("<%s %s=%q> points outside the report", tok.Data, a.Key, a.Val)
				}
			}
			if tt == xhtml.StartTagToken && !voids[tok.Data] {
				stack = append(stack, tok.Data)
				inStyle = tok.Data == "style"
			}
		case xhtml.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				return "", fmt.Errorf("</%s> closes %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
			inStyle = false
		}
	}
}

// TestReadHTMLCatches: the reader refuses what a report must not hold,
// so the conformance run above proves something.
func TestReadHTMLCatches(t *testing.T) {
	ok := "<!DOCTYPE html><html><head><style>p{color:red}</style></head><body><p>x<br>y</p><svg><rect/></svg><a href=\"#f\">f</a></body></html>"
	if _, err := readHTML([]byte(ok)); err != nil {
		t.Fatalf("a good page refused: %v", err)
	}
	for _, bad := range []string{
		"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
		"<!DOCTYPE html><html><body><img src=\"https://x.example/p.png\"></body></html>",
		"<!DOCTYPE html><html><body><a href=\"https://x.example\">x</a></body></html>",
		"<!DOCTYPE html><html><head><style>@import 'https://x.example/a.css';</style></head><body></body></html>",
		"<!DOCTYPE html><html><head><style>b{background:url(https://x.example/b.png)}</style></head><body></body></html>",
		"<!DOCTYPE html><html><body><p onclick=\"x()\">x</p></body></html>",
		"<!DOCTYPE html><html><body><p>unclosed</body></html>",
		"<html><body></body></html>",
	} {
		if _, err := readHTML([]byte(bad)); err == nil {
			t.Errorf("not caught: %s", bad)
		}
	}
}

func orgDoc(accounts int, failEvery int) *report.Document {
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "profile management"})
	snap.Organization = &snapshot.Organization{ID: "o-test", ManagementAccountID: fmt.Sprintf("%012d", 100000000000), AccessMode: snapshot.AccessAssumeRole}
	var results []rule.Result
	asOf := testclock.Ref().Add(-time.Hour)
	ids := []string{"root-access-key", "root-mfa", "root-hardware-mfa", "root-recent-use", "root-signing-certificate", "root-member-password", "org-root-credentials-management"}
	for i := range accounts {
		id := fmt.Sprintf("%012d", 100000000000+i)
		role := snapshot.RoleMember
		if i == 0 {
			role = snapshot.RoleManagement
		}
		snap.Accounts = append(snap.Accounts, snapshot.Account{ID: id, Name: fmt.Sprintf("workload-%04d", i), Partition: "aws",
			OUPath: []string{"Root", "Workloads", fmt.Sprintf("Team %d", i%20)}, Org: &snapshot.Membership{Role: role, OrganizationID: "o-test", ManagementAccountID: snap.Organization.ManagementAccountID}})
		for k, rid := range ids {
			st := rule.Pass
			switch {
			case failEvery > 0 && (i+k)%failEvery == 0:
				st = rule.Fail
			case failEvery > 0 && (i+k)%(failEvery*3) == 1:
				st = rule.Unknown
			case k == 6:
				st = rule.NotApplicable
			}
			sev := []rule.Severity{rule.Critical, rule.Critical, rule.High, rule.High, rule.Medium, rule.Medium, rule.Low}[k]
			results = append(results, rule.Result{Meta: &rule.Meta{RuleID: rid, Title: "Title of " + rid, RuleSeverity: sev, Category: "Root", Service: "iam", AccountID: id, AccountName: fmt.Sprintf("workload-%04d", i), Partition: "aws"},
				Status: st, Severity: sev, Resource: "arn:aws:iam::" + id + ":root",
				Message: "The root user of this account has an active access key, last used 2026-11-20T08:12:00Z in us-east-1 for ec2 (credential report of " + asOf.Format(time.RFC3339) + ").",
				Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"},
					{Source: "credential report", Key: "access_key_1_active", Value: "true", AsOf: &asOf, AsOfSource: snapshot.TimeFromAPI}}})
		}
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "t"}, testclock.Ref())
}

// TestOrganisationSize: the report of a 5,000-account organisation, one
// result in six failing, stays under 5 MB; the heat map is cut to the
// worst accounts and says so.
func TestOrganisationSize(t *testing.T) {
	slowtest.Skip(t, "the HTML report of a 5,000-account organisation stays under 5 MB")
	var buf bytes.Buffer
	if err := New(Options{Guides: testGuides}).Write(&buf, orgDoc(5000, 6)); err != nil {
		t.Fatal(err)
	}
	if buf.Len() >= 5_000_000 {
		t.Errorf("the report of 5,000 accounts is %d bytes", buf.Len())
	}
	if !strings.Contains(buf.String(), "the 250 worst of 5,000 accounts") {
		t.Errorf("the heat map does not say it is cut")
	}
	if _, err := readHTML(buf.Bytes()); err != nil {
		t.Error(err)
	}
	t.Logf("%d bytes", buf.Len())
}

// TestSections: what an auditor looks for is there: the summary counts,
// the three charts for an organisation, the fix and requirements of a
// failing rule, and the evidence of each open result.
func TestSections(t *testing.T) {
	var buf bytes.Buffer
	d := orgDoc(12, 5)
	if err := New(Options{Guides: testGuides}).Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Failed results by severity", "Accounts × rules", "Compliance coverage", "CIS AWS 5.0.0", "PCI DSS 4.0",
		"How to fix.</b> Delete the root user&#39;s access keys.", "vigil explain root-access-key",
		"AccountAccessKeysPresent = 1", `id="findings"`, "workload-0011",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	fails := strings.Count(out, `<tr class="fail">`)
	if fails != d.Summary.Counts.Fail {
		t.Errorf("%d FAIL rows for %d failures", fails, d.Summary.Counts.Fail)
	}
	if strings.Count(out, `<tr class="unk">`) != d.Summary.Counts.Unknown {
		t.Errorf("not every UNKNOWN result is listed")
	}
	// A single account: no heat map, passing results listed too.
	buf.Reset()
	one := orgDoc(1, 3)
	if err := New(Options{}).Write(&buf, one); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Accounts × rules") || strings.Count(buf.String(), `<tr class="pass">`) != one.Summary.Counts.Pass {
		t.Errorf("single account: heat map shown or passes not listed")
	}
}
