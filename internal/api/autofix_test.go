package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// testAutoFix is the fixture's serve config: root-access-key in plan
// mode in one OU, no audit log (so no apply).
var testAutoFix = api.AutoFix{Baseline: []store.AutoFixPolicy{{Rule: "root-access-key", Mode: store.AutoFixPlan, MinIdle: 30 * 24 * time.Hour, OUs: []string{"Root/Workloads"}}}}

type autoFixList struct {
	Rules          []api.AutoFixRule   `json:"rules"`
	ApplyAvailable bool                `json:"apply_available"`
	History        []api.AutoFixChange `json:"history"`
}

// Admins change a rule's auto-fix over the API: the change replaces the
// config's policy, is recorded with the token's name and the time, and
// is checked as the config is; viewers read but may not change it.
func TestAutoFix(t *testing.T) {
	f := start(t)
	var l autoFixList
	if code, raw := f.do(t, "GET", "/api/v1/autofix", f.Viewer, nil, &l); code != 200 || len(l.Rules) != 2 || l.ApplyAvailable || len(l.History) != 0 {
		t.Fatalf("%d %s", code, raw)
	}
	key := l.Rules[0]
	if key.Rule != "root-access-key" || key.Title == "" || len(key.Policies) != 1 || key.Policies[0].Mode != "plan" || key.Policies[0].MinIdleDays != 30 ||
		len(key.Config) != 1 || key.Changed != nil || len(l.Rules[1].Policies) != 0 {
		t.Fatalf("before any change: %+v", l.Rules)
	}
	path := "/api/v1/autofix/root-access-key"
	if code, raw := f.do(t, "PUT", path, f.Viewer, map[string]any{"mode": "off"}, nil); code != 403 || !strings.Contains(string(raw), `"forbidden"`) {
		t.Fatalf("viewer: %d %s", code, raw)
	}
	for _, bad := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"mode": "apply"}, "audit log"},
		{map[string]any{"mode": "fix"}, "want off, plan"},
		{map[string]any{"mode": "plan", "min_idle_days": -1}, "min_idle_days"},
		{map[string]any{"mode": "plan", "accounts": []string{"1"}}, "12-digit"},
		{map[string]any{"mode": "plan", "accounts": []string{"222222222222"}, "ous": []string{"Root/Sandbox"}}, "not both"},
	} {
		if code, raw := f.do(t, "PUT", path, f.Admin, bad.body, nil); code != 422 || !strings.Contains(string(raw), `"invalid_autofix"`) || !strings.Contains(string(raw), bad.want) {
			t.Errorf("%v: %d %s", bad.body, code, raw)
		}
	}
	if code, raw := f.do(t, "PUT", path, f.Admin, map[string]any{"mode": "plan", "extra": 1}, nil); code != 400 || !strings.Contains(string(raw), `"invalid_json"`) {
		t.Errorf("unknown field: %d %s", code, raw)
	}
	// A rule the fix engine does not fix is not found, whatever the body.
	for _, body := range []map[string]any{{"mode": "plan"}, {"mode": "fix"}, {"extra": 1}} {
		for _, rule := range []string{"root-mfa", "no-such-rule", "root-access-key%20"} {
			if code, raw := f.do(t, "PUT", "/api/v1/autofix/"+rule, f.Admin, body, nil); code != 404 || !strings.Contains(string(raw), `"not_found"`) ||
				!strings.Contains(string(raw), "fix engine fixes") {
				t.Errorf("%s %v: %d %s", rule, body, code, raw)
			}
		}
	}
	// No rule at all is no route.
	if code, raw := f.do(t, "PUT", "/api/v1/autofix/", f.Admin, map[string]any{"mode": "plan"}, nil); code != 404 || !strings.Contains(string(raw), `"not_found"`) {
		t.Errorf("no rule: %d %s", code, raw)
	}
	var out struct{ Rule api.AutoFixRule }
	if code, raw := f.do(t, "PUT", path, f.Admin, map[string]any{"mode": "off"}, &out); code != 200 || len(out.Rule.Policies) != 0 || out.Rule.Changed == nil ||
		out.Rule.Changed.Mode != "off" || !strings.Contains(out.Rule.Changed.By, "admin") || !out.Rule.Changed.At.Equal(testclock.Ref()) || len(out.Rule.Config) != 1 {
		t.Fatalf("off: %d %s", code, raw)
	}
	body := map[string]any{"mode": "plan", "min_idle_days": 90, "accounts": []string{"222222222222", " 222222222222", ""}}
	if code, raw := f.do(t, "PUT", "/api/v1/autofix/root-signing-certificate", f.Admin, body, &out); code != 200 || len(out.Rule.Policies) != 1 ||
		out.Rule.Policies[0].MinIdleDays != 90 || len(out.Rule.Policies[0].Accounts) != 1 {
		t.Fatalf("plan: %d %s", code, raw)
	}
	if code, raw := f.do(t, "GET", "/api/v1/autofix", f.Viewer, nil, &l); code != 200 || len(l.History) != 2 || l.History[0].Rule != "root-signing-certificate" ||
		l.History[1].Mode != "off" || len(l.Rules[0].Policies) != 0 || l.Rules[0].Changed == nil {
		t.Fatalf("after the changes: %d %s", code, raw)
	}
}

