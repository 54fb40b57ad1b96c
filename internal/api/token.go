package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/store"
)

// Tokens look like vigil_<key>_<secret>: the key (public, 12 hex digits)
// finds the stored row without a search over hashes, the secret (32
// random bytes) is what makes it a credential. Only SHA-256 of the whole
// token is stored; a fast hash is enough for 256 random bits.
var tokenPattern = regexp.MustCompile(`^vigil_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$`)

// NewToken makes a token for name and role: the plain token to show once
// and the row to store.
func NewToken(name string, role store.Role) (plain string, t store.Token, err error) {
	var k [6]byte
	var secret [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", t, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", t, err
	}
	key := hex.EncodeToString(k[:])
	plain = "vigil_" + key + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	h := sha256.Sum256([]byte(plain))
	return plain, store.Token{Name: name, Role: role, Key: key, Hash: h[:]}, nil
}

// ValidRole reports whether r names a role.
func ValidRole(r string) bool { return r == string(store.Viewer) || r == string(store.Admin) }

// errBadToken is every failure to authenticate: which part failed is not
// told to the caller.
var errBadToken = errors.New("invalid or revoked token")

// TokenStore is what authentication needs of the store.
type TokenStore interface {
	TokenByKey(ctx context.Context, key string) (store.Token, error)
}

// Authenticate checks a plain token against the store: known, not
// revoked, and its hash equal in constant time.
func Authenticate(ctx context.Context, st TokenStore, plain string) (store.Token, error) {
	m := tokenPattern.FindStringSubmatch(strings.TrimSpace(plain))
	if m == nil {
		return store.Token{}, errBadToken
	}
	t, err := st.TokenByKey(ctx, m[1])
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errBadToken
	}
	if err != nil {
		return store.Token{}, err
	}
	h := sha256.Sum256([]byte(m[0]))
	if subtle.ConstantTimeCompare(h[:], t.Hash) != 1 || t.RevokedAt != nil {
		return store.Token{}, errBadToken
	}
	return t, nil
}

// Protect serves h only to a request with a valid token of any role,
// with the API's JSON errors otherwise: vigil serve's /metrics, which a
// Prometheus scrape reaches with a viewer token (authorization:
// credentials_file).
func Protect(st TokenStore, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || plain == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a token is required: Authorization: Bearer <token> ('vigil token create --role viewer' makes one)")
			return
		}
		if _, err := Authenticate(r.Context(), st, plain); err != nil {
			if errors.Is(err, errBadToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "invalid or revoked token")
				return
			}
			writeError(w, http.StatusInternalServerError, "internal", "the server could not answer; see its log")
			return
		}
		h.ServeHTTP(w, r)
	})
}
