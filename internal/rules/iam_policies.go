package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The rules about who holds which policy read
// iam:GetAccountAuthorizationDetails: every user, group and role with its
// attached and inline policies, and every customer-managed policy (and
// AWS-managed one in use) with its document, in pages of 1,000 entities.

const srcDetails = "iam:GetAccountAuthorizationDetails"

// iamDetails is the authorization details, or the account-wide outcome
// when they cannot be judged.
func iamDetails(in rule.Input) (*snapshot.IAMDetails, *rule.Outcome) {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return nil, &o
	}
	if a.IAM == nil {
		return nil, &rule.Outcome{Status: rule.Unknown, Evidence: gapEvidence(a, snapshot.SectionIAM),
			Message: fmt.Sprintf("Cannot read the account's IAM users, groups, roles and policies (%s).", gapText(a, snapshot.SectionIAM))}
	}
	return a.IAM, nil
}

// setOutcome summarises a rule's resource set: any failure fails, then
// any unknown; otherwise it passes.
func setOutcome(set *rule.ResourceSet, noun, nouns, source string) rule.Outcome {
	out := rule.Outcome{Set: set, Status: rule.Pass}
	fails, unknown := set.Count(rule.Fail), set.Count(rule.Unknown)
	switch {
	case fails > 0:
		out.Status = rule.Fail
	case unknown > 0:
		out.Status = rule.Unknown
	}
	out.Message = fmt.Sprintf("%s judged: %d failed, %d unknown.", rule.Plural(set.Len(), noun, nouns), fails, unknown)
	out.Evidence = []rule.Evidence{{Source: source, Key: nouns, Value: fmt.Sprint(set.Len())}}
	return out
}

// IAMUserDirectPolicies fails an IAM user holding policies of its own,
// attached managed policies or inline ones, instead of receiving them
// through groups (CIS, Security Hub IAM.2).
var IAMUserDirectPolicies = rule.Rule{
	ID:       "iam-user-direct-policies",
	Title:    "IAM user has policies attached directly instead of through groups",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMUserDirectPolicies,
}

func checkIAMUserDirectPolicies(in rule.Input) rule.Outcome {
	d, o := iamDetails(in)
	if o != nil {
		return *o
	}
	if len(d.Users) == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcDetails, Key: "UserDetailList", Value: "0 users"}},
			Message: "The account has no IAM users."}
	}
	set := rule.NewResourceSet(len(d.Users))
	// Users holding nothing of their own share one outcome: nothing is
	// built per user on that path.
	clean := set.Share(rule.Pass, "Holds no policy of its own: its permissions come through groups, if any.",
		[]rule.Evidence{{Source: srcDetails, Key: "AttachedManagedPolicies, UserPolicyList", Value: "none"}})
	for _, u := range d.Users {
		if len(u.Attached)+len(u.Inline) == 0 {
			set.AddShared(u.ARN, clean)
			continue
		}
		var attached, inline, parts []string
		for _, p := range u.Attached {
			attached = append(attached, p.Name)
		}
		for _, p := range u.Inline {
			inline = append(inline, p.Name)
		}
		if len(attached) > 0 {
			parts = append(parts, "attached "+strings.Join(attached, ", "))
		}
		if len(inline) > 0 {
			parts = append(parts, "inline "+strings.Join(inline, ", "))
		}
		set.Add(rule.ResourceOutcome{Resource: u.ARN, Status: rule.Fail,
			Evidence: []rule.Evidence{
				{Source: srcDetails, Key: "AttachedManagedPolicies", Value: namesOrNone(attached)},
				{Source: srcDetails, Key: "UserPolicyList", Value: namesOrNone(inline)},
				{Source: srcDetails, Key: "GroupList", Value: namesOrNone(u.Groups)},
			},
			Message: fmt.Sprintf("User %s holds policies of its own (%s); grant them through a group and remove them from the user.", u.Name, strings.Join(parts, "; "))})
	}
	return setOutcome(set, "IAM user", "IAM users", srcDetails)
}

func namesOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// IAMPolicyFullAdmin fails every attached policy, customer-managed,
// AWS-managed or inline, that allows every action on every resource (CIS
// "*:*", Security Hub IAM.1). The CIS audit lists every attached policy,
// AWS-managed ones included, so AdministratorAccess attached anywhere is a
// failure here; Security Hub IAM.1 judges customer-managed policies only.
// An unattached customer-managed policy grants nothing yet: it is
// NOT_APPLICABLE, with what it would grant said. NotAction and wildcards
// are read by iampolicy.Document.Admin.
var IAMPolicyFullAdmin = rule.Rule{
	ID:       "iam-policy-full-admin",
	Title:    "IAM policy allowing full \"*:*\" administrative privileges is attached",
	Severity: rule.High,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMPolicyFullAdmin,
}

func checkIAMPolicyFullAdmin(in rule.Input) rule.Outcome {
	d, o := iamDetails(in)
	if o != nil {
		return *o
	}
	holders := policyHolders(d)
	n := len(d.Policies)
	for _, u := range d.Users {
		n += len(u.Inline)
	}
	for _, g := range d.Groups {
		n += len(g.Inline)
	}
	for _, r := range d.Roles {
		n += len(r.Inline)
	}
	set := rule.NewResourceSet(n)
	// A policy without full access is the common case, shared.
	narrow := set.Share(rule.Pass, "Does not allow every action on every resource.",
		[]rule.Evidence{{Source: "policy document", Key: "full-access statements", Value: "none"}})
	for _, p := range d.Policies {
		if fa, err := readAdmin(p.Document); err == nil && len(fa.Grants) == 0 && fa.Cancelled < 0 && len(fa.NotActionStatements) == 0 {
			set.AddShared(p.ARN, narrow)
			continue
		}
		kind := "customer-managed"
		if p.AWSManaged {
			kind = "AWS-managed"
		}
		ev := []rule.Evidence{{Source: srcDetails, Key: "AttachmentCount", Value: fmt.Sprint(p.AttachmentCount)}}
		if h := holders[p.ARN]; len(h) > 0 {
			ev = append(ev, rule.Evidence{Source: srcDetails, Key: "attached to", Value: holderText(h)})
		}
		ro := rule.ResourceOutcome{Resource: p.ARN}
		name := fmt.Sprintf("%s policy %s", capitalize(kind), p.Name)
		if p.DefaultVersion != "" {
			ev = append(ev, rule.Evidence{Source: srcDetails, Key: "DefaultVersionId", Value: p.DefaultVersion})
		}
		fa, err := readAdmin(p.Document)
		switch {
		case err != nil:
			ro.Status, ro.Message = rule.Unknown, fmt.Sprintf("%s: cannot read its document (%v).", name, err)
		case len(fa.Grants) == 0:
			ro.Status, ro.Message = rule.Pass, fmt.Sprintf("%s does not allow every action on every resource.%s", name, notActionNote(fa))
		case p.AttachmentCount == 0:
			ro.Status = rule.NotApplicable
			ro.Message = fmt.Sprintf("%s %s. It is attached to no user, group or role, so it grants nothing yet; CIS asks only that such policies not be attached (Security Hub IAM.1 fails it anyway). Delete it if nothing needs it.", name, grantText(fa))
		default:
			ro.Status = rule.Fail
			ro.Message = fmt.Sprintf("%s %s. It is attached to %s.", name, grantText(fa), holderCount(holders[p.ARN], p.AttachmentCount))
			if p.AWSManaged {
				ro.Message += " CIS counts AWS-managed policies such as AdministratorAccess (its audit lists every attached policy); Security Hub IAM.1 judges only customer-managed ones. Keep it for a break-glass role at most, and grant people and workloads what they use."
			} else {
				ro.Message += " Replace it with policies that grant what its holders use."
			}
		}
		ro.Evidence = append(ev, grantEvidence(fa)...)
		set.Add(ro)
	}
	inline := func(kind, owner, ownerARN string, list []snapshot.InlinePolicy) {
		for _, p := range list {
			if fa, err := readAdmin(p.Document); err == nil && len(fa.Grants) == 0 && fa.Cancelled < 0 && len(fa.NotActionStatements) == 0 {
				set.AddShared(ownerARN+"/inline-policy/"+p.Name, narrow)
				continue
			}
			ro := rule.ResourceOutcome{Resource: ownerARN + "/inline-policy/" + p.Name}
			name := fmt.Sprintf("Inline policy %s of %s %s", p.Name, kind, owner)
			fa, err := readAdmin(p.Document)
			switch {
			case err != nil:
				ro.Status, ro.Message = rule.Unknown, fmt.Sprintf("%s: cannot read its document (%v).", name, err)
			case len(fa.Grants) == 0:
				ro.Status, ro.Message = rule.Pass, fmt.Sprintf("%s does not allow every action on every resource.%s", name, notActionNote(fa))
			default:
				ro.Status = rule.Fail
				ro.Message = fmt.Sprintf("%s %s. Replace it with a policy that grants what the %s uses.", name, grantText(fa), kind)
			}
			ro.Evidence = append([]rule.Evidence{{Source: srcDetails, Key: kind + " inline policy", Value: p.Name}}, grantEvidence(fa)...)
			set.Add(ro)
		}
	}
	for _, u := range d.Users {
		inline("user", u.Name, u.ARN, u.Inline)
	}
	for _, g := range d.Groups {
		inline("group", g.Name, g.ARN, g.Inline)
	}
	for _, r := range d.Roles {
		inline("role", r.Name, r.ARN, r.Inline)
	}
	if set.Len() == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcDetails, Key: "Policies", Value: "0 policies, no inline policies"}},
			Message: "The account has no customer-managed policy, no AWS-managed policy in use and no inline policy."}
	}
	return setOutcome(set, "IAM policy", "IAM policies", srcDetails)
}

