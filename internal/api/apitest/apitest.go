// Package apitest fills a store the way `vigil scan --db` does, with a
// real scan of the emulated demo organisation, and makes tokens for it:
// the fixture of the API's and the dashboard's tests.
package apitest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/record"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/scan"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Filled is a store holding one recorded scan of the demo organisation.
type Filled struct {
	Store *sqlite.DB
	// Viewer and Admin are plain tokens of each role; Revoked was an
	// admin token and is revoked.
	Viewer, Admin, Revoked string
}

// Fill scans the emulated demo organisation through its audit role and
// records the scan, then makes the tokens.
func Fill(t testing.TB) Filled {
	t.Helper()
	ctx := context.Background()
	now := testclock.Ref()
	srv := awsemutest.Start(t, awsemu.DemoWorld(now))
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	res, err := scan.Run(ctx, scan.Request{
		Source: scan.Organization{Config: cfg, Options: fleet.Options{Mode: fleet.ModeRole, Role: fleet.Role{Name: "VigilAudit"}, Parallel: 4}},
		Rules:  rule.DefaultOptions(), Clock: clock.Pinned{T: now}, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := record.Scan(ctx, st, record.Request{
		Scan:   store.Scan{Target: record.Describe(res.Snapshot), StartedAt: res.Report.CollectedAt},
		Report: res.Report, Snapshot: res.Snapshot, WholeOrganization: true, Now: now, Finish: true,
	}); err != nil {
		t.Fatal(err)
	}
	f := Filled{Store: st}
	mk := func(name string, role store.Role) string {
		plain, tok, err := api.NewToken(name, role)
		if err != nil {
			t.Fatal(err)
		}
		tok.CreatedAt = now
		if _, err := st.AddToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return plain
	}
	f.Viewer, f.Admin, f.Revoked = mk("viewer", store.Viewer), mk("admin", store.Admin), mk("gone", store.Admin)
	if err := st.RevokeToken(ctx, "gone", now); err != nil {
		t.Fatal(err)
	}
	return f
}
