package snippets_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

func TestServerCertificates(t *testing.T) {
	covers(t, "server_certificates.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	expired, err := snippets.ExpiredServerCertificates(ctx, cfg, now)
	if err != nil || len(expired) != 1 || aws.ToString(expired[0].ServerCertificateName) != kbtest.ExpiredCertificate {
		t.Fatalf("expired = %+v, %v", expired, err)
	}
	if err := snippets.DeleteServerCertificate(ctx, cfg, kbtest.ExpiredCertificate); err != nil {
		t.Fatal(err)
	}
	if expired, err := snippets.ExpiredServerCertificates(ctx, cfg, now); err != nil || len(expired) != 0 {
		t.Fatalf("after delete: %+v, %v", expired, err)
	}
	if a := account(t, srv, kbtest.StandaloneID); len(a.ServerCertificates) != 1 || a.ServerCertificates[0].Name != kbtest.ValidCertificate {
		t.Errorf("certificates left: %+v", a.ServerCertificates)
	}
}

func TestAccessAnalyzerSnippet(t *testing.T) {
	covers(t, "access_analyzer.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	// eu-west-1 has only an unused-access analyzer; af-south-1 is not enabled.
	missing, err := snippets.RegionsWithoutExternalAnalyzer(ctx, cfg)
	if err != nil || fmt.Sprint(missing) != "[eu-west-1]" {
		t.Fatalf("missing = %v, %v", missing, err)
	}
	arn, err := snippets.CreateExternalAnalyzer(ctx, cfg, "eu-west-1", "external")
	if err != nil || arn != "arn:aws:access-analyzer:eu-west-1:"+kbtest.StandaloneID+":analyzer/external" {
		t.Fatalf("create: %s, %v", arn, err)
	}
	if missing, err := snippets.RegionsWithoutExternalAnalyzer(ctx, cfg); err != nil || len(missing) != 0 {
		t.Fatalf("after: %v, %v", missing, err)
	}
}

func TestInstanceRoles(t *testing.T) {
	covers(t, "instance_roles.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	list, err := snippets.InstancesWithoutRole(ctx, cfg)
	if err != nil || fmt.Sprint(list) != "[us-east-1 "+kbtest.InstanceNoRole+"]" {
		t.Fatalf("without role = %v, %v", list, err)
	}
	if err := snippets.AttachInstanceProfile(ctx, cfg, "us-east-1", kbtest.InstanceNoRole, kbtest.InstanceProfile); err != nil {
		t.Fatal(err)
	}
	if list, err := snippets.InstancesWithoutRole(ctx, cfg); err != nil || len(list) != 0 {
		t.Fatalf("after: %v, %v", list, err)
	}
}

func TestSecurityContactSnippet(t *testing.T) {
	covers(t, "alternate_contacts.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	if c, err := snippets.SecurityContact(ctx, cfg); err != nil || c != nil {
		t.Fatalf("before: %+v, %v", c, err)
	}
	if err := snippets.PutSecurityContact(ctx, cfg, "Security team", "Security operations", "security@example.com", "+1 555 0100"); err != nil {
		t.Fatal(err)
	}
	c, err := snippets.SecurityContact(ctx, cfg)
	if err != nil || c == nil || aws.ToString(c.EmailAddress) != "security@example.com" {
		t.Fatalf("after: %+v, %v", c, err)
	}
	if got := account(t, srv, kbtest.StandaloneID).AlternateContacts["SECURITY"]; got.Name != "Security team" || got.PhoneNumber != "+1 555 0100" {
		t.Errorf("stored contact: %+v", got)
	}
}

func TestFederationProvidersSnippet(t *testing.T) {
	covers(t, "identity_providers.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	if saml, oidc, err := snippets.FederationProviders(ctx, cfg); err != nil || len(saml) != 0 || len(oidc) != 0 {
		t.Fatalf("standalone: %v %v %v", saml, oidc, err)
	}
	saml, oidc, err := snippets.FederationProviders(ctx, awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey))
	if err != nil || fmt.Sprint(saml) != "[arn:aws:iam::"+kbtest.ManagementID+":saml-provider/"+kbtest.IdentityCenterSAML+"]" ||
		fmt.Sprint(oidc) != "[arn:aws:iam::"+kbtest.ManagementID+":oidc-provider/"+kbtest.GitHubOIDC+"]" {
		t.Fatalf("with providers: %v %v %v", saml, oidc, err)
	}
}
