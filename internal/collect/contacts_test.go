package collect_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// A contact never set is read as "not registered"; a denied type is a gap
// of that type alone, never "not registered".
func TestAlternateContacts(t *testing.T) {
	w := treeWorld()
	w.Accounts[2].AlternateContacts = map[string]awsemu.AlternateContact{
		"SECURITY": {Name: "SOC", Title: "Security operations", EmailAddress: "soc@example.com", PhoneNumber: "+1 555 0100"},
	}
	srv := awsemutest.Start(t, w)
	c := account.NewFromConfig(awsemutest.ConfigFor(t, srv, memberKey))
	srv.SetFaults(awsemu.Fault{Service: "account", Action: "GetAlternateContact", Code: "AccessDeniedException", Skip: 2})
	got, gaps := collect.AlternateContacts(t.Context(), c)
	// Which of the three concurrent calls was third is not fixed: exactly
	// one type is a gap, and the others are read as they are.
	if len(gaps) != 1 || gaps[0].Call != "account:GetAlternateContact" || gaps[0].Code != "AccessDeniedException" {
		t.Fatalf("gaps = %+v, want one AccessDeniedException", gaps)
	}
	denied := gaps[0].Section[len(snapshot.SectionAlternateContact):]
	want := map[string]*snapshot.AlternateContact{
		"SECURITY":   {Registered: true, Name: "SOC", Title: "Security operations", EmailAddress: "soc@example.com", PhoneNumber: "+1 555 0100"},
		"BILLING":    {},
		"OPERATIONS": {},
	}
	want[denied] = nil
	for _, typ := range snapshot.ContactTypes {
		if diff := cmp.Diff(want[typ], got.Of(typ)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", typ, diff)
		}
	}
}

func TestIdentityProviders(t *testing.T) {
	w := treeWorld()
	w.Accounts[2].SAMLProviders = []awsemu.SAMLProvider{{Name: "AWSSSO_0123_DO_NOT_DELETE"}}
	srv := awsemutest.Start(t, w)
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, memberKey))
	got, gaps := collect.IdentityProviders(t.Context(), c)
	want := &snapshot.IdentityProviders{SAMLRead: true, OIDCRead: true,
		SAML: []snapshot.IdentityProvider{{ARN: "arn:aws:iam::" + prodID + ":saml-provider/AWSSSO_0123_DO_NOT_DELETE"}}}
	if diff := cmp.Diff(want, got); diff != "" || len(gaps) != 0 {
		t.Errorf("providers (-want +got):\n%s\ngaps %+v", diff, gaps)
	}
	srv.SetFaults(awsemu.Fault{Service: "iam", Action: "ListOpenIDConnectProviders", Code: "AccessDenied"})
	got, gaps = collect.IdentityProviders(t.Context(), c)
	if got.OIDCRead || !got.SAMLRead || len(gaps) != 1 || gaps[0].Section != snapshot.SectionOIDCProviders || gaps[0].Code != "AccessDenied" {
		t.Errorf("denied OIDC list: %+v, gaps %+v", got, gaps)
	}
}
