package reporttest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// The canary credentials planted where a careless writer (or a careless
// model) would print them. They are shaped like the real thing, so the
// model's redaction is tested on what an error message would quote, and
// made up: none of them signs anything.
var (
	// canarySecretKey is shaped like a secret access key: 40 characters
	// of the base64 alphabet.
	canarySecretKey = "vIgiLcAnArY7sEcReTkEy/k7MDENG+bPxRfiCY42"
	// canarySessionToken is shaped like an STS session token.
	canarySessionToken = "IQoJb3JpZ2luX2VjEVIGILCANARY" + base64Noise(360)
	// canaryNamedValue is a credential that looks like nothing, named as
	// one (an aws_secret_access_key line a config error quotes).
	canaryNamedValue = "vigil-canary-plain-words-secret"
	// canaryPassword is the password of an endpoint URL.
	canaryPassword = "vigil-canary-proxy-password"
)

// canaries are the planted credentials, for the checks.
func canaries() []string {
	return []string{canarySecretKey, canarySessionToken, canaryNamedValue, canaryPassword}
}

// Environment canaries: Run sets them, so a writer that reads the
// environment prints something it must not.
var envCanaries = map[string]string{
	"AWS_SECRET_ACCESS_KEY": "vIgiLeNvCaNaRy7sEcReT/k7MDENG+bPxRfiCY43",
	"AWS_SESSION_TOKEN":     "IQoJb3JpZ2luX2VjEVIGILENVCANARY" + base64Noise(300),
}