// readAdmin reads a document as IAM stored it (no validation: IAM accepts
// forms Vigil's own policy checker refuses) and looks for full access.
func readAdmin(doc string) (iampolicy.FullAccess, error) {
	if strings.TrimSpace(doc) == "" {
		return iampolicy.FullAccess{}, fmt.Errorf("IAM sent no document")
	}
	var d iampolicy.Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return iampolicy.FullAccess{}, fmt.Errorf("not a policy document: %w", err)
	}
	return d.Admin(), nil
}

func statementList(idx []int) string {
	parts := make([]string, len(idx))
	for i, n := range idx {
		parts[i] = fmt.Sprint(n + 1)
	}
	return strings.Join(parts, ", ")
}

// grantText says how a document grants full access.
func grantText(fa iampolicy.FullAccess) string {
	var b strings.Builder
	if len(fa.SelfGrant) == len(fa.Grants) {
		fmt.Fprintf(&b, "allows every action except those its NotAction lists, IAM policy changes included, so its holders can grant themselves the rest (statement %s)", statementList(fa.SelfGrant))
	} else {
		fmt.Fprintf(&b, "allows every action on every resource (statement %s)", statementList(fa.Grants))
	}
	if len(fa.Conditional) > 0 {
		fmt.Fprintf(&b, ", under conditions on %s for statement %s", strings.Join(fa.ConditionKeys, ", "), statementList(fa.Conditional))
	}
	if len(fa.PartialDenies) > 0 {
		fmt.Fprintf(&b, "; its Deny statement %s takes only part of that away", statementList(fa.PartialDenies))
	}
	return b.String()
}

func notActionNote(fa iampolicy.FullAccess) string {
	switch {
	case fa.Cancelled >= 0 && len(fa.NotActionStatements) == 0:
		return fmt.Sprintf(" (Its statement %d denies every action on every resource.)", fa.Cancelled+1)
	case len(fa.NotActionStatements) > 0:
		return fmt.Sprintf(" Statement %s allows every action except the IAM policy changes and others it lists: broad, but not \"*:*\".", statementList(fa.NotActionStatements))
	}
	return ""
}

