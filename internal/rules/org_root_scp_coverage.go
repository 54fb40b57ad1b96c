package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// OrgRootSCPCoverage fails when a member account is reached by no service
// control policy that restricts its root user. An SCP is the only control
// that stops a member account's root user from creating an access key
// again after one was deleted; centralised root access removes
// credentials, it does not stop new ones being made by whoever recovers
// the root password.
//
// What counts as root-restricting: the SCPs that reach the account (those
// attached to it, to an OU above it and to the root) deny its root user
// iam:CreateAccessKey on itself — by an explicit Deny (typically
// ArnLike aws:PrincipalArn arn:*:iam::*:root, or Resource
// arn:*:iam::*:root) or because an allow-list level does not allow it.
// The policies are evaluated, not pattern-matched: conditions, NotAction,
// policy variables and per-account exemptions are honoured, and a condition
// on a key Vigil cannot know (aws:RequestedRegion, tags) leaves the
// account UNKNOWN rather than counted. A policy that denies every root
// action is reported as such; one that only denies key creation counts,
// and the message says the root user can still sign in and act. A policy
// that also denies sts:AssumeRoot sessions (no aws:AssumedRoot exemption)
// counts too, and is called out: it blocks deleting root credentials
// centrally.
var OrgRootSCPCoverage = rule.Rule{
	ID:       "org-root-scp-coverage",
	Title:    "Member accounts not covered by a root-restricting SCP",
	Severity: rule.High,
	Category: "Security",
	Service:  "organizations",
	Scope:    rule.OrganizationScope,
	Check:    checkOrgRootSCPCoverage,
}

const (
	srcRoots    = "organizations:ListRoots"
	srcPolicy   = "organizations:DescribePolicy"
	srcTargets  = "organizations:ListTargetsForPolicy"
	scpTypeName = "SERVICE_CONTROL_POLICY"
	// listInMessage caps how many accounts a message names; the evidence
	// lists them all.
	listInMessage = 10
)

// scpLegacyCutoff: for some member accounts created before this date, SCPs
// cannot stop the root user from managing its own access keys, MFA and
// password (AWS Organizations User Guide).
var scpLegacyCutoff = time.Date(2017, 9, 15, 0, 0, 0, 0, time.UTC)

type coverageState int

const (
	uncovered coverageState = iota
	covered
	undecided
)

type accountCoverage struct {
	acct  snapshot.OrgAccount
	path  []string
	state coverageState
	// allActions: every probed root action is denied, not only key creation.
	allActions bool
	by         []string
	unknown    []string
	// blocksAssumeRoot names what denies an AssumeRoot session deleting
	// root's keys.
	blocksAssumeRoot []string
}

// probe is a root action used to tell a deny-everything SCP from a
// key-creation-only one.
type probe struct{ action, resource string }

func probes(partition, account string) []probe {
	arn := func(service, region, resource string) string {
		return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource
	}
	return []probe{
		{"iam:CreateUser", arn("iam", "", "user/vigil-probe")},
		{"ec2:RunInstances", arn("ec2", partitionRegion(partition), "instance/*")},
		{"s3:GetObject", "arn:" + partition + ":s3:::vigil-probe/object"},
		{"organizations:LeaveOrganization", "*"},
	}
}

func partitionRegion(p string) string {
	switch p {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-north-1"
	}
	return "us-east-1"
}

func orgPartition(d *snapshot.Document) string {
	for _, a := range d.Accounts {
		if a.ID == d.Organization.ManagementAccountID && a.Partition != "" {
			return a.Partition
		}
	}
	for _, a := range d.Accounts {
		if a.Partition != "" {
			return a.Partition
		}
	}
	return "aws"
}