// base64Noise is n characters of the base64 alphabet, the same every run.
func base64Noise(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	r := rand.New(rand.NewPCG(9, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// A document of the corpus, named for failure messages.
type document struct {
	name string
	// build assembles it through report.Build, its inputs shuffled by
	// shuffle (rand.Shuffle's signature; nil keeps them as written).
	build func(shuffle func(n int, swap func(i, j int))) *report.Document
}

// inputs are what report.Build takes.
type inputs struct {
	snap    *snapshot.Document
	results []rule.Result
	// assess, when set, adds a compliance view built from the document's
	// results, as the scan does.
	assess bool
}

func (in inputs) build(shuffle func(n int, swap func(i, j int))) *report.Document {
	if shuffle != nil {
		s := in.snap
		shuffle(len(s.Accounts), func(i, j int) { s.Accounts[i], s.Accounts[j] = s.Accounts[j], s.Accounts[i] })
		shuffle(len(s.Unreached), func(i, j int) { s.Unreached[i], s.Unreached[j] = s.Unreached[j], s.Unreached[i] })
		if s.Organization != nil {
			k := s.Organization.Skipped
			shuffle(len(k), func(i, j int) { k[i], k[j] = k[j], k[i] })
		}
		r := in.results
		shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
	}
	d := report.Build(in.snap, in.results, report.Tool{Name: "vigil", Version: "1.2.3-test"}, testclock.Ref().Add(time.Minute))
	if in.assess {
		d.Compliance = assessment(d.Results)
	}
	return d
}

// corpus is every document the checks write: one account, an
// organisation, a compliance view, the two empty ones, text in many
// scripts and the planted secrets.
func corpus() []document {
	return []document{
		{"one account", func(s func(int, func(int, int))) *report.Document { return oneAccount().build(s) }},
		{"organisation", func(s func(int, func(int, int))) *report.Document { return organisation().build(s) }},
		{"compliance view", func(s func(int, func(int, int))) *report.Document {
			in := oneAccount()
			in.assess = true
			return in.build(s)
		}},
		{"empty", func(s func(int, func(int, int))) *report.Document { return empty().build(s) }},
		{"every target unreached", func(s func(int, func(int, int))) *report.Document { return allUnreached().build(s) }},
		{"unicode", func(s func(int, func(int, int))) *report.Document { return unicode().build(s) }},
		{"planted secrets", func(s func(int, func(int, int))) *report.Document { return secrets().build(s) }},
		{"control characters", func(s func(int, func(int, int))) *report.Document { return controls().build(s) }},
	}
}

// controls is a crafted snapshot whose text would drive the terminal
// that shows a report: escape sequences that clear the screen, move the
// cursor over earlier lines, set the window title, and a bell, in an
// account name, an OU, a gap and a result. A writer must show the text
// without letting it act.
func controls() inputs {
	const (
		clear = "\x1b[2J\x1b[H"
		title = "\x1b]0;all clear\x07"
		up    = "\x1b[1A\x1b[2KPASS"
	)
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "crafted" + title})
	snap.Accounts = []snapshot.Account{{ID: "300000000001", Name: "prod" + clear + "\u009b31m\xff", Partition: "aws", OUPath: []string{"Root", "Work" + title},
		Org:  &snapshot.Membership{Role: snapshot.RoleStandalone},
		Gaps: []snapshot.Gap{{Section: snapshot.SectionSummary, Call: "iam:GetAccountSummary", Code: "AccessDenied", Message: "denied\a" + up}}}}
	const a = "300000000001"
	return inputs{snap: snap, results: []rule.Result{
		result(a, "prod", "root-access-key", rule.Fail, rule.Critical, "The root user has an access key."+up+title,
			rule.Evidence{Source: "credential report", Key: "access_key_1_active", Value: "true" + clear}),
	}}
}

func now() time.Time { return testclock.Ref() }

func root(acct string) string { return "arn:aws:iam::" + acct + ":root" }

func result(acct, name, id string, st rule.Status, sev rule.Severity, msg string, ev ...rule.Evidence) rule.Result {
	return rule.Result{Meta: &rule.Meta{RuleID: id, Title: "Title of " + id, RuleSeverity: sev, Category: "Security", Service: "iam", AccountID: acct, AccountName: name, Partition: "aws"},
		Status: st, Severity: sev, Resource: root(acct), Message: msg, Evidence: ev}
}

func oneAccount() inputs {
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "profile audit"})
	gen := now().Add(-2 * time.Hour)
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Name: "payments", Partition: "aws",
		Org:              &snapshot.Membership{Role: snapshot.RoleStandalone},
		Caller:           &snapshot.Caller{ARN: "arn:aws:iam::111122223333:user/auditor"},
		CredentialReport: &snapshot.CredentialReport{GeneratedTime: &gen, TimeSource: snapshot.TimeFromAPI, Columns: 22},
		Gaps:             []snapshot.Gap{{Section: snapshot.SectionRootVirtualMFA, Call: "iam:ListVirtualMFADevices", Code: "AccessDenied", Message: "not authorized"}}}}
	const a, n = "111122223333", "payments"
	return inputs{snap: snap, results: []rule.Result{
		result(a, n, "root-access-key", rule.Fail, rule.Critical, "The root user has an active access key.",
			rule.Evidence{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}),
		result(a, n, "root-mfa", rule.Pass, rule.Critical, "The root user has MFA.",
			rule.Evidence{Source: "credential report", Key: "mfa_active", Value: "true", AsOf: &gen}),
		result(a, n, "root-virtual-mfa", rule.Unknown, rule.High, "Whether root's MFA is virtual could not be read.",
			rule.Evidence{Source: "iam:ListVirtualMFADevices", Error: "AccessDenied: not authorized"}),
		result(a, n, "org-root-scp-coverage", rule.NotApplicable, rule.Medium, "The account is in no organisation."),
	}}
}