func grantEvidence(fa iampolicy.FullAccess) []rule.Evidence {
	if len(fa.Grants) == 0 {
		return nil
	}
	ev := []rule.Evidence{{Source: "policy document", Key: "full-access statements", Value: statementList(fa.Grants)}}
	if len(fa.Conditional) > 0 {
		ev = append(ev, rule.Evidence{Source: "policy document", Key: "condition keys", Value: strings.Join(fa.ConditionKeys, ", ")})
	}
	return ev
}

// policyHolders maps a managed policy ARN to who it is attached to
// ("user alice", "role admin").
func policyHolders(d *snapshot.IAMDetails) map[string][]string {
	m := map[string][]string{}
	add := func(kind, name string, list []snapshot.AttachedPolicy) {
		for _, p := range list {
			m[p.ARN] = append(m[p.ARN], kind+" "+name)
		}
	}
	for _, u := range d.Users {
		add("user", u.Name, u.Attached)
	}
	for _, g := range d.Groups {
		add("group", g.Name, g.Attached)
	}
	for _, r := range d.Roles {
		add("role", r.Name, r.Attached)
	}
	return m
}

// holderText lists up to ten holders, so a policy attached to thousands
// keeps a short evidence line.
func holderText(h []string) string {
	const most = 10
	if len(h) <= most {
		return strings.Join(h, ", ")
	}
	return strings.Join(h[:most], ", ") + fmt.Sprintf(" and %d more", len(h)-most)
}

func holderCount(h []string, count int) string {
	if len(h) == 0 {
		return rule.Plural(count, "identity", "identities")
	}
	return holderText(h)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// IAMSupportRole fails an account where no IAM role holds the AWS-managed
// AWSSupportAccess policy (CIS "support role"). CIS audits the policy's
// roles, so a user or a group alone is a failure here, said so. Security
// Hub IAM.18 accepts a user or a group too: iam-support-access judges
// that reading.
var IAMSupportRole = rule.Rule{
	ID:       "iam-support-role",
	Title:    "No IAM role can manage incidents with AWS Support",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMSupportRole,
}

const supportPolicy = "AWSSupportAccess"

// isSupportPolicy matches AWS's own AWSSupportAccess in any partition,
// never a customer policy of the same name.
func isSupportPolicy(arn string) bool { return isAWSPolicy(arn, supportPolicy) }

func checkIAMSupportRole(in rule.Input) rule.Outcome {
	d, o := iamDetails(in)
	if o != nil {
		return *o
	}
	var roles, others []string
	has := func(list []snapshot.AttachedPolicy) bool {
		return slices.ContainsFunc(list, func(p snapshot.AttachedPolicy) bool { return isSupportPolicy(p.ARN) })
	}
	for _, r := range d.Roles {
		if has(r.Attached) {
			roles = append(roles, r.Name)
		}
	}
	for _, u := range d.Users {
		if has(u.Attached) {
			others = append(others, "user "+u.Name)
		}
	}
	for _, g := range d.Groups {
		if has(g.Attached) {
			others = append(others, "group "+g.Name)
		}
	}
	ev := []rule.Evidence{{Source: srcDetails, Key: "roles with " + supportPolicy, Value: namesOrNone(roles)},
		{Source: srcDetails, Key: "users and groups with " + supportPolicy, Value: namesOrNone(others)}}
	switch {
	case len(roles) > 0:
		return rule.Outcome{Status: rule.Pass, Evidence: ev,
			Message: fmt.Sprintf("The AWS-managed %s policy is attached to %s %s.", supportPolicy, plural(len(roles), "role", "roles"), holderText(roles))}
	case len(others) > 0:
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("No role holds the AWS-managed %s policy; only %s do. CIS asks for a role that incident responders assume (Security Hub IAM.18 accepts users and groups).", supportPolicy, holderText(others))}
	}
	return rule.Outcome{Status: rule.Fail, Evidence: ev,
		Message: fmt.Sprintf("No role, user or group holds the AWS-managed %s policy, so nobody is set up to open and manage AWS Support cases during an incident. Create a role for it.", supportPolicy)}
}
