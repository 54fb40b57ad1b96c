package redact

import (
	"regexp"
	"strings"
)

// Marker replaces a credential.
const Marker = "[REDACTED]"

var (
	// credentialField is a credential named as a field, as AWS's APIs,
	// SDKs, CLI and config files spell it (SecretAccessKey,
	// aws_secret_access_key, SessionToken, X-Amz-Security-Token…), then
	// its separator (JSON, JSON quoted again, INI, query string,
	// environment or XML), then the value.
	credentialField = regexp.MustCompile(`(?i)(secret[-_]?access[-_]?key|secret[-_]?key|session[-_]?token|security[-_]?token)(\\?["']?\s*[:=]\s*\\?["']?|>)([^\s"',;&<>{}\[\]\\]+)`)
	// userinfo is the user and password of a URL.
	userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@"']+@`)
	// base64Run is a run of the alphabet secret keys and session tokens
	// are written in, with its padding.
	base64Run = regexp.MustCompile(`[A-Za-z0-9+/]+=*`)
)

// Text returns s with what could be a credential replaced by Marker:
//
//   - the value of a field named as a credential (SecretAccessKey,
//     aws_session_token, X-Amz-Security-Token…), whatever its shape;
//   - the user and password of a URL;
//   - a bare string shaped like a secret access key (exactly 40
//     characters of A-Z a-z 0-9 + /, with upper and lower case and a
//     digit) or a session token (100 or more such characters), unless it
//     reads as a file path (it starts with /, sits between a path's
//     punctuation as in go-build…/x.json, or has a slash every few
//     characters), so that the
//     paths in "open …: no such file" stay whole.
//
// Text is for text that may quote outside input (error messages above
// all); identifiers need none.
func Text(s string) string {
	s = Locator(s)
	if !hasRun(s, 40) {
		// Nothing shorter than 40 characters is secret-shaped: most
		// messages (every result of every scan goes through here) are
		// spared the regular expression.
		return s
	}
	idx := base64Run.FindAllStringIndex(s, -1)
	if idx == nil {
		return s
	}
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

// Locator redacts named credentials and URL passwords only: for file
// paths and endpoints, whose parts may look like anything.
func Locator(s string) string {
	if s == "" {
		return s
	}
	// Each expression only where it can match (its literal words are
	// there): the expressions cost a scan's recording more CPU than
	// anything else done per result, and almost no text has either.
	if mayNameCredential(s) {
		s = credentialField.ReplaceAllString(s, "${1}${2}"+Marker)
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = userinfo.ReplaceAllString(s, "${1}"+Marker+"@")
	}
	return s
}

// secretShaped tells whether s[i:j], a maximal base64Run, looks like a
// secret access key or a session token rather than a word or a path.
func secretShaped(s string, i, j int) bool {
	run := strings.TrimRight(s[i:j], "=")
	n := len(run)
	if n != 40 && n < 100 {
		return false
	}
	var upper, lower, digit bool
	for k := 0; k < n; k++ {
		switch c := run[k]; {
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		case '0' <= c && c <= '9':
			digit = true
		}
	}
	if !upper || !lower || !digit {
		return false
	}
	// A path: absolute, between a path's punctuation ("go-build…/x.json"),
	// or more slashes than random base64 has (one in 64 characters).
	slashes := strings.Count(run, "/")
	if n == 40 {
		return run[0] != '/' && slashes <= 3 && (i == 0 || !strings.ContainsRune(".-_~", rune(s[i-1]))) &&
			(j == len(s) || !strings.ContainsRune("-_", rune(s[j])) && !(s[j] == '.' && j+1 < len(s) && isAlnum(s[j+1])))
	}
	return slashes <= n/16
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// mayNameCredential reports whether s could hold a match of
// credentialField: each of its names starts with "secret", "session" or
// "security", in any case. Text with a byte beyond ASCII is always
// handed to the expression, whose case folding knows letters such as
// the long s (U+017F) that fold to ASCII ones.
func mayNameCredential(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return true
		}
		if c|0x20 != 's' || i+6 > len(s) {
			continue
		}
		if w := s[i+1 : i+6]; strings.EqualFold(w, "ecret") || strings.EqualFold(w, "essio") || strings.EqualFold(w, "ecuri") {
			return true
		}
	}
	return false
}

// hasRun reports whether s has n characters of base64Run's alphabet
// (A-Z a-z 0-9 + /) in a row.
func hasRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			run++
			if run >= n {
				return true
			}
		default:
			run = 0
		}
	}
	return false
}