func checkOrgRootSCPCoverage(in rule.Input) rule.Outcome {
	org := in.Doc.Organization
	c := org.Controls
	partition := orgPartition(in.Doc)
	mgmt := org.ManagementAccountID
	mgmtNote := fmt.Sprintf("The management account %s is outside every SCP's reach (SCPs never apply to it): its root user is protected only by removing its credentials, by MFA and by monitoring.", mgmt)
	mgmtEv := rule.Evidence{Source: srcOrg, Key: mgmt, Value: "management account: no SCP applies to it"}

	if c == nil || c.Root == nil {
		ev := orgGapEvidence(org, snapshot.SectionOrgTree, srcRoots)
		// "Could not be read" only when a call failed; a run that never
		// asked (several profiles, a file) says so.
		why := "the organisation's root and OU tree were not read by this run; only a scan of the management account or a delegated administrator (alone, or with --org) reads them."
		if g := org.GapFor(snapshot.SectionOrgTree); g != nil {
			why = "the organisation's root and OU tree could not be read (" + g.Call + ": " + gapCode(*g) + "). Only the management account or a delegated administrator can read them."
		}
		return rule.Outcome{Status: rule.Unknown, Evidence: append(ev, mgmtEv),
			Message: "Whether an SCP restricts member accounts' root users is unknown: " + why + " " + mgmtNote}
	}
	rootEv := rule.Evidence{Source: srcRoots, Key: c.Root.ID + " PolicyTypes", Value: strings.Join(c.Root.PolicyTypes, ", ")}
	if rootEv.Value == "" {
		rootEv.Value = "none enabled"
	}
	members, inactive := memberAccounts(c, mgmt)
	treeGap := org.GapFor(snapshot.SectionOrgTree)

	if !slices.Contains(c.Root.PolicyTypes, scpTypeName) {
		ev := []rule.Evidence{rootEv}
		var names []string
		for _, a := range members {
			names = append(names, describeAccount(a, c))
			ev = append(ev, rule.Evidence{Source: srcRoots, Key: a.ID, Value: describeAccount(a, c) + " · no SCP applies"})
		}
		msg := fmt.Sprintf("Service control policies are not enabled on the root %s, so no SCP restricts the root user of any member account", c.Root.ID)
		if len(names) > 0 {
			msg += fmt.Sprintf(" (%s: %s)", rule.Plural(len(names), "account", "accounts"), nameList(names))
		}
		msg += ". Enable the SERVICE_CONTROL_POLICY type on the root and attach a root-restricting SCP (vigil prevent). " + mgmtNote
		return rule.Outcome{Status: rule.Fail, Message: msg, Evidence: append(ev, mgmtEv)}
	}
	if c.SCPs == nil {
		ev := append([]rule.Evidence{rootEv}, orgGapEvidence(org, snapshot.SectionOrgSCPs, "organizations:ListPolicies")...)
		return rule.Outcome{Status: rule.Unknown, Evidence: append(ev, mgmtEv),
			Message: "Whether an SCP restricts member accounts' root users is unknown: the service control policies could not be listed. " + mgmtNote}
	}

	set := newSCPSet(c)
	var results []accountCoverage
	for _, a := range members {
		results = append(results, assess(set, partition, org.ID, a))
	}

	var unc, und []accountCoverage
	keysOnly, allCovered := 0, 0
	blockers := map[string][]string{}
	for _, r := range results {
		switch r.state {
		case uncovered:
			unc = append(unc, r)
		case undecided:
			und = append(und, r)
		case covered:
			allCovered++
			if !r.allActions {
				keysOnly++
			}
		}
		for _, b := range r.blocksAssumeRoot {
			blockers[b] = append(blockers[b], r.acct.ID)
		}
	}

	ev := []rule.Evidence{rootEv}
	ev = append(ev, policyEvidence(set, results)...)
	for _, r := range results {
		switch r.state {
		case uncovered:
			ev = append(ev, rule.Evidence{Source: srcTargets, Key: r.acct.ID, Value: describeAccount(r.acct, c) + " · no root-restricting SCP reaches it"})
		case undecided:
			ev = append(ev, rule.Evidence{Source: srcTargets, Key: r.acct.ID, Value: describeAccount(r.acct, c) + " · undecided: " + strings.Join(r.unknown, "; ")})
		}
	}
	for _, p := range set.policies {
		for _, g := range p.Gaps {
			ev = append(ev, rule.Evidence{Source: g.Call, Key: p.ID, Error: g.Text()})
		}
	}
	if treeGap != nil {
		ev = append(ev, rule.Evidence{Source: treeGap.Call, Error: treeGap.Text()})
	}
	ev = append(ev, mgmtEv)

	notes := coverageNotes(results, keysOnly, blockers, inactive, treeGap, c)
	notes = append(notes, mgmtNote)
	tail := " " + strings.Join(notes, " ")

	switch {
	case len(unc) > 0:
		var names []string
		for _, r := range unc {
			names = append(names, describeAccount(r.acct, c))
		}
		msg := fmt.Sprintf("%d of %s %s no SCP that restricts the root user, so root there can create access keys and use them: %s.",
			len(unc), rule.Plural(len(results), "member account", "member accounts"), hasHave(len(unc)), nameList(names))
		if len(und) > 0 {
			msg += fmt.Sprintf(" Coverage of %s more could not be decided (see the evidence).", rule.Plural(len(und), "account", "accounts"))
		}
		return rule.Outcome{Status: rule.Fail, Message: msg + tail, Evidence: ev}
	case len(und) > 0:
		// Accounts usually share the reason (one policy reaches them all).
		byReason := map[string][]string{}
		for _, r := range und {
			reason := strings.Join(r.unknown, "; ")
			byReason[reason] = append(byReason[reason], r.acct.ID)
		}
		var parts []string
		for _, reason := range slices.Sorted(maps.Keys(byReason)) {
			parts = append(parts, reason+" ("+strings.Join(capList(byReason[reason]), ", ")+")")
		}
		msg := fmt.Sprintf("Whether %d of %s %s covered by a root-restricting SCP could not be decided: %s.",
			len(und), rule.Plural(len(results), "member account", "member accounts"), isAre(len(und)), strings.Join(capList(parts), " · "))
		return rule.Outcome{Status: rule.Unknown, Message: msg + tail, Evidence: ev}
	case treeGap != nil:
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("The %s read are covered by a root-restricting SCP, but the OU tree could not be read completely (%s: %s), so accounts not read cannot be judged.",
				rule.Plural(len(results), "member account", "member accounts"), treeGap.Call, gapCode(*treeGap)) + tail}
	case len(results) == 0:
		return rule.Outcome{Status: rule.NotApplicable, Evidence: ev,
			Message: "The organisation has no active member accounts, and SCPs never apply to the management account." + tail}
	}
	msg := fmt.Sprintf("A root-restricting SCP reaches all %s.", rule.Plural(len(results), "active member account", "active member accounts"))
	if full := allCovered - keysOnly; full > 0 && keysOnly > 0 {
		msg = fmt.Sprintf("A root-restricting SCP reaches all %s: every root action is denied in %d, root access key creation only in %d.",
			rule.Plural(len(results), "active member account", "active member accounts"), full, keysOnly)
	}
	return rule.Outcome{Status: rule.Pass, Message: msg + tail, Evidence: ev}
}

