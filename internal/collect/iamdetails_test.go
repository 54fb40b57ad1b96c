package collect_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const (
	detailsAcct = "123456789012"
	detailsKey  = "AKIADETAILSADMIN0001"
	// A document with a space, a plus and a percent sign: URL decoding
	// must give back exactly this.
	oddDoc = `{"Version": "2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b%c/*"}]}`
)

func detailsWorld(users int) *awsemu.World {
	a := &awsemu.Account{ID: detailsAcct, Standalone: true,
		Groups:   []awsemu.Group{{Name: "admins", AttachedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}},
		Policies: []awsemu.IAMPolicy{{Name: "odd", Document: oddDoc}},
		Roles: []awsemu.Role{{Name: "support", AttachedPolicies: []string{"arn:aws:iam::aws:policy/AWSSupportAccess"},
			Tags: []awsemu.Tag{{Key: "owner", Value: "ops"}}}},
		Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: detailsKey}}, Groups: []string{"admins"},
			AttachedPolicies: []string{"arn:aws:iam::" + detailsAcct + ":policy/odd"},
			InlinePolicies:   []awsemu.InlinePolicy{{Name: "inline", Document: oddDoc}},
			Tags:             []awsemu.Tag{{Key: "team", Value: "a+b c"}}}},
	}
	for i := range users {
		a.Users = append(a.Users, awsemu.User{Name: fmt.Sprintf("user-%05d", i)})
	}
	return &awsemu.World{Accounts: []*awsemu.Account{a}}
}

func TestIAMDetails(t *testing.T) {
	srv := awsemutest.Start(t, detailsWorld(2500))
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, detailsKey))
	d, g := collect.IAMDetails(t.Context(), c)
	if g != nil {
		t.Fatalf("gap: %+v", g)
	}
	// 2,501 users, 1 group, 1 role, 1 local policy and the 2 attached
	// AWS-managed ones (ReadOnlyAccess is attached nowhere, so IAM does
	// not list it), listed side by side in pages of 1,000: 3 pages of
	// users, 1 of roles, 1 of the rest.
	if d.Pages != 5 || srv.CallCount("iam", "GetAccountAuthorizationDetails") != 5 {
		t.Errorf("pages = %d, calls = %d, want 5", d.Pages, srv.CallCount("iam", "GetAccountAuthorizationDetails"))
	}
	if len(d.Users) != 2501 || len(d.Groups) != 1 || len(d.Roles) != 1 || len(d.Policies) != 3 {
		t.Fatalf("users %d groups %d roles %d policies %d", len(d.Users), len(d.Groups), len(d.Roles), len(d.Policies))
	}
	admin := d.Users[0]
	if admin.Name != "admin" || len(admin.Groups) != 1 || admin.Groups[0] != "admins" || len(admin.Attached) != 1 || len(admin.Inline) != 1 {
		t.Fatalf("admin = %+v", admin)
	}
	if !d.TagsRead || len(admin.Tags) != 1 || admin.Tags[0] != (snapshot.Tag{Key: "team", Value: "a+b c"}) ||
		len(d.Roles[0].Tags) != 1 || d.Roles[0].Tags[0].Key != "owner" || len(d.Users[1].Tags) != 0 {
		t.Errorf("tags: read %v, admin %v, role %v, user-00000 %v", d.TagsRead, admin.Tags, d.Roles[0].Tags, d.Users[1].Tags)
	}
	// Each chain asked for its own kinds of entity.
	filters := map[string]int{}
	for _, c := range srv.Calls() {
		if c.Action == "GetAccountAuthorizationDetails" {
			filters[c.Params["Filter.member.1"]+","+c.Params["Filter.member.2"]+","+c.Params["Filter.member.3"]]++
		}
	}
	if filters["User,,"] != 3 || filters["Role,,"] != 1 || filters["Group,LocalManagedPolicy,AWSManagedPolicy"] != 1 {
		t.Errorf("calls per filter: %v", filters)
	}
	if admin.Inline[0].Document != oddDoc {
		t.Errorf("inline document = %q, want %q", admin.Inline[0].Document, oddDoc)
	}
	byName := map[string]snapshot.ManagedPolicy{}
	for _, p := range d.Policies {
		byName[p.Name] = p
	}
	if p := byName["odd"]; p.Document != oddDoc || p.AWSManaged || p.AttachmentCount != 1 || p.DefaultVersion != "v1" {
		t.Errorf("odd = %+v", p)
	}
	if p := byName["AdministratorAccess"]; !p.AWSManaged || p.AttachmentCount != 1 || p.Document == "" {
		t.Errorf("AdministratorAccess = %+v", p)
	}
	if _, ok := byName["ReadOnlyAccess"]; ok {
		t.Error("an AWS-managed policy attached nowhere is listed")
	}
}

func TestIAMDetailsDenied(t *testing.T) {
	srv := awsemutest.Start(t, detailsWorld(1500), awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "GetAccountAuthorizationDetails", Code: "AccessDenied", Skip: 1}))
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, detailsKey))
	d, g := collect.IAMDetails(t.Context(), c)
	// Denied on the second page: a partial list would hide users.
	if d != nil || g == nil || g.Code != "AccessDenied" || g.Section != snapshot.SectionIAM {
		t.Fatalf("details = %v, gap = %+v; want nil and an AccessDenied gap", d, g)
	}
}

func TestPasswordPolicy(t *testing.T) {
	w := detailsWorld(0)
	srv := awsemutest.Start(t, w)
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, detailsKey))
	pp, g := collect.PasswordPolicy(t.Context(), c)
	if g != nil || pp == nil || pp.Present {
		t.Fatalf("no policy: got %+v, gap %+v; want Present=false and no gap", pp, g)
	}

	w.Accounts[0].PasswordPolicy = &awsemu.PasswordPolicy{MinimumPasswordLength: 14, PasswordReusePrevention: 24, RequireSymbols: true}
	srv = awsemutest.Start(t, w)
	c = iam.NewFromConfig(awsemutest.ConfigFor(t, srv, detailsKey))
	pp, g = collect.PasswordPolicy(t.Context(), c)
	if g != nil || pp == nil || !pp.Present || pp.MinimumPasswordLength != 14 || pp.PasswordReusePrevention != 24 || !pp.RequireSymbols {
		t.Fatalf("policy: got %+v, gap %+v", pp, g)
	}

	srv = awsemutest.Start(t, w, awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "GetAccountPasswordPolicy", Code: "AccessDenied"}))
	c = iam.NewFromConfig(awsemutest.ConfigFor(t, srv, detailsKey))
	pp, g = collect.PasswordPolicy(t.Context(), c)
	if pp != nil || g == nil || g.Code != "AccessDenied" {
		t.Fatalf("denied: got %+v, gap %+v; want a gap", pp, g)
	}
}
