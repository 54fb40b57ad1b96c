package serveconfig

import (
	"net"
	"net/url"
	"strings"
)

// secretParams are query parameter names that carry credentials.
var secretParams = []string{"token", "key", "apikey", "api_key", "secret", "sig", "signature", "password", "pass", "pwd", "auth", "code", "access_token", "credential", "credentials"}

// urlSecret says why an inline URL holds a credential, or "" when it
// does not: user information (https://user:pass@host), a query parameter
// named like a credential, or a path segment or value shaped like a token
// (the same test redact applies to error messages).
func urlSecret(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.User != nil {
		return "holds credentials (user:password@)"
	}
	for name, vals := range u.Query() {
		l := strings.ToLower(name)
		for _, s := range secretParams {
			if l == s || strings.HasSuffix(l, "_"+s) || strings.HasSuffix(l, "-"+s) {
				return "has a query parameter " + name + " that carries a credential"
			}
		}
		for _, v := range vals {
			if tokenShaped(v) {
				return "has a query parameter " + name + " whose value looks like a token"
			}
		}
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if tokenShaped(seg) {
			return "has a path segment that looks like a token"
		}
	}
	return ""
}

// PublicURLProblem says what is wrong with the dashboard's public URL
// (public_url, --public-url), or "": it goes into every alert, so it is
// an http(s) URL with a host and nothing that could carry a credential
// or break the finding paths appended to it.
func PublicURLProblem(raw string) string {
	if why := badURL(raw); why != "" {
		return why
	}
	u, _ := url.Parse(raw)
	switch {
	case u.User != nil:
		return "holds credentials (user:password@); alerts carry it to every receiver"
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "has a query or a fragment; want the dashboard's base URL, e.g. https://vigil.example.com"
	}
	return ""
}

// badURL says what is wrong with an alert URL, or "".
func badURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "https" && u.Scheme != "http":
		return "is not an http(s) URL"
	case u.Host == "":
		return "has no host"
	}
	return ""
}

// loopback reports whether the URL's host is this machine, where plain
// http crosses no network.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// tokenShaped reports whether s reads like a generated token: 20 or more
// characters of the alphabets tokens are written in, with digits and
// letters mixed. Words and numeric IDs stay clear of it; a UUID does not,
// and a URL holding one is usually a credential (Teams, Discord).
func tokenShaped(s string) bool {
	if len(s) < 20 {
		return false
	}
	var letters, digits bool
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letters = true
		case '0' <= c && c <= '9':
			digits = true
		case strings.ContainsRune("-_=.+~%", c):
		default:
			return false
		}
	}
	return letters && digits
}
