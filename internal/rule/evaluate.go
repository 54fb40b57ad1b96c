package rule

import (
	"sort"
	"time"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// managementNote is appended to failures in a management account: SCPs do
// not apply there and AssumeRoot cannot reach it, so its root user can only
// be protected by removing credentials.
const managementNote = " This is the organisation's management account: no SCP can restrict its root user and centralised root access cannot reach it."

// Evaluate runs every rule against the document and returns the results
// sorted by account ID, then rule ID.
func Evaluate(rules []Rule, doc *snapshot.Document, now time.Time, opts Options) []Result {
	var out []Result
	for i := range doc.Accounts {
		acct := &doc.Accounts[i]
		for _, r := range rules {
			if r.Scope != AccountScope {
				continue
			}
			out = append(out, run(r, Input{Account: acct, Doc: doc, Now: now, Options: opts})...)
		}
	}
	if doc.Organization != nil {
		for _, r := range rules {
			if r.Scope != OrganizationScope {
				continue
			}
			out = append(out, runOrg(r, Input{Doc: doc, Now: now, Options: opts}))
		}
	}
	SortResults(out)
	return out
}

func run(r Rule, in Input) []Result {
	acct := in.Account
	o := r.Check(in)
	if len(o.Resources) == 0 {
		return []Result{account(r, acct, o, acct.RootARN())}
	}
	out := make([]Result, 0, len(o.Resources))
	for _, ro := range o.Resources {
		out = append(out, account(r, acct, Outcome{Status: ro.Status, Message: ro.Message, Evidence: ro.Evidence}, ro.Resource))
	}
	return out
}

func account(r Rule, acct *snapshot.Account, o Outcome, resource string) Result {
	res := newResult(r, o, acct.ID, acct.Partition, resource)
	res.AccountName = acct.Name
	if acct.Role() == snapshot.RoleManagement {
		res.ManagementAccount = true
		if res.Status == Fail {
			if res.Severity < Critical {
				res.Severity++
			}
			res.Message += managementNote
		}
	}
	return res
}

func runOrg(r Rule, in Input) Result {
	org := in.Doc.Organization
	partition := "aws"
	for _, a := range in.Doc.Accounts {
		if a.ID == org.ManagementAccountID && a.Partition != "" {
			partition = a.Partition
		}
	}
	resource := "arn:" + partition + ":organizations::" + org.ManagementAccountID + ":organization/" + org.ID
	return newResult(r, r.Check(in), org.ManagementAccountID, partition, resource)
}

// newResult joins a rule's metadata to what its check found.
func newResult(r Rule, o Outcome, accountID, partition, resource string) Result {
	return Result{
		RuleID:       r.ID,
		Title:        r.Title,
		Status:       o.Status,
		Severity:     r.Severity,
		RuleSeverity: r.Severity,
		Category:     r.Category,
		Service:      r.Service,
		AccountID:    accountID,
		Partition:    partition,
		Resource:     resource,
		Message:      o.Message,
		Evidence:     o.Evidence,
	}
}

// SortResults orders results by account ID, then rule ID, then resource:
// the order of the JSON document.
func SortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Resource < b.Resource
	})
}