// memberAccounts returns the active member accounts in the tree, and how
// many others (suspended, closed, pending closure) are not judged.
func memberAccounts(c *snapshot.OrgControls, mgmt string) (active []snapshot.OrgAccount, inactive int) {
	for _, a := range c.Accounts {
		if a.ID == mgmt {
			continue
		}
		if a.State != "" && a.State != "ACTIVE" {
			inactive++
			continue
		}
		active = append(active, a)
	}
	return active, inactive
}

func assess(set *scpSet, partition, orgID string, a snapshot.OrgAccount) accountCoverage {
	r := accountCoverage{acct: a, path: set.controls.Path(a.ID)}
	rootARN := snapshot.RootARN(partition, a.ID)
	keys := set.evaluate(a.ID, rootRequest(partition, orgID, a.ID, "iam:CreateAccessKey", rootARN, false))
	switch keys.verdict {
	case iampolicy.NoMatch:
		r.state = uncovered
		return r
	case iampolicy.Unknown:
		r.state = undecided
		r.unknown = keys.unknown
		return r
	}
	r.state = covered
	r.by = keys.deniedBy
	r.allActions = true
	for _, p := range probes(partition, a.ID) {
		if set.evaluate(a.ID, rootRequest(partition, orgID, a.ID, p.action, p.resource, false)).verdict != iampolicy.Match {
			r.allActions = false
			break
		}
	}
	// Central remediation deletes root's keys in an AssumeRoot session.
	if d := set.evaluate(a.ID, rootRequest(partition, orgID, a.ID, "iam:DeleteAccessKey", rootARN, true)); d.verdict == iampolicy.Match {
		r.blocksAssumeRoot = d.deniedBy
	}
	return r
}

