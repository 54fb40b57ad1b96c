package snippets_test

import (
	"context"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

func TestIAMPolicies(t *testing.T) {
	covers(t, "iam_policies_find.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{IAMEstate: true})
	e, err := snippets.ReadIAMEntities(ctx, awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.UsersWithOwnPolicies(); !slices.Equal(got, []string{"deployer"}) {
		t.Errorf("UsersWithOwnPolicies = %v", got)
	}
	if got := e.RolesWithAWSPolicy("AWSSupportAccess"); len(got) != 0 {
		t.Errorf("RolesWithAWSPolicy = %v, want none", got)
	}
	full, err := e.FullAccessPolicies()
	if err != nil {
		t.Fatal(err)
	}
	// AdministratorAccess (held by ops), the all-but-one NotAction policy
	// and the unattached spare; not ReadOnlyAccess.
	want := []string{"arn:aws:iam::aws:policy/AdministratorAccess",
		"arn:aws:iam::" + kbtest.StandaloneID + ":policy/" + kbtest.LegacyAdminPolicy,
		"arn:aws:iam::" + kbtest.StandaloneID + ":policy/" + kbtest.SpareAdminPolicy}
	slices.Sort(full)
	slices.Sort(want)
	if !slices.Equal(full, want) {
		t.Errorf("FullAccessPolicies = %v, want %v", full, want)
	}
	wild, err := e.ServiceWildcardPolicies()
	if err != nil {
		t.Fatal(err)
	}
	// The NotAction policy, the "*" spare and s3:*; AWS-managed ones are not judged.
	wantWild := []string{"arn:aws:iam::" + kbtest.StandaloneID + ":policy/" + kbtest.LegacyAdminPolicy,
		"arn:aws:iam::" + kbtest.StandaloneID + ":policy/" + kbtest.S3FullPolicy,
		"arn:aws:iam::" + kbtest.StandaloneID + ":policy/" + kbtest.SpareAdminPolicy}
	slices.Sort(wild)
	slices.Sort(wantWild)
	if !slices.Equal(wild, wantWild) {
		t.Errorf("ServiceWildcardPolicies = %v, want %v", wild, wantWild)
	}
	for doc, wantFull := range map[string]bool{
		kbtest.AdminDocument:     true,
		kbtest.AllButOneDocument: true,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`:                                   false,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}`:                false,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}}`:                                                           false,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*:*","Resource":["*"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`: true,
	} {
		if got, err := snippets.AllowsEverything(doc); err != nil || got != wantFull {
			t.Errorf("AllowsEverything(%s) = %v, %v; want %v", doc, got, err, wantFull)
		}
	}
}

func TestIAMIdentities(t *testing.T) {
	covers(t, "iam_identities.go")
	srv := start(t, kbtest.Options{IAMEstate: true})
	e, err := snippets.ReadIAMEntities(context.Background(), awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.HoldersOfAWSPolicy("AWSCloudShellFullAccess"); !slices.Equal(got, []string{"role " + kbtest.ShellRole}) {
		t.Errorf("HoldersOfAWSPolicy = %v", got)
	}
	if got := e.HoldersOfAWSPolicy("AdministratorAccess"); !slices.Equal(got, []string{"group ops", "role ci-deploy"}) {
		t.Errorf("HoldersOfAWSPolicy(AdministratorAccess) = %v", got)
	}
}

func TestUntaggedIdentities(t *testing.T) {
	srv := start(t, kbtest.Options{IAMEstate: true})
	e, err := snippets.ReadIAMEntities(context.Background(), awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.UntaggedUsers(); !slices.Equal(got, []string{"auditor", "intern", "root"}) {
		t.Errorf("UntaggedUsers = %v", got)
	}
	if got := e.UntaggedRoles(); !slices.Equal(got, []string{kbtest.ShellRole}) {
		t.Errorf("UntaggedRoles = %v", got)
	}
}