func organisation() inputs {
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "profile management"})
	const mgmt = "100000000001"
	member := &snapshot.Membership{Role: snapshot.RoleMember, OrganizationID: "o-vigil", ManagementAccountID: mgmt}
	role := func(id string) *snapshot.Access {
		return &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: "arn:aws:iam::" + id + ":role/VigilAudit"}
	}
	snap.Organization = &snapshot.Organization{ID: "o-vigil", ManagementAccountID: mgmt, AccessMode: snapshot.AccessAssumeRole,
		Caller: "arn:aws:iam::" + mgmt + ":user/auditor", Scope: "OU Workloads",
		Skipped: []snapshot.SkippedAccount{
			{AccountID: "100000000009", Name: "old", State: "SUSPENDED", Reason: "the account is SUSPENDED"},
			{AccountID: "100000000008", Name: "closed", State: "CLOSED", Reason: "the account is CLOSED"},
		},
		Gaps: []snapshot.Gap{{Section: snapshot.SectionOrgTree, Call: "organizations:ListParents", Code: "AccessDenied", Message: "not authorized"}}}
	snap.Accounts = []snapshot.Account{
		{ID: mgmt, Name: "management", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleManagement, OrganizationID: "o-vigil", ManagementAccountID: mgmt},
			Access: &snapshot.Access{Method: snapshot.AccessDirect, Profile: "management", Note: "the management account is read with the caller's own credentials"}},
		{ID: "100000000002", Name: "prod", Partition: "aws", Org: member, OUPath: []string{"Root", "Workloads", "Prod"}, Access: role("100000000002")},
		{ID: "100000000003", Name: "staging", Partition: "aws", Org: member, OUPath: []string{"Root", "Workloads"}, Access: role("100000000003"),
			Gaps: []snapshot.Gap{{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "AccessDenied", Message: "not authorized to assume the role"}}},
		{ID: "100000000004", Name: "sandbox", Partition: "aws", Org: member, OUPath: []string{"Root", "Sandbox"}, Access: role("100000000004")},
		{ID: "100000000005", Name: "logs", Partition: "aws", Org: member, OUPath: []string{"Root", "Security"}, Access: role("100000000005")},
	}
	snap.Unreached = []snapshot.Unreached{
		{Target: "profile gone", Gap: snapshot.Gap{Section: snapshot.SectionAccess, Call: "AWS configuration", Code: "ConfigError", Message: "no such profile"}},
		{Target: "arn:aws:iam::100000000007:role/VigilAudit", Gap: snapshot.Gap{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "AccessDenied", Message: "denied"}},
	}
	var results []rule.Result
	names := map[string]string{mgmt: "management", "100000000002": "prod", "100000000003": "staging", "100000000004": "sandbox", "100000000005": "logs"}
	statuses := map[string][2]rule.Status{
		mgmt:           {rule.Fail, rule.Pass},
		"100000000002": {rule.Fail, rule.Unknown},
		"100000000003": {rule.Unknown, rule.Unknown},
		"100000000004": {rule.Pass, rule.Pass},
		"100000000005": {rule.Pass, rule.NotApplicable},
	}
	for acct, st := range statuses {
		results = append(results,
			result(acct, names[acct], "root-access-key", st[0], rule.Critical, "root-access-key is "+string(st[0])+" in "+names[acct]+"."),
			result(acct, names[acct], "root-recent-use", st[1], rule.High, "root-recent-use is "+string(st[1])+" in "+names[acct]+"."))
	}
	org := result(mgmt, "management", "org-root-scp-coverage", rule.Fail, rule.High, "No SCP denies the root user in OU Workloads.",
		rule.Evidence{Source: "organizations:ListPolicies", Key: "p-123", Value: "FullAWSAccess"})
	org.Resource = "arn:aws:organizations::" + mgmt + ":organization/o-vigil"
	results = append(results, org)
	rule.SortResults(results)
	return inputs{snap: snap, results: results}
}

func empty() inputs {
	return inputs{snap: snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS})}
}

func allUnreached() inputs {
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Unreached = []snapshot.Unreached{
		{Target: "profile a", Gap: snapshot.Gap{Section: snapshot.SectionAccess, Call: "sts:GetCallerIdentity", Code: "ExpiredToken", Message: "The security token included in the request is expired"}},
		{Target: "profile b", Gap: snapshot.Gap{Section: snapshot.SectionAccess, Call: "AWS configuration", Code: "ConfigError", Message: "no such profile"}},
	}
	snap.Incomplete = &snapshot.Incomplete{Reason: "no target named an account"}
	return inputs{snap: snap}
}

