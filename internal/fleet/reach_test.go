package fleet_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const (
	mgmtID     = "111122223333"
	adminID    = "222233334444"
	memberID   = "444455556666"
	suspended  = "555566667777"
	mgmtAdmin  = "AKIAMGMTADMIN0000001"
	delegated  = "AKIADELEGATED0000001"
	memberRole = "ReadTrail"
)

func world() *awsemu.World {
	return &awsemu.World{
		Organization: &awsemu.Organization{ID: "o-aa111bb222", ManagementAccountID: mgmtID, RootID: "r-ab12",
			TrustedAccess: []string{"iam.amazonaws.com"}, RootCredentialsManagement: true, DelegatedAdmins: []string{adminID}},
		Accounts: []*awsemu.Account{
			{ID: mgmtID, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: mgmtAdmin}}}}},
			{ID: adminID, Users: []awsemu.User{{Name: "secops", AccessKeys: []awsemu.AccessKey{{ID: delegated}}}}, Roles: []awsemu.Role{{Name: memberRole}}},
			{ID: memberID, Root: awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: "AKIAMEMBERROOT000001"}}}, Roles: []awsemu.Role{{Name: memberRole}}},
			{ID: suspended, State: awsemu.StateSuspended},
		},
	}
}

type visits struct {
	mu  sync.Mutex
	got map[string]fleet.Reach
	n   map[string]int
}

// visited is what the test's visitor keeps of an account: a type of its
// own, not a snapshot record.
type visited struct {
	method string
	caller string
	gaps   []snapshot.Gap
}

func (v *visits) visitor() fleet.Visitor[*visited] {
	return fleet.Visitor[*visited]{
		Visit: v.visit,
		Gaps: func(x *visited) []snapshot.Gap {
			if x == nil {
				return nil
			}
			return x.gaps
		},
	}
}

func (v *visits) visit(ctx context.Context, r fleet.Reach) *visited {
	v.mu.Lock()
	v.got[r.AccountID] = r
	v.n[r.AccountID]++
	v.mu.Unlock()
	out := &visited{method: r.Access.Method}
	if r.Access.Method == snapshot.AccessAssumeRoot {
		// The visitor opens the root session it needs, with its own task
		// policy.
		cfg, g := fleet.RootSession(ctx, r.Base, r.Partition, r.AccountID, "IAMDeleteRootUserCredentials", 0)
		if g != nil {
			out.gaps = append(out.gaps, *g)
			return out
		}
		who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			out.gaps = append(out.gaps, collect.NewGap(snapshot.SectionAccess, "sts:GetCallerIdentity", err))
			return out
		}
		out.caller = aws.ToString(who.Arn)
	}
	return out
}

