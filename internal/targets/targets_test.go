package targets

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	f, err := Parse([]byte(`# accounts outside the organisation
defaults:
  source_profile: security-tools
  external_id: shared-ext
targets:
  - profile: prod            # SSO profile
    name: production
  - role_arn: arn:aws:iam::123456789012:role/audit/VigilAudit
    session_name: vigil-weekly
  - role_arn: arn:aws-us-gov:iam::210987654321:role/VigilAudit
    external_id: own-ext
    region: us-gov-west-1
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{
		{Line: 6, Name: "production", Profile: "prod"},
		{Line: 8, RoleARN: "arn:aws:iam::123456789012:role/audit/VigilAudit", SessionName: "vigil-weekly", ExternalID: "shared-ext", SourceProfile: "security-tools"},
		{Line: 10, RoleARN: "arn:aws-us-gov:iam::210987654321:role/VigilAudit", ExternalID: "own-ext", SourceProfile: "security-tools", Region: "us-gov-west-1"},
	}
	if diff := cmp.Diff(want, f.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if f.Targets[1].AccountID() != "123456789012" || f.Targets[0].AccountID() != "" || f.Targets[0].Label() != "production (profile prod)" {
		t.Errorf("AccountID/Label: %q %q %q", f.Targets[1].AccountID(), f.Targets[0].AccountID(), f.Targets[0].Label())
	}
	// JSON is YAML.
	j, err := Parse([]byte(`{"targets": [{"profile": "a"}, {"role_arn": "arn:aws:iam::123456789012:role/R"}]}`), "t.json")
	if err != nil || len(j.Targets) != 2 {
		t.Fatalf("JSON targets: %v %+v", err, j)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"", "t.yaml:1: the file is empty"},
		{"targets: []\n", "t.yaml:1: no targets"},
		{"- profile: a\n", "t.yaml:1: want a mapping with a targets list, not a list"},
		{"targets:\n  - profile: a\ntarget:\n  - profile: b\n", `t.yaml:3: unknown key "target"`},
		{"targets:\n  - profile: a\n  - profile: b\n    role_arn: arn:aws:iam::123456789012:role/R\n", "t.yaml:3: target 2: set profile or role_arn, not both"},
		{"targets:\n  - name: x\n", "t.yaml:2: target 1: set profile or role_arn"},
		{"targets:\n  - role_arn: arn:aws:iam::12345:role/R\n", `t.yaml:2: target 1: role_arn "arn:aws:iam::12345:role/R" is not an IAM role ARN`},
		{"targets:\n  - profile: a\n    profil: b\n", `t.yaml:3: unknown key "profil"`},
		{"targets:\n  - profile: a\n    external_id: x1\n", "t.yaml:2: target 1: external_id, session_name and source_profile belong to role_arn"},
		{"targets:\n  - profile:\n", "t.yaml:2: profile must be a non-empty string"},
		{"targets:\n  - profile: [a, b]\n", "t.yaml:2: profile must be a non-empty string"},
		{"targets:\n  - profile: a\n    profile: b\n", "t.yaml:3: profile is set twice"},
		{"targets:\n  - profile: a\n    region: Europe\n", `t.yaml:2: target 1: region "Europe" is not an AWS region name`},
		{"targets:\n  - profile: a\n   - profile: b\n", "did not find expected"},
		{"targets:\n  - role_arn: arn:aws:iam::123456789012:role/R\n    session_name: \"a b\"\n", `session_name "a b"`},
	} {
		_, err := Parse([]byte(c.doc), "t.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.doc, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", c.doc, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("targets:\n  - profile: a\n  - role_arn: arn:aws:iam::123456789012:role/R\n"))
	f.Add([]byte(`{"targets":[{"profile":"x"}]}`))
	f.Add([]byte("defaults: {region: eu-west-1}\ntargets: [{profile: p}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		for _, tg := range file.Targets {
			if (tg.Profile == "") == (tg.RoleARN == "") {
				t.Errorf("accepted target with neither or both of profile and role_arn: %+v", tg)
			}
		}
	})
}