// An admin drops the change to a rule over the API: the config's policy
// is in force again, and the reset is in the history with who and when;
// a rule with no change is answered as it stands, nothing recorded;
// viewers may not; an unknown rule is not found.
func TestAutoFixReset(t *testing.T) {
	f := start(t)
	path := "/api/v1/autofix/root-access-key"
	var out struct{ Rule api.AutoFixRule }
	if code, raw := f.do(t, "DELETE", path, f.Admin, nil, &out); code != 200 || out.Rule.Changed != nil || len(out.Rule.Policies) != 1 || out.Rule.Policies[0].Mode != "plan" {
		t.Fatalf("reset without a change: %d %s", code, raw)
	}
	var l autoFixList
	if f.do(t, "GET", "/api/v1/autofix", f.Viewer, nil, &l); len(l.History) != 0 {
		t.Fatalf("a reset of nothing was recorded: %+v", l.History)
	}
	if code, raw := f.do(t, "PUT", path, f.Admin, map[string]any{"mode": "off"}, &out); code != 200 || len(out.Rule.Policies) != 0 {
		t.Fatalf("off: %d %s", code, raw)
	}
	if code, raw := f.do(t, "DELETE", path, f.Viewer, nil, nil); code != 403 || !strings.Contains(string(raw), `"forbidden"`) {
		t.Errorf("viewer: %d %s", code, raw)
	}
	for _, rule := range []string{"root-mfa", "no-such-rule"} {
		if code, raw := f.do(t, "DELETE", "/api/v1/autofix/"+rule, f.Admin, nil, nil); code != 404 || !strings.Contains(string(raw), `"not_found"`) {
			t.Errorf("%s: %d %s", rule, code, raw)
		}
	}
	out = struct{ Rule api.AutoFixRule }{}
	if code, raw := f.do(t, "DELETE", path, f.Admin, nil, &out); code != 200 || out.Rule.Changed != nil || len(out.Rule.Policies) != 1 ||
		out.Rule.Policies[0].Mode != "plan" || out.Rule.Policies[0].OUs[0] != "Root/Workloads" {
		t.Fatalf("reset: %d %s", code, raw)
	}
	if code, raw := f.do(t, "GET", "/api/v1/autofix", f.Viewer, nil, &l); code != 200 || len(l.History) != 2 || l.History[0].Mode != "config" ||
		!strings.Contains(l.History[0].By, "admin") || !l.History[0].At.Equal(testclock.Ref()) || l.History[1].Mode != "off" || l.Rules[0].Changed != nil ||
		len(l.Rules[0].Policies) != 1 {
		t.Fatalf("after the reset: %d %s", code, raw)
	}
}
