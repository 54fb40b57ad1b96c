package awsemu

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Paging tokens are opaque to clients but simple here: the offset into the
// (deterministically ordered) list, tagged with the operation so a token
// from one listing is rejected by another, as AWS does.

func encodeToken(op string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("awsemu:" + op + ":" + strconv.Itoa(offset)))
}

func decodeToken(op, token string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), "awsemu:"+op+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// page returns items[offset:offset+limit] and the token for the rest, or
// "" when nothing is left.
func page[T any](op string, items []T, offset, limit int) ([]T, string) {
	if offset > len(items) {
		offset = len(items)
	}
	end := offset + limit
	if end >= len(items) {
		return items[offset:], ""
	}
	return items[offset:end], encodeToken(op, end)
}

// iamPage applies awsQuery Marker/MaxItems paging (MaxItems 1–1000,
// default 100).
func iamPage[T any](r *request, items []T) (out []T, truncated bool, marker string, err *apiError) {
	limit, set, err := r.intParam("MaxItems")
	if err != nil {
		return nil, false, "", err
	}
	if !set {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return nil, false, "", errValidation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", limit)
	}
	offset := 0
	if m := r.param("Marker"); m != "" {
		var ok bool
		if offset, ok = decodeToken(r.action, m); !ok {
			return nil, false, "", newError("InvalidInput", "Invalid Marker %q", m)
		}
	}
	out, marker = page(r.action, items, offset, limit)
	return out, marker != "", marker, nil
}
