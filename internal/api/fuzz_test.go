package api

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// A cursor comes from the client: any string decodes or is refused
// without a panic, and what decodes encodes back to the same key.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(store.Finding{}))
	f.Add("eyJhIjoiMTExMTExMTExMTExIiwiciI6InJvb3QtbWZhIiwicyI6IngifQ")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			return
		}
		var fd store.Finding
		fd.AccountID, fd.RuleID, fd.Resource = c.Account, c.Rule, c.Resource
		back, err := decodeCursor(encodeCursor(fd))
		if err != nil || back != c {
			t.Fatalf("%q: %+v, round trip %+v %v", s, c, back, err)
		}
	})
}

// Filters come from the query string: any values parse or are refused.
func FuzzFilter(f *testing.F) {
	f.Add("open,resolved", "high", "root-mfa", "111111111111", "Root/Workloads")
	f.Add("all", "", "", "", "")
	f.Fuzz(func(t *testing.T, status, severity, rule, account, ou string) {
		Filter(map[string][]string{"status": {status}, "severity": {severity}, "rule": {rule}, "account": {account}, "ou": {ou}}, time.Time{})
	})
}
