package orgscan_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/orgscan"
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
	got map[string]orgscan.Reach
	n   map[string]int
}

func (v *visits) visit(ctx context.Context, r orgscan.Reach) snapshot.Account {
	v.mu.Lock()
	v.got[r.AccountID] = r
	v.n[r.AccountID]++
	v.mu.Unlock()
	acct := snapshot.Account{Access: &snapshot.Access{Method: r.Access.Method, Note: "visited"}}
	if r.Access.Method == snapshot.AccessAssumeRoot {
		// The visitor opens the root session it needs, with its own task
		// policy.
		cfg, g := orgscan.RootSession(ctx, r.Base, r.Partition, r.AccountID, "IAMDeleteRootUserCredentials", 0)
		if g != nil {
			acct.AddGap(*g)
			return acct
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			acct.AddGap(collect.NewGap(snapshot.SectionAccess, "sts:GetCallerIdentity", err))
			return acct
		}
		acct.Caller = &snapshot.Caller{ARN: aws.ToString(out.Arn)}
	}
	return acct
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
			v := &visits{got: map[string]orgscan.Reach{}, n: map[string]int{}}
			doc, err := orgscan.Run(t.Context(), awsemutest.ConfigFor(t, srv, tt.key), orgscan.Options{Mode: orgscan.ModeRoot, Visit: v.visit,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Unix(0, 0) }})
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
			for _, a := range doc.Accounts {
				if a.ID == memberID && (a.Caller == nil || a.Caller.ARN != "arn:aws:iam::"+memberID+":root" || a.Access.Note != "visited") {
					t.Errorf("recorded member %+v", a)
				}
			}
			if len(doc.Organization.Skipped) != 1 || doc.Organization.Skipped[0].AccountID != suspended {
				t.Errorf("skipped %+v", doc.Organization.Skipped)
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
	v := &visits{got: map[string]orgscan.Reach{}, n: map[string]int{}}
	doc := orgscan.RunTargets(t.Context(), []orgscan.Target{
		{Label: "profile admin", Config: base},
		{Label: "role", Config: base, RoleARN: "arn:aws:iam::" + memberID + ":role/" + memberRole},
		{Label: "again", Config: base},
	}, orgscan.TargetOptions{Visit: v.visit, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if len(doc.Accounts) != 2 || v.n[mgmtID] != 1 || v.n[memberID] != 1 {
		t.Fatalf("visits %v, accounts %d", v.n, len(doc.Accounts))
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
	cfg, g := orgscan.RoleSession(t.Context(), base, orgscan.Role{Name: memberRole}, "arn:aws:iam::"+memberID+":role/"+memberRole)
	if g != nil {
		t.Fatal(g)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != memberID {
		t.Fatalf("%v %v", out, err)
	}
	_, g = orgscan.RoleSession(t.Context(), base, orgscan.Role{Name: "Missing"}, "arn:aws:iam::"+memberID+":role/Missing")
	if g == nil || g.Call != "sts:AssumeRole" || g.Code != "AccessDenied" {
		t.Errorf("gap %+v", g)
	}
}
