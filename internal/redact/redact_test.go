package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	secretKey    = "vIgiLtEsTkEy7sEcReT/k7MDENG+bPxRfiCY42xx"
	sessionToken = "IQoJb3JpZ2luX2VjEVIGILTESTTOKEN" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
)

// TestText: credentials are removed in every form an error quotes them
// in; identifiers, paths and prose are left whole.
func TestText(t *testing.T) {
	if len(secretKey) != 40 {
		t.Fatalf("the test key is %d characters", len(secretKey))
	}
	redacted := []struct{ name, in, secret string }{
		{"credential_process JSON", `parse failed of process output: {"Version": 1, "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "` + secretKey + `", "SessionToken": "short-token"}`, "short-token"},
		{"JSON quoted again", `output: "{\"SecretAccessKey\": \"not-shaped-secret\"}"`, "not-shaped-secret"},
		{"INI line", "line 3: aws_secret_access_key = plain-words-secret", "plain-words-secret"},
		{"environment", "AWS_SESSION_TOKEN=tok.en-value_x ignored", "tok.en-value_x"},
		{"query string", "GET https://sts.amazonaws.com/?X-Amz-Security-Token=abc%2Fdef&X-Amz-Date=1", "abc%2Fdef"},
		{"XML", "<SecretAccessKey>xml-secret</SecretAccessKey><SessionToken>xml-token</SessionToken>", "xml-secret"},
		{"XML token", "<SessionToken>xml-token</SessionToken>", "xml-token"},
		{"URL password", "proxy https://vigil:hunter2@proxy.example.com:8443/x", "hunter2"},
		{"URL token user", "https://ghp_abc123@example.com/", "ghp_abc123"},
		{"bare secret key", "signed with " + secretKey + " and failed", secretKey},
		{"bare secret key ending a sentence", "could not be read: " + secretKey + ".", secretKey},
		{"bare secret key quoted", `key "` + secretKey + `"`, secretKey},
		{"bare session token", "token " + sessionToken + " expired", sessionToken},
		{"session token in a path-like spot", "/" + sessionToken, sessionToken},
	}
	for _, c := range redacted {
		got := Text(c.in)
		if strings.Contains(got, c.secret) || !strings.Contains(got, Marker) {
			t.Errorf("%s: Text(%q) = %q", c.name, c.in, got)
		}
	}
	kept := []string{
		"",
		"AccessDenied: User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:GetAccountSummary",
		"The security token included in the request is expired",
		"ExpiredToken: The security token included in the request is invalid.",
		"access key AKIAIOSFODNN7EXAMPLE is active",
		"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
		"arn:aws:iam::210987654321:" + strings.Repeat("r", 3000),
		"commit 0123456789abcdef0123456789abcdef01234567 (sha1)",
		"certificate TA7SMP42TDN5Z26OBPJE7EXAMPLE777777777777",
		"emulated organisation at http://127.0.0.1:43123, signed in as vigil-admin",
		// Paths whose runs of the alphabet are 40 characters, upper and
		// lower case and digits, like a secret key's: absolute, after a
		// path's punctuation, before an extension.
		"open /tmp/TestScanFromSnap12345/001/snapxxxxx: no such file or directory",
		"/home/user/go-build/TestAbcDef1234567/0010/abcdddddddd",
		"open testdata/TestCredRep29/001/reportXyZqqqq.csv: denied",
		"the root user has a password (password_enabled = true)",
		"Paiements – Production 💳 مفتاح الوصول نشط",
	}
	for _, in := range kept {
		if got := Text(in); got != in {
			t.Errorf("Text(%q) = %q, want it unchanged", in, got)
		}
	}
}

// TestLocator: a path or endpoint keeps every part but a named credential
// or a URL's password, whatever its parts look like.
func TestLocator(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/" + secretKey + "/report.csv":                       "/tmp/" + secretKey + "/report.csv",
		"profile audit":                                           "profile audit",
		"endpoint https://u:p4ss@proxy.example.com":               "endpoint https://" + Marker + "@proxy.example.com",
		"https://iam.amazonaws.com/?X-Amz-Security-Token=abc&x=1": "https://iam.amazonaws.com/?X-Amz-Security-Token=" + Marker + "&x=1",
	} {
		if got := Locator(in); got != want {
			t.Errorf("Locator(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzText: whatever the input, the output is no longer than needed, the
// marker only replaces, and text without the secret alphabet is unchanged.
func FuzzText(f *testing.F) {
	f.Add("SecretAccessKey: " + secretKey)
	f.Add("https://a:b@c/")
	f.Add(sessionToken)
	f.Add("ſecret_key=x")
	f.Add("SESSION-token>v")
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if want := textAlways(s); got != want {
			t.Errorf("Text(%q) = %q, the expressions alone give %q", s, got, want)
		}
		if Text(got) != got {
			t.Errorf("Text is not idempotent on %q: %q then %q", s, got, Text(got))
		}
		if !strings.ContainsAny(s, "=:>@") && len(got) > len(s) && !strings.Contains(got, Marker) {
			t.Errorf("Text(%q) = %q grew without redacting", s, got)
		}
	})
}

// textAlways is Text with every expression run on every text, as before
// Text skipped those that cannot match: the two must agree.
func textAlways(s string) string {
	if s != "" {
		s = credentialField.ReplaceAllString(s, "${1}${2}"+Marker)
		s = userinfo.ReplaceAllString(s, "${1}"+Marker+"@")
	}
	idx := base64Run.FindAllStringIndex(s, -1)
	var b strings.Builder
	last := 0
	for _, m := range idx {
		if secretShaped(s, m[0], m[1]) {
			b.WriteString(s[last:m[0]])
			b.WriteString(Marker)
			last = m[1]
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// TestTextSkipsOnlyWhatCannotMatch holds the shortcuts to the
// expressions on texts built around their words, in every case, beside
// URLs and runs of the secret alphabet either side of 40 characters.
func TestTextSkipsOnlyWhatCannotMatch(t *testing.T) {
	parts := []string{"secret", "SeCrEt", "session", "SECURITY", "ſecret", "_", "-", "access", "key", "Key", "token", "Token",
		"=", ": ", ">", "\\\"", "'", " ", "x", "https://", "u:p", "@", "/", "host", "é", strings.Repeat("Ab1", 13), "A", "9"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		s := b.String()
		if got, want := Text(s), textAlways(s); got != want {
			t.Fatalf("Text(%q) = %q, the expressions alone give %q", s, got, want)
		}
	}
}

// BenchmarkText is Text on the messages and evidence of a scan's
// results, which almost never hold a credential, beside the expressions
// run on every text (always).
func BenchmarkText(b *testing.B) {
	texts := []string{
		"Root account has MFA enabled",
		"The root user has no access keys",
		"arn:aws:iam::111122223333:user/alice has not used her console password for 123 days (last used 2026-08-01T10:00:00Z)",
		"AccessDenied: User: arn:aws:sts::111122223333:assumed-role/VigilAudit/vigil is not authorized to perform: access-analyzer:ListAnalyzers",
		"password policy: minimum length 14, requires symbols, numbers, upper and lower case; reuse prevention 24",
		"us-east-1: analyzer arn:aws:access-analyzer:us-east-1:111122223333:analyzer/ConsoleAnalyzer-2c1b (ACTIVE, ACCOUNT)",
	}
	for _, c := range []struct {
		name string
		f    func(string) string
	}{{"shortcuts", Text}, {"always", textAlways}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range texts {
					c.f(s)
				}
			}
		})
	}
}
