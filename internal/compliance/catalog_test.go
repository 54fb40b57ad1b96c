package compliance_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rules"
)

func ruleIDs() []string {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	return ids
}

func catalog(t *testing.T) *compliance.Catalog {
	t.Helper()
	c, err := compliance.Default(ruleIDs())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogInvariants states what Load already enforces, against the
// embedded catalog, so that a broken data file fails here with its name.
func TestCatalogInvariants(t *testing.T) {
	c := catalog(t)
	for _, want := range []string{"cis-aws", "aws-fsbp", "pci-dss", "hipaa", "iso-27001", "soc2", "nist-800-53", "nist-800-171", "nist-csf",
		"fedramp-low", "fedramp-moderate", "gdpr", "aws-well-architected", "hitrust-csf"} {
		if _, ok := c.Framework(want); !ok {
			t.Errorf("framework %s missing", want)
		}
	}
	for _, f := range c.Frameworks {
		if len(f.Versions) == 0 {
			t.Errorf("%s has no versions", f.ID)
		}
		for _, v := range f.Versions {
			if len(v.Controls) == 0 {
				t.Errorf("%s has no controls", v.Spec())
			}
			seen := map[string]bool{}
			for _, ctl := range v.Controls {
				if seen[ctl.ID] {
					t.Errorf("%s lists %s twice", v.Spec(), ctl.ID)
				}
				seen[ctl.ID] = true
			}
			if len(c.VersionMappings(v)) == 0 {
				t.Errorf("%s: no rule maps to any of its controls", v.Spec())
			}
		}
	}
	for _, r := range rules.All() {
		if len(c.RuleMappings(r.ID)) == 0 {
			t.Errorf("rule %s maps to no control", r.ID)
		}
	}
	for _, m := range c.Mappings {
		v, err := c.Resolve(m.Framework + ":" + m.Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.Control(m.Control); !ok {
			t.Errorf("%+v: control missing", m)
		}
	}
}

// TestCatalogFacts pins the mappings that published sources agree on, so a
// careless edit of the data cannot move them.
func TestCatalogFacts(t *testing.T) {
	c := catalog(t)
	want := map[string][]string{
		"root-access-key": {"cis-aws:1.2.0 1.12", "cis-aws:1.4.0 1.4", "cis-aws:3.0.0 1.4", "cis-aws:5.0.0 1.3", "cis-aws:6.0.0 2.3", "cis-aws:7.0.0 2.4",
			"aws-fsbp:1.0.0 IAM.4", "pci-dss:3.2.1 2.1", "pci-dss:3.2.1 2.2", "pci-dss:3.2.1 7.2.1", "nist-800-53:rev5 AC-6(10)", "iso-27001:2022 A.5.15", "gdpr:2016/679 Art. 25",
			"nist-800-171:r2 3.1.1", "nist-800-171:r2 3.1.5", "nist-800-171:r2 3.1.7", "nist-800-171:r2 3.4.6"},
		"root-mfa":                        {"cis-aws:1.2.0 1.13", "cis-aws:1.4.0 1.5", "cis-aws:3.0.0 1.5", "cis-aws:5.0.0 1.4", "cis-aws:7.0.0 2.5", "pci-dss:3.2.1 8.3.1", "pci-dss:4.0 8.4.2", "nist-800-53:rev5 IA-2(1)"},
		"root-hardware-mfa":               {"cis-aws:1.2.0 1.14", "cis-aws:1.4.0 1.6", "cis-aws:3.0.0 1.6", "cis-aws:5.0.0 1.5", "cis-aws:7.0.0 2.6", "aws-fsbp:1.0.0 IAM.6"},
		"org-root-credentials-management": {"cis-aws:7.0.0 2.1.1"},
		"org-root-scp-coverage":           {"cis-aws:7.0.0 2.1.2"},
	}
	have := map[string]map[string]bool{}
	for _, m := range c.Mappings {
		if have[m.Rule] == nil {
			have[m.Rule] = map[string]bool{}
		}
		have[m.Rule][m.Framework+":"+m.Version+" "+m.Control] = true
	}
	for r, list := range want {
		for _, w := range list {
			if !have[r][w] {
				t.Errorf("%s should map to %s", r, w)
			}
		}
	}
	// Manual items of the CIS root section are in scope but automated by
	// no rule: at most a rule shows what Vigil read for them.
	v, _ := c.Resolve("cis-aws:5.0.0")
	for _, id := range []string{"1.1", "1.2", "1.20", "4.3"} {
		if _, ok := v.Control(id); !ok {
			t.Errorf("cis-aws 5.0.0 lacks manual control %s", id)
		}
		for _, m := range c.ControlMappings(v, id) {
			if m.Coverage != compliance.Evidence {
				t.Errorf("cis-aws 5.0.0 %s should be manual: %s maps to it with coverage %s", id, m.Rule, m.Coverage)
			}
		}
	}
	// The whole IAM section is listed in each version, so coverage of it
	// shows; an item no rule decides says what to check by hand.
	for spec, n := range map[string]int{"cis-aws:3.0.0": 22, "cis-aws:5.0.0": 21, "cis-aws:6.0.0": 21, "cis-aws:7.0.0": 20} {
		v, err := c.Resolve(spec)
		if err != nil {
			t.Fatal(err)
		}
		iam := 0
		for _, ctl := range v.Controls {
			if !strings.Contains(ctl.Section, "Identity and Access Management") {
				continue
			}
			iam++
			if len(c.ControlMappings(v, ctl.ID)) == 0 && ctl.Manual == "" {
				t.Errorf("%s %s: no rule decides it and the catalog does not say what to check by hand", spec, ctl.ID)
			}
		}
		if iam != n {
			t.Errorf("%s lists %d IAM items, want %d", spec, iam, n)
		}
	}
	if v, _ := c.Resolve("hitrust-csf"); len(c.VersionMappings(v)) == 0 {
		t.Error("HITRUST has no mappings")
	}
	for _, m := range c.Mappings {
		if m.Framework == "hitrust-csf" && (len(m.Sources) != 1 || m.Sources[0].ID != "vigil" || m.Rationale == "") {
			t.Errorf("HITRUST mapping %+v must be Vigil's own, with a rationale", m)
		}
	}
}

func TestResolve(t *testing.T) {
	c := catalog(t)
	for spec, want := range map[string]string{
		"cis-aws":          "cis-aws:7.0.0",
		"CIS-AWS":          "cis-aws:7.0.0",
		"cis-aws:5.0.0":    "cis-aws:5.0.0",
		"cis-aws:v1.2.0":   "cis-aws:1.2.0",
		"pci-dss":          "pci-dss:4.0",
		"pci-dss:4.0.1":    "pci-dss:4.0",
		"pci-dss:3.2.1":    "pci-dss:3.2.1",
		"gdpr:2016/679":    "gdpr:2016/679",
		"nist-csf":         "nist-csf:2.0",
		"fedramp-moderate": "fedramp-moderate:rev5",
	} {
		v, err := c.Resolve(spec)
		if err != nil {
			t.Errorf("%s: %v", spec, err)
			continue
		}
		if v.Spec() != want {
			t.Errorf("%s resolved to %s, want %s", spec, v.Spec(), want)
		}
	}
	_, err := c.Resolve("cis")
	if err == nil || !strings.Contains(err.Error(), "cis-aws (1.2.0, 1.4.0, 3.0.0, 5.0.0, 6.0.0, 7.0.0)") || !strings.Contains(err.Error(), "hitrust-csf (11)") {
		t.Errorf("unknown framework error = %v", err)
	}
	_, err = c.Resolve("cis-aws:2.0.0")
	if err == nil || !strings.Contains(err.Error(), "no version \"2.0.0\"; valid: 1.2.0, 1.4.0") {
		t.Errorf("unknown version error = %v", err)
	}
}

// TestLoadRejects feeds broken catalogs and checks each error names the
// file (and line, for YAML errors) and the mistake.
func TestLoadRejects(t *testing.T) {
	good := map[string]string{
		"catalog/sources.yaml":         "- {id: vigil, name: Vigil, url: https://example.com}\n- {id: prowler, name: Prowler, url: https://example.com}\n",
		"catalog/frameworks/demo.yaml": "id: demo\nname: Demo\npublisher: Me\nurl: https://example.com\nscope: root\nversions:\n  - version: \"1.0\"\n    controls:\n      - {id: \"1.10\", title: Ten}\n      - {id: \"1.2\", title: Two}\n",
		"catalog/mappings/r1.yaml":     "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"1.10\"], sources: [{id: prowler}]}\n",
	}
	with := func(name, content string) fstest.MapFS {
		fs := fstest.MapFS{}
		for k, v := range good {
			fs[k] = &fstest.MapFile{Data: []byte(v)}
		}
		if content == "" {
			delete(fs, name)
		} else {
			fs[name] = &fstest.MapFile{Data: []byte(content)}
		}
		return fs
	}
	c, err := compliance.Load(with("", ""), []string{"r1"})
	if err != nil {
		t.Fatal(err)
	}
	// "1.10" must stay "1.10", not become the number 1.1.
	if v, _ := c.Resolve("demo"); v.Controls[0].ID != "1.10" {
		t.Errorf("control ID read as %q", v.Controls[0].ID)
	}
	for _, tc := range []struct {
		name, file, content string
		rules               []string
		want                string
	}{
		{"unknown field", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", control: [\"1.10\"], sources: [{id: prowler}]}\n", []string{"r1"}, "catalog/mappings/r1.yaml: line 3: field control not found"},
		{"unknown rule", "", "", []string{"other"}, `no rule "r1"`},
		{"unknown control", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"9.9\"], sources: [{id: prowler}]}\n", []string{"r1"}, "no such control"},
		{"unknown version", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"2.0\", controls: [\"1.2\"], sources: [{id: prowler}]}\n", []string{"r1"}, "no such framework version"},
		{"own mapping without rationale", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"1.2\"], sources: [{id: vigil}]}\n", []string{"r1"}, "needs a rationale"},
		{"partial without manual check", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"1.2\"], coverage: partial, sources: [{id: prowler}]}\n", []string{"r1"}, "must say what remains"},
		{"no source", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"1.2\"]}\n", []string{"r1"}, "no source"},
		{"unknown source", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"1.2\"], sources: [{id: blog}]}\n", []string{"r1"}, `unknown source "blog"`},
		{"mapped twice", "catalog/mappings/r1.yaml", "rule: r1\nmappings:\n  - {framework: demo, version: \"1.0\", controls: [\"1.2\", \"1.2\"], sources: [{id: prowler}]}\n", []string{"r1"}, "mapped twice"},
		{"file name mismatch", "catalog/mappings/r1.yaml", "rule: r2\nmappings: []\n", []string{"r1"}, "does not match the file name"},
		{"duplicate control", "catalog/frameworks/demo.yaml", "id: demo\nname: Demo\npublisher: Me\nurl: u\nscope: s\nversions:\n  - version: \"1.0\"\n    controls:\n      - {id: \"1.2\", title: A}\n      - {id: \"1.2\", title: B}\n", []string{"r1"}, "control 1.2 listed twice"},
		{"empty version", "catalog/frameworks/demo.yaml", "id: demo\nname: Demo\npublisher: Me\nurl: u\nscope: s\nversions:\n  - version: \"1.0\"\n    controls: []\n", []string{"r1"}, "version 1.0: no controls"},
		{"no versions", "catalog/frameworks/demo.yaml", "id: demo\nname: Demo\npublisher: Me\nurl: u\nscope: s\nversions: []\n", []string{"r1"}, "demo: no versions"},
		{"syntax error", "catalog/frameworks/demo.yaml", "id: demo\nversions: [\n", []string{"r1"}, "catalog/frameworks/demo.yaml: line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compliance.Load(with(tc.file, tc.content), tc.rules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
