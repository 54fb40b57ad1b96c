package awsemu

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// AWS identifiers are uppercase base32-looking strings; the emulator makes
// its own from a hash (stable IDs for world entities) or from the server's
// seeded generator (new keys and sessions), so runs are reproducible.
// None of them is secret or unguessable, and they need not be: nothing in
// the emulator is a security boundary.

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// derivedID returns prefix plus 17 characters derived from seed, the length
// of real user and role IDs (AIDA…, AROA…).
func derivedID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + idEncoding.EncodeToString(sum[:])[:17]
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// newAccessKeyID returns prefix (AKIA or ASIA) and 16 more characters.
// Callers hold s.mu, which guards s.rng.
func (s *Server) newAccessKeyID(prefix string) string {
	for {
		var b [10]byte
		for i := range b {
			b[i] = byte(s.rng.Uint32())
		}
		id := prefix + idEncoding.EncodeToString(b[:])[:16]
		if !s.keyInUse(id) {
			return id
		}
	}
}

func (s *Server) randomString(n int) string {
	var sb strings.Builder
	for range n {
		sb.WriteByte(secretAlphabet[s.rng.IntN(len(secretAlphabet))])
	}
	return sb.String()
}

// requestID is a UUID-shaped ID derived from the request's sequence number,
// so golden files that capture request IDs stay stable.
func requestID(seq int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", 0xa0e50000, seq)
}

// derivedUUID returns a UUID-shaped ID derived from seed (CloudTrail event
// IDs are UUIDs).
func derivedUUID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
