package prevent_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/prevent"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func known() *prevent.Options {
	return &prevent.Options{OrganizationID: "o-aa111bb222", RootID: "r-ab12", ManagementAccountID: "111122223333"}
}

// unknownGov is a run without credentials, in GovCloud, with OUs named.
func unknownGov() *prevent.Options {
	return &prevent.Options{Partition: "aws-us-gov", Targets: []string{"ou-ab12-11111111", "ou-ab12-22222222"}, AlertEmail: "security@example.com"}
}

// standalone is one account in no organisation, seen with its credentials.
func standalone() *prevent.Options {
	return &prevent.Options{Standalone: true, AccountID: "777788889999", Regions: []string{"us-east-1", "eu-west-1"}}
}

func generate(t *testing.T, o *prevent.Options) map[string]prevent.Artefact {
	t.Helper()
	arts, err := prevent.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]prevent.Artefact{}
	for _, a := range arts {
		out[a.Name] = a
	}
	return out
}

func TestGolden(t *testing.T) {
	for name, o := range map[string]func() *prevent.Options{"known-org": known, "unknown-govcloud": unknownGov, "standalone": standalone} {
		t.Run(name, func(t *testing.T) {
			arts := generate(t, o())
			dir := filepath.Join("testdata", "golden", name)
			if *update {
				os.RemoveAll(dir)
				os.MkdirAll(dir, 0o755)
			}
			for file, a := range arts {
				path := filepath.Join(dir, file)
				if *update {
					if err := os.WriteFile(path, []byte(a.Content), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/prevent -update)", err)
				}
				if string(want) != a.Content {
					t.Errorf("%s differs from %s (review, then run with -update)", file, path)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(arts) {
				t.Errorf("%d golden files, %d artefacts", len(entries), len(arts))
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, b := generate(t, known()), generate(t, known())
	for name := range a {
		if a[name].Content != b[name].Content {
			t.Errorf("%s differs between runs", name)
		}
	}
}

func TestSCPs(t *testing.T) {
	for _, partition := range []string{"aws", "aws-us-gov", "aws-cn"} {
		for _, p := range prevent.SCPs(partition) {
			min, err := iampolicy.Minify(p.Doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := iampolicy.Validate(min, iampolicy.Options{Kind: iampolicy.SCP}); err != nil {
				t.Errorf("%s %s: %v", partition, p.Name, err)
			}
			if len(min) > iampolicy.SCPMaxSize {
				t.Errorf("%s: %d characters", p.Name, len(min))
			}
			if !bytes.Contains(min, []byte(`"arn:`+partition+`:iam::*:root"`)) {
				t.Errorf("%s in %s does not use the partition's root ARN: %s", p.Name, partition, min)
			}
		}
	}
	// What the policies deny, evaluated.
	acct := "444455556666"
	root := "arn:aws:iam::" + acct + ":root"
	req := func(action, resource, principal string, assumedRoot bool) iampolicy.Request {
		r := iampolicy.Request{Action: action, Resource: resource, Context: map[string][]string{"aws:PrincipalArn": {principal}}}
		if assumedRoot {
			r.Context["aws:AssumedRoot"] = []string{"true"}
		} else {
			r.Absent = []string{"aws:AssumedRoot"}
		}
		return r
	}
	all, keys := prevent.SCPs("aws")[0].Doc, prevent.SCPs("aws")[1].Doc
	for _, c := range []struct {
		name string
		doc  *iampolicy.Document
		r    iampolicy.Request
		want iampolicy.Verdict
	}{
		{"root creating a key", all, req("iam:CreateAccessKey", root, root, false), iampolicy.Match},
		{"root launching an instance", all, req("ec2:RunInstances", "arn:aws:ec2:us-east-1:444455556666:instance/*", root, false), iampolicy.Match},
		{"AssumeRoot deleting a key", all, req("iam:DeleteAccessKey", root, root, true), iampolicy.NoMatch},
		{"an IAM user named root", all, req("iam:CreateAccessKey", "arn:aws:iam::444455556666:user/root", "arn:aws:iam::444455556666:user/root", false), iampolicy.NoMatch},
		{"keys: root creating a key", keys, req("iam:CreateAccessKey", root, root, false), iampolicy.Match},
		{"keys: root doing anything else", keys, req("iam:DeleteAccessKey", root, root, false), iampolicy.NoMatch},
		{"keys: a role creating a user's key", keys, req("iam:CreateAccessKey", "arn:aws:iam::444455556666:user/bob", "arn:aws:iam::444455556666:role/admin", false), iampolicy.NoMatch},
	} {
		if got, _ := c.doc.Denies(c.r); got.Verdict != c.want {
			t.Errorf("%s: %s, want %s", c.name, got.Verdict, c.want)
		}
	}
}

// TestSCPsSatisfyTheCoverageRule closes the loop: the SCPs vigil prevent
// generates, attached to the root, make org-root-scp-coverage pass with
// nothing to warn about.
func TestSCPsSatisfyTheCoverageRule(t *testing.T) {
	var policies []snapshot.OrgPolicy
	policies = append(policies, snapshot.OrgPolicy{ID: "p-FullAWSAccess", Name: "FullAWSAccess", AWSManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		Targets: []string{"r-ab12", "111122223333", "444455556666"}})
	for i, p := range prevent.SCPs("aws") {
		b, _ := iampolicy.Minify(p.Doc)
		policies = append(policies, snapshot.OrgPolicy{ID: "p-vigil000" + string(rune('1'+i)), Name: p.Name, Content: string(b), Targets: []string{"r-ab12"}})
	}
	doc := &snapshot.Document{
		Organization: &snapshot.Organization{ID: "o-aa111bb222", ManagementAccountID: "111122223333", Controls: &snapshot.OrgControls{
			Root:     &snapshot.OrgRoot{ID: "r-ab12", PolicyTypes: []string{"SERVICE_CONTROL_POLICY"}},
			OUs:      []snapshot.OrgUnit{},
			Accounts: []snapshot.OrgAccount{{ID: "111122223333", ParentID: "r-ab12", State: "ACTIVE"}, {ID: "444455556666", ParentID: "r-ab12", State: "ACTIVE", JoinedMethod: "CREATED"}},
			SCPs:     policies,
		}},
		Accounts: []snapshot.Account{{ID: "111122223333", Partition: "aws"}},
	}
	res := rule.Evaluate([]rule.Rule{rules.OrgRootSCPCoverage}, doc, doc.CollectedAt, rule.DefaultOptions())
	if len(res) != 1 || res[0].Status != rule.Pass {
		t.Fatalf("%+v", res)
	}
	if strings.Contains(res[0].Message, "AssumeRoot sessions (it has no") || strings.Contains(res[0].Message, "only root access key creation") {
		t.Errorf("the generated SCPs drew a warning: %s", res[0].Message)
	}
}

// TestEmbeddedPoliciesMatch: the SCP text inside the Terraform and the
// CloudFormation is the SCP file's, and every document is one pattern.
func TestEmbeddedPoliciesMatch(t *testing.T) {
	arts := generate(t, known())
	canon := func(s string) string {
		c, err := iampolicy.Canonical([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	want := map[string]string{
		prevent.DenyRootActionsName:    canon(arts["scp-deny-root-actions.json"].Content),
		prevent.DenyRootAccessKeysName: canon(arts["scp-deny-root-access-keys.json"].Content),
	}

	// Terraform: evaluate each policy's content.
	file, diags := hclsyntax.ParseConfig([]byte(arts[prevent.TerraformName].Content), "tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ctx := &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}
	seen := 0
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || b.Labels[0] != "aws_organizations_policy" {
			continue
		}
		name, _ := b.Body.Attributes["name"].Expr.Value(ctx)
		content, d := b.Body.Attributes["content"].Expr.Value(ctx)
		if d.HasErrors() {
			t.Fatal(d)
		}
		if canon(content.AsString()) != want[name.AsString()] {
			t.Errorf("Terraform %s differs from the SCP file", name.AsString())
		}
		seen++
	}
	// CloudFormation: the Content objects.
	var tmpl struct {
		Resources map[string]struct {
			Properties struct {
				Name    string `yaml:"Name"`
				Content any    `yaml:"Content"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(arts[prevent.CFNSCPName].Content), &tmpl); err != nil {
		t.Fatal(err)
	}
	for _, r := range tmpl.Resources {
		b, _ := json.Marshal(r.Properties.Content)
		if canon(string(b)) != want[r.Properties.Name] {
			t.Errorf("CloudFormation %s differs from the SCP file", r.Properties.Name)
		}
		seen++
	}
	if seen != 4 {
		t.Errorf("compared %d policies, want 4", seen)
	}
}

func TestPlaceholdersWhenUnknown(t *testing.T) {
	arts := generate(t, &prevent.Options{})
	tf := arts[prevent.TerraformName].Content
	for _, v := range []string{"organization_id", "scp_target_ids", "monitored_ou_ids"} {
		block := tf[strings.Index(tf, `variable "`+v+`"`):]
		block = block[:strings.Index(block, "\n}\n")]
		if strings.Contains(block, "default") {
			t.Errorf("variable %s has a default although nothing was known:\n%s", v, block)
		}
	}
	cfn := arts[prevent.CFNCentralName].Content
	var tmpl struct {
		Parameters map[string]map[string]any `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal([]byte(strings.SplitN(cfn, "\n", 2)[1]), &tmpl); err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Parameters) != 4 {
		t.Fatalf("parameters %v", tmpl.Parameters)
	}
	if _, ok := tmpl.Parameters["OrganizationId"]["Default"]; ok {
		t.Error("OrganizationId has a default although it was not known")
	}
	if d, ok := tmpl.Parameters["AlertEmail"]["Default"]; !ok || d != "" {
		t.Error("AlertEmail must stay optional")
	}
	readme := arts[prevent.ReadmeName].Content
	for _, want := range []string{"not known", "-var organization_id=o-xxxxxxxxxx", "MonitoredOrganizationalUnitIds=r-xxxx"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

func TestOptions(t *testing.T) {
	cases := []struct {
		name string
		o    prevent.Options
		want string
	}{
		{"bad partition", prevent.Options{Partition: "aws-mars"}, `--partition "aws-mars"`},
		{"bad target", prevent.Options{Targets: []string{"prod"}}, `--target "prod"`},
		{"management account", prevent.Options{ManagementAccountID: "111122223333", Targets: []string{"111122223333"}}, "SCPs never apply to it"},
		{"other root", prevent.Options{RootID: "r-ab12", Targets: []string{"r-zz99"}}, "the organisation's root is r-ab12"},
		{"no global region", prevent.Options{Regions: []string{"eu-west-1"}}, "--regions must include us-east-1"},
		{"bad region", prevent.Options{Regions: []string{"us-east-1", "Europe"}}, `"Europe" is not a region`},
		{"region of another partition", prevent.Options{Regions: []string{"us-east-1", "us-gov-west-1"}}, "us-gov-west-1 is in partition aws-us-gov"},
		{"home outside regions", prevent.Options{HomeRegion: "eu-west-1", Regions: []string{"us-east-1"}}, "--home-region eu-west-1"},
		{"bad email", prevent.Options{AlertEmail: "nobody"}, "--alert-email"},
		{"gov needs its own global region", prevent.Options{Partition: "aws-us-gov", Regions: []string{"us-gov-east-1"}}, "must include us-gov-west-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Normalize()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	o := prevent.Options{RootID: "r-ab12", Regions: []string{"us-east-1", "eu-west-1", "us-east-1", "af-south-1"}, Targets: []string{"ou-ab12-11111111", "ou-ab12-11111111"}}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	if len(o.Regions) != 3 || len(o.Targets) != 1 || o.HomeRegion != "us-east-1" || o.Partition != "aws" {
		t.Errorf("normalised %+v", o)
	}
	o = prevent.Options{RootID: "r-ab12"}
	o.Normalize()
	if len(o.Targets) != 1 || o.Targets[0] != "r-ab12" || len(o.Regions) != 17 {
		t.Errorf("defaults %+v", o)
	}
	arts := generate(t, &prevent.Options{Regions: []string{"us-east-1", "af-south-1"}})
	if !strings.Contains(arts[prevent.ReadmeName].Content, "This set includes opt-in regions (`af-south-1`)") {
		t.Error("README does not call out the opt-in region")
	}
}
