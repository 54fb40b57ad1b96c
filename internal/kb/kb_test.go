package kb_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

var update = flag.Bool("update", false, "rewrite the Go blocks of the pages from internal/kb/snippets")

func catalog(t testing.TB) *compliance.Catalog {
	t.Helper()
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	c, err := compliance.Default(ids)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pages(t testing.TB) []*kb.Page {
	t.Helper()
	ps, err := kb.Load(rules.All(), catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestEveryRuleHasACompletePage: Load enforces the outline and non-empty
// sections; this states the result for each rule.
func TestEveryRuleHasACompletePage(t *testing.T) {
	ps := pages(t)
	if len(ps) != len(rules.All()) {
		t.Fatalf("%d pages for %d rules", len(ps), len(rules.All()))
	}
	for _, r := range rules.All() {
		p, ok := kb.Find(ps, r.ID)
		if !ok {
			t.Errorf("rule %s has no page", r.ID)
			continue
		}
		for _, want := range []string{"# " + r.Title + "\n", "**Risk level: ", "## Compliance\n", "## Cause\n", "## Remediation\n",
			"### Standalone or management account\n", "### Organizations member accounts\n", "## Prevention\n",
			"### Service control policy\n", "### Alert on root activity\n", "## Common wrong advice\n", "## References\n"} {
			if !strings.Contains(p.Markdown, want) {
				t.Errorf("%s: page lacks %q", r.ID, want)
			}
		}
		var sh, python, goBlocks int
		for _, b := range p.Blocks {
			switch b.Lang {
			case "sh":
				sh++
			case "python":
				python++
			case "go":
				goBlocks++
			}
		}
		if sh == 0 || python == 0 || goBlocks == 0 {
			t.Errorf("%s: %d AWS CLI blocks, %d Python blocks and %d Go blocks", r.ID, sh, python, goBlocks)
		}
	}
	key, _ := kb.Find(ps, "root-access-key")
	for _, want := range []string{"### Before you delete", "get-access-key-last-used", "cloudtrail lookup-events", "update-access-key", "delete-access-key"} {
		if !strings.Contains(key.Markdown, want) {
			t.Errorf("root-access-key page lacks %q", want)
		}
	}
	scp, _ := kb.Find(ps, "org-root-scp-coverage")
	for _, want := range []string{"enable-policy-type", "create-policy --type SERVICE_CONTROL_POLICY", "attach-policy", "detach-policy",
		"list-policies-for-target", "list-targets-for-policy", "vigil prevent --plan", `"Null": { "aws:AssumedRoot": "true" }`,
		"AWS-GR_RESTRICT_ROOT_USER", "AWS-GR_RESTRICT_ROOT_USER_ACCESS_KEYS", "ExemptAssumeRoot", "5,120", "IAM is not one of them"} {
		if !strings.Contains(scp.Markdown, want) {
			t.Errorf("org-root-scp-coverage page lacks %q", want)
		}
	}
	for _, p := range ps {
		// The compliance section comes from the catalog: every mapping shows.
		for _, m := range catalog(t).RuleMappings(p.Rule.ID) {
			if !regexp.MustCompile(`(?m)^- Version ` + regexp.QuoteMeta(m.Version) + `: .*\*\*` + regexp.QuoteMeta(m.Control) + `\*\* `).MatchString(p.Markdown) {
				t.Errorf("%s: compliance section lacks %s %s %s", p.Rule.ID, m.Framework, m.Version, m.Control)
			}
		}
	}
}

// TestCommandsAreRight checks the page commands for the mistakes peers
// publish: a --user-name on root's credentials, AssumeRoot without a
// Region or with the wrong parameter name, a task policy ARN outside the
// root-task path.
func TestCommandsAreRight(t *testing.T) {
	for _, p := range pages(t) {
		for _, b := range p.Blocks {
			if b.Lang == "python" {
				// AssumeRoot needs a Regional STS endpoint, the task policy
				// from the root-task path and the partition of the caller;
				// root is never an IAM user name; every listing pages.
				if strings.Contains(b.Code, "assume_root(") && (!strings.Contains(b.Code, `client("sts", region_name=`) ||
					!strings.Contains(b.Code, `:iam::aws:policy/root-task/`) || !strings.Contains(b.Code, `arn:{partition}:`)) {
					t.Errorf("%s: assume_root without a Regional client or the caller's partition", b.ID)
				}
				// ListOrganizationsFeatures and the identity provider lists
				// are the lists that do not page.
				unpaged := strings.NewReplacer(".list_organizations_features(", "", ".list_saml_providers(", "", ".list_open_id_connect_providers(", "")
				if regexp.MustCompile(`\.list_[a-z_]+\(`).MatchString(unpaged.Replace(b.Code)) {
					t.Errorf("%s: calls a list operation without its paginator", b.ID)
				}
				if strings.Contains(b.Code, "UserName=") && !strings.HasPrefix(p.Rule.ID, "iam-") {
					t.Errorf("%s: passes a UserName", b.ID)
				}
				continue
			}
			if b.Lang != "sh" {
				continue
			}
			// Only the IAM user rules' pages may name a user.
			if strings.Contains(b.Code, "--user-name") && !strings.HasPrefix(p.Rule.ID, "iam-") {
				t.Errorf("%s: passes --user-name", b.ID)
			}
			if strings.Contains(b.Code, "assume-root") {
				if !strings.Contains(b.Code, "--region ") || !strings.Contains(b.Code, "--task-policy-arn arn=arn:aws:iam::aws:policy/root-task/") || strings.Contains(b.Code, "policy-arns") {
					t.Errorf("%s: assume-root without a Region or with a wrong task policy: %s", b.ID, b.Code)
				}
			}
		}
	}
}

// TestGoSnippetsMatch proves every Go block of every page is the text of
// the compiled file in internal/kb/snippets (whose tests run it). With
// -update it rewrites the pages' Go blocks from the files.
func TestGoSnippetsMatch(t *testing.T) {
	used := map[string]bool{}
	for _, p := range pages(t) {
		for _, b := range p.Blocks {
			if b.Lang != "go" {
				continue
			}
			used[b.Snippet] = true
			want := snippet(t, b.Snippet)
			if b.Code != want && !*update {
				t.Errorf("%s: the Go block for %s (line %d) differs from internal/kb/snippets/%s; run go test ./internal/kb -update", p.Rule.ID, b.Snippet, b.Line, b.Snippet)
			}
		}
	}
	if *update {
		rewriteGoBlocks(t)
	}
	entries, err := os.ReadDir("snippets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && n != "doc.go" && !used[n] {
			t.Errorf("snippets/%s is shown in no page", n)
		}
	}
}

// snippet is a snippet file without its package clause: what a page shows.
func snippet(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("snippets", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "package snippets\n")
	if i < 0 {
		t.Fatalf("snippets/%s: no package clause", name)
	}
	return strings.TrimLeft(s[i+len("package snippets\n"):], "\n")
}

var goBlock = regexp.MustCompile("(?s)(```go snippet=([a-z0-9_]+\\.go)\n).*?(```)")

func rewriteGoBlocks(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("pages", "*.md"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out := goBlock.ReplaceAllStringFunc(string(data), func(m string) string {
			sm := goBlock.FindStringSubmatch(m)
			return sm[1] + snippet(t, sm[2]) + sm[3]
		})
		if out != string(data) {
			if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestLoadRejects feeds broken pages; each error must name the file and the
// line, and say what is wrong.
func TestLoadRejects(t *testing.T) {
	r := rule.Rule{ID: "demo-rule", Title: "Demo", Severity: rule.High, Category: "Security", Service: "iam"}
	good := goodPage()
	c := catalog(t)
	for _, tc := range []struct {
		name, page, want string
		rules            []rule.Rule
	}{
		{"good", good, "", []rule.Rule{r}},
		{"no page for a rule", "", "rule demo-rule has no page", []rule.Rule{r}},
		{"page without a rule", good, `pages/demo-rule.md: no rule has the ID "demo-rule"`, nil},
		{"missing section", strings.Replace(good, "## Common wrong advice\n\nNone.\n\n", "", 1), `missing section "Common wrong advice"`, []rule.Rule{r}},
		{"empty section", strings.Replace(good, "Because.", "", 1), `section "How it happens" is empty`, []rule.Rule{r}},
		{"untagged block", strings.Replace(good, "```sh id=find", "```sh", 1), "a sh block needs an id", []rule.Rule{r}},
		{"json without file", strings.Replace(good, "```sh id=find", "```json id=find", 1), "needs an id and the file=", []rule.Rule{r}},
		{"indented code", strings.Replace(good, "Because.", "Because.\n\n    aws iam list-users\n", 1), "indented code block", []rule.Rule{r}},
		{"root user name", strings.Replace(good, "aws iam get-account-summary", "aws iam list-access-keys --user-name root", 1), "passes --user-name", []rule.Rule{r}},
		{"broken link", strings.Replace(good, "Because.", "Because [see](no-such-rule.md).", 1), `link "no-such-rule.md" points to no page`, []rule.Rule{r}},
		{"unknown fragment", strings.Replace(good, "Because.", "Because.\n\n<!-- vigil:include nothing -->", 1), "unknown fragment(s) nothing", []rule.Rule{r}},
		{"extra top section", strings.Replace(good, "## References", "## Notes\n\nMore.\n\n## References", 1), `section "Notes" is not in the outline`, []rule.Rule{r}},
		{"title written in the page", "# Demo\n\n" + good, "must start with \"## Risk\"", []rule.Rule{r}},
		{"no python section", strings.Replace(good, "#### Python (boto3)\n\n```python id=fix-py file=find.py\nimport boto3\n```\n\n", "", 1),
			`missing section Remediation > Standalone or management account > "Python (boto3)"`, []rule.Rule{r}},
		{"AWS CLI without Python", strings.Replace(good, "```python id=fix-py file=find.py\nimport boto3\n```", "None yet.", 1),
			`section "Remediation > Standalone or management account" has AWS CLI commands but no Python`, []rule.Rule{r}},
		{"a script named instead", strings.Replace(good, "```python id=fix-py file=find.py\nimport boto3\n```", "Run `python3 find.py` again.", 1), "", []rule.Rule{r}},
		{"a script of no block named", strings.Replace(good, "```python id=fix-py file=find.py\nimport boto3\n```", "Run `python3 other.py`.", 1),
			"has AWS CLI commands but no Python", []rule.Rule{r}},
		{"python without file", strings.Replace(good, "```python id=find-py file=find.py", "```python id=find-py", 1), "a python block needs an id and the file=NAME.py", []rule.Rule{r}},
		{"python user named root", strings.Replace(good, "import boto3\n```", "boto3.client('iam').list_access_keys(UserName='root')\n```", 1), "passes UserName='root'", []rule.Rule{r}},
		{"python with a key", strings.Replace(good, "import boto3\n```", "boto3.client('iam', aws_secret_access_key='x')\n```", 1), "holds credentials in its code", []rule.Rule{r}},
		{"two scripts of one name", strings.Replace(good, "```python id=fix-py file=find.py\nimport boto3", "```python id=fix-py file=find.py\nimport sys", 1),
			"find.py is the name of two different scripts", []rule.Rule{r}},
		{"python with a key ID", strings.Replace(good, "import boto3\n```", "KEY = 'AKIAIOSFODNN7EXAMPLE'\n```", 1), "holds credentials in its code", []rule.Rule{r}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fstest.MapFS{}
			if tc.page != "" {
				fs["pages/demo-rule.md"] = &fstest.MapFile{Data: []byte(tc.page)}
			}
			_, err := kb.LoadFS(fs, tc.rules, c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("good page rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), "demo-rule"):
				t.Fatalf("error does not name the page: %v", err)
			}
		})
	}
}

func goodPage() string {
	sec := func(title string) string { return "#### " + title + "\n\nText.\n\n" }
	ccg := sec("Console") + "#### AWS CLI\n\n```sh id=find\naws iam get-account-summary\n```\n\n" +
		"#### Python (boto3)\n\n```python id=find-py file=find.py\nimport boto3\n```\n\n" + "#### Go SDK\n\n```go snippet=root_mfa_find.go\n```\n\n"
	return "## Risk\n\nBad.\n\n## Cause\n\n### How it happens\n\nBecause.\n\n### How to find it\n\n" + ccg +
		"## Remediation\n\n### Standalone or management account\n\n" + strings.ReplaceAll(ccg, "id=find", "id=fix") +
		"### Organizations member accounts\n\n" + strings.ReplaceAll(ccg, "id=find", "id=member") +
		"## Prevention\n\n### Centralised root access\n\nOn.\n\n### Service control policy\n\nDeny.\n\n### Alert on root activity\n\nAlert.\n\n### What these cannot cover\n\nLimits.\n\n" +
		"## Common wrong advice\n\nNone.\n\n## References\n\n- [AWS](https://docs.aws.amazon.com/)\n"
}

// TestNoSDKInTheKnowledgeBase keeps the boundary the style guide asks for:
// the knowledge base, the compliance catalog and the site are data and
// rendering, with no AWS SDK in them (only the snippets, which are AWS SDK
// code by design, and the tests use it).
func TestNoSDKInTheKnowledgeBase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/vigil-sec/vigil/internal/kb", "github.com/vigil-sec/vigil/internal/compliance",
		"github.com/vigil-sec/vigil/internal/site").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/aws/") {
			t.Errorf("the knowledge base depends on %s", dep)
		}
	}
}

func TestSection(t *testing.T) {
	p, ok := kb.Find(pages(t), "root-access-key")
	if !ok {
		t.Fatal("no root-access-key page")
	}
	cli, err := p.Section("Remediation", "Standalone or management account", "AWS CLI")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#### Remediation › Standalone or management account › AWS CLI", "aws iam update-access-key --access-key-id <ACCESS_KEY_ID> --status Inactive",
		"aws iam delete-access-key --access-key-id <ACCESS_KEY_ID>", "```sh\n"} {
		if !strings.Contains(cli, want) {
			t.Errorf("section lacks %q:\n%s", want, cli)
		}
	}
	for _, not := range []string{"id=", "#### Go SDK", "### Organizations member accounts", "#### Console"} {
		if strings.Contains(cli, not) {
			t.Errorf("section holds %q:\n%s", not, cli)
		}
	}
	// A whole H3 keeps its sub-sections; the same title under another H3
	// is another section.
	member, err := p.Section("Remediation", "Organizations member accounts")
	if err != nil || !strings.Contains(member, "#### Console") || !strings.Contains(member, "aws sts assume-root") || strings.Contains(member, "## Prevention") {
		t.Errorf("member section (%v):\n%s", err, member)
	}
	memberCLI, _ := p.Section("Remediation", "Organizations member accounts", "AWS CLI")
	if !strings.Contains(memberCLI, "aws iam list-access-keys --query 'AccessKeyMetadata[].[AccessKeyId,Status,CreateDate]'") || strings.Contains(memberCLI, "id=") ||
		strings.Contains(memberCLI, "update-access-key --access-key-id <ACCESS_KEY_ID> --status Inactive") {
		t.Errorf("member CLI section:\n%s", memberCLI)
	}
	for _, bad := range [][]string{{"Remediation", "Nowhere"}, {"Console"}, {}} {
		if _, err := p.Section(bad...); err == nil {
			t.Errorf("section %q found", bad)
		}
	}
}