// policyEvidence describes what restricts root in at least one account:
// each policy with where it is attached, and each allow-list level.
func policyEvidence(set *scpSet, results []accountCoverage) []rule.Evidence {
	counts := map[string]int{}
	for _, r := range results {
		for _, b := range r.by {
			counts[b]++
		}
	}
	var ev []rule.Evidence
	for _, p := range set.policies {
		name := policyName(p.OrgPolicy)
		if n := counts[name]; n > 0 {
			ev = append(ev, rule.Evidence{Source: srcPolicy, Key: name,
				Value: fmt.Sprintf("restricts root in %s; attached to %s", rule.Plural(n, "account", "accounts"), strings.Join(p.Targets, ", "))})
		}
	}
	for _, b := range slices.Sorted(maps.Keys(counts)) {
		if strings.HasPrefix(b, "allow list at ") {
			ev = append(ev, rule.Evidence{Source: srcTargets, Key: b,
				Value: fmt.Sprintf("no SCP attached there allows root to create access keys; restricts root in %s", rule.Plural(counts[b], "account", "accounts"))})
		}
	}
	return ev
}

func coverageNotes(results []accountCoverage, keysOnly int, blockers map[string][]string, inactive int, treeGap *snapshot.Gap, c *snapshot.OrgControls) []string {
	var notes []string
	if keysOnly > 0 {
		notes = append(notes, fmt.Sprintf("In %s only root access key creation is denied: the root user can still sign in and act there.", rule.Plural(keysOnly, "account", "accounts")))
	}
	for _, b := range slices.Sorted(maps.Keys(blockers)) {
		if strings.HasPrefix(b, "allow list") {
			notes = append(notes, fmt.Sprintf("The %s does not allow iam:DeleteAccessKey, so sts:AssumeRoot sessions cannot delete root credentials in %s.", b, rule.Plural(len(blockers[b]), "account", "accounts")))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s also denies sts:AssumeRoot sessions (it has no aws:AssumedRoot exemption), so deleting root credentials centrally fails in %s; add \"Null\": {\"aws:AssumedRoot\": \"true\"} to its condition.",
			b, rule.Plural(len(blockers[b]), "account", "accounts")))
	}
	var legacy []string
	invited := 0
	for _, r := range results {
		a := r.acct
		switch {
		case a.JoinedTimestamp != nil && a.JoinedTimestamp.Before(scpLegacyCutoff):
			name := a.ID
			if a.Name != "" {
				name = a.Name + " (" + a.ID
			} else {
				name += " ("
			}
			legacy = append(legacy, fmt.Sprintf("%s, joined %s)", name, a.JoinedTimestamp.UTC().Format("2006-01-02")))
		case a.JoinedMethod == "INVITED":
			invited++
		}
	}
	if len(legacy) > 0 {
		notes = append(notes, fmt.Sprintf("For some accounts created before 2017-09-15 no SCP can stop the root user managing its own access keys: %s; remove their root credentials and watch them.", strings.Join(capList(legacy), ", ")))
	}
	if invited > 0 {
		notes = append(notes, fmt.Sprintf("Organizations does not record when %s invited into the organisation %s created; if one predates 2017-09-15 the same limit applies.", rule.Plural(invited, "account", "accounts"), wasWere(invited)))
	}
	if inactive > 0 {
		notes = append(notes, fmt.Sprintf("%s suspended, closed or closing %s not judged.", rule.Plural(inactive, "account", "accounts"), isAre(inactive)))
	}
	if treeGap != nil {
		notes = append(notes, fmt.Sprintf("The OU tree could not be read completely (%s: %s); accounts not read are not judged.", treeGap.Call, gapCode(*treeGap)))
	}
	return notes
}

func describeAccount(a snapshot.OrgAccount, c *snapshot.OrgControls) string {
	where := "under the root"
	if p := c.Path(a.ID); len(p) > 0 {
		where = "OU " + strings.Join(p, "/")
	}
	if a.Name != "" {
		return fmt.Sprintf("%s (%s, %s)", a.Name, a.ID, where)
	}
	return fmt.Sprintf("%s (%s)", a.ID, where)
}

func nameList(names []string) string { return strings.Join(capList(names), ", ") }

// capList keeps a message readable: the first few items and a count.
func capList(items []string) []string {
	if len(items) <= listInMessage {
		return items
	}
	return append(slices.Clone(items[:listInMessage]), fmt.Sprintf("and %d more (see the evidence)", len(items)-listInMessage))
}

func orgGapEvidence(org *snapshot.Organization, section, call string) []rule.Evidence {
	var ev []rule.Evidence
	for _, g := range org.Gaps {
		if g.Section == section {
			ev = append(ev, rule.Evidence{Source: g.Call, Error: g.Text()})
		}
	}
	if len(ev) == 0 {
		ev = []rule.Evidence{{Source: call, Error: "not collected"}}
	}
	return ev
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