// Text in many scripts: accented Latin (one é precomposed, one with a
// combining accent), Cyrillic, Greek, Hebrew and Arabic (right to left,
// mixed with digits and Latin), CJK, and emoji (a flag, a ZWJ sequence, a
// variation selector), in the places a writer shows.
const (
	unicodeName1 = "Paiements – Production (é, é) 💳"
	unicodeName2 = "תשלומים ייצור 2026 — مدفوعات الإنتاج"
	unicodeName3 = "生产环境·支付 👩‍💻 🇪🇺 ☁️"
	unicodeMsg1  = "La clé d'accès racine est active ; ключ доступа активен; κλειδί ενεργό."
	unicodeMsg2  = "מפתח הגישה של root פעיל מאז 2026-01-02 — مفتاح الوصول نشط منذ ١٢ يومًا 🔑"
	unicodeMsg3  = "根用户有一个有效的访问密钥 🔐 (アクセスキー)"
)

func unicode() inputs {
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "profile ünïcødé"})
	member := &snapshot.Membership{Role: snapshot.RoleMember, OrganizationID: "o-unicode", ManagementAccountID: "200000000001"}
	snap.Organization = &snapshot.Organization{ID: "o-unicode", ManagementAccountID: "200000000001", AccessMode: snapshot.AccessAssumeRole,
		Skipped: []snapshot.SkippedAccount{{AccountID: "200000000009", Name: "Архив 🗄️", State: "SUSPENDED", Reason: "the account is SUSPENDED (приостановлен)"}}}
	snap.Accounts = []snapshot.Account{
		{ID: "200000000002", Name: unicodeName1, Partition: "aws", Org: member, OUPath: []string{"Root", "Équipes", "Paiements"},
			Access: &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: "arn:aws:iam::200000000002:role/VigilAudit"}},
		{ID: "200000000003", Name: unicodeName2, Partition: "aws", Org: member, OUPath: []string{"Root", "צוותים"},
			Access: &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: "arn:aws:iam::200000000003:role/VigilAudit"},
			Gaps:   []snapshot.Gap{{Section: snapshot.SectionRootVirtualMFA, Call: "iam:ListVirtualMFADevices", Code: "AccessDenied", Message: "الوصول مرفوض — доступ запрещён"}}},
		{ID: "200000000004", Name: unicodeName3, Partition: "aws", Org: member, OUPath: []string{"Root", "团队"},
			Access: &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: "arn:aws:iam::200000000004:role/VigilAudit"}},
	}
	results := []rule.Result{
		result("200000000002", unicodeName1, "root-access-key", rule.Fail, rule.Critical, unicodeMsg1,
			rule.Evidence{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1 (une clé)"}),
		result("200000000003", unicodeName2, "root-access-key", rule.Fail, rule.Critical, unicodeMsg2,
			rule.Evidence{Source: "iam:ListVirtualMFADevices", Error: "AccessDenied: الوصول مرفوض"}),
		result("200000000004", unicodeName3, "root-access-key", rule.Fail, rule.High, unicodeMsg3),
		result("200000000004", unicodeName3, "root-mfa", rule.Pass, rule.Critical, "MFA ✓ — 多要素認証が有効"),
	}
	return inputs{snap: snap, results: results}
}

// secrets plants the canaries where text from outside reaches the
// document: gap messages (an account's, the organisation's, an unreached
// target's), a result's message and evidence, an access note, the reason
// of a skipped account and of an incomplete run, and the source's
// endpoint. They are quoted as the SDK and config files quote them: a
// credential_process's output, a config line, a query string, XML.
func secrets() inputs {
	processOutput := `parse failed of process output: {"Version": 1, "AccessKeyId": "ASIAVIGILCANARY00001", "SecretAccessKey": "` +
		canarySecretKey + `", "SessionToken": "` + canarySessionToken + `", "Expiration": "soon"}, error: parsing time "soon"`
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "endpoint https://vigil:" + canaryPassword + "@proxy.example.com:8443"})
	const mgmt, acct = "300000000001", "300000000002"
	snap.Organization = &snapshot.Organization{ID: "o-secret", ManagementAccountID: mgmt, AccessMode: snapshot.AccessAssumeRole,
		Skipped: []snapshot.SkippedAccount{{AccountID: "300000000009", State: "ACTIVE", Reason: "excluded: SecretAccessKey=" + canarySecretKey}},
		Gaps: []snapshot.Gap{{Section: snapshot.SectionOrgTree, Call: "organizations:ListRoots", Code: "ConfigError",
			Message: "failed to load shared config: line 3: aws_secret_access_key = " + canaryNamedValue}}}
	member := &snapshot.Membership{Role: snapshot.RoleMember, OrganizationID: "o-secret", ManagementAccountID: mgmt}
	snap.Accounts = []snapshot.Account{
		{ID: mgmt, Name: "management", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleManagement, OrganizationID: "o-secret", ManagementAccountID: mgmt},
			Access: &snapshot.Access{Method: snapshot.AccessDirect, Note: "read with aws_session_token=" + canarySessionToken},
			Gaps:   []snapshot.Gap{{Section: snapshot.SectionCredentialReport, Call: "iam:GenerateCredentialReport", Message: processOutput}}},
		{ID: acct, Name: "workload", Partition: "aws", Org: member,
			Access: &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: "arn:aws:iam::" + acct + ":role/VigilAudit"},
			Gaps: []snapshot.Gap{{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "SignatureDoesNotMatch",
				Message: "signed with " + canarySecretKey + " and the token " + canarySessionToken}}},
	}
	snap.Unreached = []snapshot.Unreached{{Target: "profile leaky", Gap: snapshot.Gap{Section: snapshot.SectionAccess, Call: "AWS configuration", Code: "ConfigError",
		Message: "unexpected response <AssumeRoleResult><Credentials><SecretAccessKey>" + canarySecretKey + "</SecretAccessKey><SessionToken>" +
			canarySessionToken + "</SessionToken></Credentials></AssumeRoleResult>"}}}
	snap.Incomplete = &snapshot.Incomplete{Reason: "the run stopped: " + processOutput}
	results := []rule.Result{
		result(mgmt, "management", "root-access-key", rule.Fail, rule.Critical, "The key's session: SessionToken: "+canarySessionToken,
			rule.Evidence{Source: "iam:GenerateCredentialReport", Error: "ConfigError: " + processOutput},
			rule.Evidence{Source: "iam:GetAccountSummary", Key: "url", Value: "https://iam.amazonaws.com/?X-Amz-Security-Token=" + canarySessionToken + "&X-Amz-Date=20261126T120000Z"}),
		result(acct, "workload", "root-access-key", rule.Unknown, rule.Critical, "The account could not be read: "+canarySecretKey+".",
			rule.Evidence{Source: "sts:AssumeRole", Error: "SignatureDoesNotMatch: signed with " + canarySecretKey}),
	}
	return inputs{snap: snap, results: results, assess: true}
}