// TestVisit: every account is handed to the visitor exactly once, routed
// as a scan would route it, and the management account is never the
// target of sts:AssumeRoot.
func TestVisit(t *testing.T) {
	srv := awsemutest.Start(t, world())
	for _, tt := range []struct {
		name, key string
		routes    map[string]string
	}{
		{"from the management account", mgmtAdmin, map[string]string{mgmtID: snapshot.AccessDirect, adminID: snapshot.AccessAssumeRoot, memberID: snapshot.AccessAssumeRoot}},
		{"from the delegated administrator", delegated, map[string]string{mgmtID: "", adminID: snapshot.AccessAssumeRoot, memberID: snapshot.AccessAssumeRoot}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetCalls()
			v := &visits{got: map[string]fleet.Reach{}, n: map[string]int{}}
			run, err := fleet.VisitOrg(t.Context(), awsemutest.ConfigFor(t, srv, tt.key), fleet.Options{Mode: fleet.ModeRoot,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Unix(0, 0) }}, v.visitor())
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for id, n := range v.n {
				ids = append(ids, id)
				if n != 1 {
					t.Errorf("%s visited %d times", id, n)
				}
				if got := v.got[id].Access.Method; got != tt.routes[id] {
					t.Errorf("%s reached by %q, want %q", id, got, tt.routes[id])
				}
			}
			sort.Strings(ids)
			if len(ids) != 3 {
				t.Errorf("visited %v (the suspended account must be skipped)", ids)
			}
			if r := v.got[mgmtID]; tt.key == mgmtAdmin && (r.CallerARN != "arn:aws:iam::"+mgmtID+":user/admin" || r.Config.Credentials == nil) ||
				tt.key == delegated && (r.Unreachable == nil || r.Unreachable.Call != "sts:AssumeRoot") {
				t.Errorf("management account reach %+v", r)
			}
			if m := v.got[memberID]; m.Membership == nil || m.Membership.Role != snapshot.RoleMember || m.Partition != "aws" {
				t.Errorf("member reach %+v", m)
			}
			for _, a := range run.Accounts {
				if a.Outcome != fleet.Done || a.Value == nil {
					t.Errorf("%s: outcome %v, value %+v", a.AccountID, a.Outcome, a.Value)
					continue
				}
				if a.AccountID == memberID && (a.Value.caller != "arn:aws:iam::"+memberID+":root" || a.Value.method != snapshot.AccessAssumeRoot) {
					t.Errorf("recorded member %+v", a.Value)
				}
				if a.Config.Credentials != nil {
					t.Errorf("%s: the run kept the account's credentials after its visit", a.AccountID)
				}
			}
			if len(run.Organization.Skipped) != 1 || run.Organization.Skipped[0].AccountID != suspended {
				t.Errorf("skipped %+v", run.Organization.Skipped)
			}
			for _, c := range srv.Calls() {
				if c.Action == "AssumeRoot" && c.Params["TargetPrincipal"] == mgmtID {
					t.Error("sts:AssumeRoot was called on the management account")
				}
				if awsemu.Mutating(c.Service, c.Action) {
					t.Errorf("mutating call %s:%s", c.Service, c.Action)
				}
			}
		})
	}
}

// TestVisitTargets: targets are identified once per account and visited
// with the credentials that reached them.
func TestVisitTargets(t *testing.T) {
	srv := awsemutest.Start(t, world())
	base := awsemutest.ConfigFor(t, srv, mgmtAdmin)
	v := &visits{got: map[string]fleet.Reach{}, n: map[string]int{}}
	run := fleet.VisitTargets(t.Context(), []fleet.Target{
		{Label: "profile admin", Config: base},
		{Label: "role", Config: base, RoleARN: "arn:aws:iam::" + memberID + ":role/" + memberRole},
		{Label: "again", Config: base},
	}, fleet.TargetOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, v.visitor())
	if len(run.Accounts) != 2 || v.n[mgmtID] != 1 || v.n[memberID] != 1 {
		t.Fatalf("visits %v, accounts %d", v.n, len(run.Accounts))
	}
	if a := run.Accounts[0]; a.AccountID != mgmtID || a.Value == nil || a.Value.method != snapshot.AccessDirect || !strings.Contains(a.Access.Note, "also listed as again") {
		t.Errorf("the profile's account %+v", a)
	}
	if r := v.got[mgmtID]; r.CallerARN != "arn:aws:iam::"+mgmtID+":user/admin" || r.Access.Method != snapshot.AccessDirect || r.Partition != "aws" {
		t.Errorf("profile reach %+v", r)
	}
	if r := v.got[memberID]; r.Access.Method != snapshot.AccessAssumeRole || r.Unreachable != nil || r.Config.Credentials == nil {
		t.Errorf("role reach %+v", r)
	}
}

// TestRoleSession: a role session from the exported helper, and a denial
// as a gap naming the call.
func TestRoleSession(t *testing.T) {
	srv := awsemutest.Start(t, world())
	base := awsemutest.ConfigFor(t, srv, mgmtAdmin)
	cfg, g := fleet.RoleSession(t.Context(), base, fleet.Role{Name: memberRole}, "arn:aws:iam::"+memberID+":role/"+memberRole)
	if g != nil {
		t.Fatal(g)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != memberID {
		t.Fatalf("%v %v", out, err)
	}
	_, g = fleet.RoleSession(t.Context(), base, fleet.Role{Name: "Missing"}, "arn:aws:iam::"+memberID+":role/Missing")
	if g == nil || g.Call != "sts:AssumeRole" || g.Code != "AccessDenied" {
		t.Errorf("gap %+v", g)
	}
}