// assessment is a compliance view of results, as compliance.Catalog.Assess
// builds one (by hand, so the suite needs no catalog): one control per
// rule, in rule order.
func assessment(results []rule.Result) *compliance.Assessment {
	a := &compliance.Assessment{Framework: "test-framework", Name: "Test Framework", Version: "1.0", Scope: "The root user controls."}
	byRule := map[string][]compliance.Finding{}
	var ids []string
	for _, r := range results {
		if _, ok := byRule[r.RuleID]; !ok {
			ids = append(ids, r.RuleID)
		}
		byRule[r.RuleID] = append(byRule[r.RuleID], compliance.Finding{AccountID: r.AccountID, Resource: r.Resource, Status: r.Status, Severity: r.Severity.String(), Message: r.Message})
	}
	slices.Sort(ids)
	for i, id := range ids {
		status := compliance.ControlPass
		worst := rule.Pass
		for _, f := range byRule[id] {
			if f.Status == rule.Fail {
				status, worst = compliance.ControlFail, rule.Fail
			}
		}
		a.Controls = append(a.Controls, compliance.ControlAssessment{ID: fmt.Sprintf("1.%d", i+1), Title: "Control for " + id,
			Status: status, Automation: compliance.Automated,
			Rules: []compliance.RuleAssessment{{RuleID: id, Title: "Title of " + id, Coverage: compliance.Full, Status: worst, Results: byRule[id]}}})
		a.Coverage.Controls++
		a.Coverage.Automated++
		if status == compliance.ControlFail {
			a.Coverage.Fail++
		} else {
			a.Coverage.Pass++
		}
	}
	return a
}
