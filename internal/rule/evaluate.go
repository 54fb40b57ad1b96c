package rule

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// managementNote is appended to root-user failures in a management account: SCPs do
// not apply there and AssumeRoot cannot reach it, so its root user can only
// be protected by removing credentials.
const managementNote = " This is the organisation's management account: no SCP can restrict its root user and centralised root access cannot reach it."

// Evaluate runs every rule against the document and returns the results
// sorted by account ID, then rule ID, then resource.
//
// Every check runs first; the results are then written once into a slice
// of their exact number, a rule's block at a time in sorted order, so
// that an account with 100,000 IAM users costs one result each and no
// regrowing or re-sorting of hundreds of thousands of results.
func Evaluate(rules []Rule, doc *snapshot.Document, now time.Time, opts Options) []Result {
	var done []checked
	total := 0
	for i := range doc.Accounts {
		acct := &doc.Accounts[i]
		shared := map[any]any{}
		for k := range rules {
			r := &rules[k]
			if r.Scope != AccountScope {
				continue
			}
			o := r.Check(Input{Account: acct, Doc: doc, Now: now, Options: opts, shared: shared, rules: rules})
			total += max(o.resourceCount(), 1)
			done = append(done, checked{rule: r, acct: acct, accountID: acct.ID, o: o})
		}
	}
	if org := doc.Organization; org != nil {
		for k := range rules {
			r := &rules[k]
			if r.Scope != OrganizationScope {
				continue
			}
			total++
			done = append(done, checked{rule: r, accountID: org.ManagementAccountID, o: r.Check(Input{Doc: doc, Now: now, Options: opts})})
		}
	}
	out := make([]Result, 0, total)
	// Each block's results share one Meta, and the blocks' metas are one
	// allocation: an organisation of thousands of accounts has a block
	// per account and rule, most of them one result.
	metas := make([]Meta, len(done))
	for i := range done {
		done[i].meta = &metas[i]
	}
	order := make([]int, len(done))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(strings.Compare(done[a].accountID, done[b].accountID), strings.Compare(done[a].rule.ID, done[b].rule.ID))
	})
	distinct := true
	for i := 1; i < len(order); i++ {
		a, b := done[order[i-1]], done[order[i]]
		if a.accountID == b.accountID && a.rule.ID == b.rule.ID {
			distinct = false
		}
	}
	if !distinct {
		// Two blocks with the same account and rule (an account listed
		// twice): sort the whole, as Evaluate always did.
		for _, c := range done {
			out = c.appendTo(out, doc)
		}
		SortResults(out)
		return out
	}
	// Whether a list of resources that sets share is sorted, found once
	// for all of them (six per-user rules over 100,000 users).
	type list struct {
		first *string
		n     int
	}
	listSorted := map[list]bool{}
	for _, i := range order {
		from := len(out)
		out = done[i].appendTo(out, doc)
		if s := done[i].o.Set; s != nil && s.over && len(s.which) == len(s.resources) && len(s.resources) > 0 {
			l := list{&s.resources[0], len(s.resources)}
			ok, seen := listSorted[l]
			if !seen {
				ok = slices.IsSorted(s.resources)
				listSorted[l] = ok
			}
			if ok {
				continue // its results are in the list's order
			}
		}
		sortByResource(out[from:])
	}
	return out
}

// checked is one rule's outcome for one account (acct nil for an
// organisation rule), before it becomes results.
type checked struct {
	rule      *Rule
	acct      *snapshot.Account
	accountID string
	o         Outcome
	// meta is where the block's results' metadata is written.
	meta *Meta
}

func (c checked) appendTo(out []Result, doc *snapshot.Document) []Result {
	r, acct, o := c.rule, c.acct, &c.o
	switch {
	case acct == nil:
		return append(out, orgResult(*r, doc, *o, c.meta))
	case o.Set != nil:
		// One template per block, copied per resource: the rule's
		// metadata and the account's are the same for every resource of
		// the block (one Meta), and a whole-struct copy costs less than
		// writing each field (and its write barrier) again.
		//
		// A shared outcome's results differ only in their resource, so
		// each shared outcome gets a template of its own, filled once
		// (its status, message and evidence, the management account's
		// note): a result is then one copy and its ARN, where filling
		// each copy again wrote four fields more through the write
		// barrier, 500,000 times for 100,000 users.
		t := account(*r, acct, Outcome{}, "", c.meta)
		raise := t.ManagementAccount && r.RootUser
		s := o.Set
		shared := make([]Result, len(s.shared))
		for h := range s.shared {
			so := &s.shared[h]
			shared[h] = t
			fill(&shared[h], so.Status, so.Message, so.Evidence, "", raise)
		}
		for i, res := range s.added() {
			if w := s.which[i]; w >= 0 {
				out = appendWith(out, &shared[w], res)
				continue
			}
			ro := s.outcome(i)
			out = append(out, t)
			fill(&out[len(out)-1], ro.Status, ro.Message, ro.Evidence, res, raise)
		}
		return out
	case len(o.Resources) > 0:
		t := account(*r, acct, Outcome{}, "", c.meta)
		for _, ro := range o.Resources {
			out = append(out, t)
			fill(&out[len(out)-1], ro.Status, ro.Message, ro.Evidence, ro.Resource, t.ManagementAccount && r.RootUser)
		}
		return out
	}
	return append(out, account(*r, acct, *o, acct.RootARN(), c.meta))
}

// appendWith appends a copy of t for the resource. Field by field: the
// compiler then records the pointers written in one batch of the write
// barrier, where a whole-result copy went through the runtime's bulk
// barrier, which walks the type's pointer map for each of the 600,000
// results of 100,000 users while the collector marks
// (TestAppendWithCopiesEveryField fails if Result gains a field this
// leaves out).
func appendWith(out []Result, t *Result, resource string) []Result {
	n := len(out)
	if n == cap(out) {
		out = append(out, *t)
		out[n].Resource = resource
		return out
	}
	out = out[:n+1]
	d := &out[n]
	d.Meta, d.Status, d.Severity, d.Resource, d.Message, d.Evidence, d.Suppression = t.Meta, t.Status, t.Severity, resource, t.Message, t.Evidence, t.Suppression
	return out
}

// fill sets what one resource's result has of its own on a copy of its
// block's template, as account would: raise says the failure is a
// root-user rule's in a management account.
func fill(res *Result, st Status, message string, evidence []Evidence, resource string, raise bool) {
	res.Status, res.Message, res.Evidence, res.Resource = st, message, evidence, resource
	if raise && st == Fail {
		if res.Severity < Critical {
			res.Severity++
		}
		res.Message += managementNote
	}
}

// sortByResource sorts one rule's results in one account by resource,
// stably, moving each result at most once: a sort that swaps results
// (96 bytes each) moves 100,000 of them millions of times.
func sortByResource(rs []Result) {
	less := func(a, b *Result) int { return strings.Compare(a.Resource, b.Resource) }
	if sorted(rs, less) {
		return
	}
	idx := make([]int32, len(rs))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return less(&rs[a], &rs[b]) })
	// rs[i] must become the old rs[idx[i]]: follow each cycle of the
	// permutation once, marking what is done by idx[j] = j.
	for i := range idx {
		if int(idx[i]) == i {
			continue
		}
		tmp := rs[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = int32(j)
			if k == i {
				rs[j] = tmp
				break
			}
			rs[j] = rs[k]
			j = k
		}
	}
}

// account is a result of r in acct, its metadata written to m.
func account(r Rule, acct *snapshot.Account, o Outcome, resource string, m *Meta) Result {
	res := newResult(r, o, acct.ID, acct.Partition, resource, m)
	m.AccountName = acct.Name
	if acct.Role() == snapshot.RoleManagement {
		m.ManagementAccount = true
		if res.Status == Fail && r.RootUser {
			if res.Severity < Critical {
				res.Severity++
			}
			res.Message += managementNote
		}
	}
	return res
}

func orgResult(r Rule, doc *snapshot.Document, o Outcome, m *Meta) Result {
	org := doc.Organization
	partition := "aws"
	for _, a := range doc.Accounts {
		if a.ID == org.ManagementAccountID && a.Partition != "" {
			partition = a.Partition
		}
	}
	resource := "arn:" + partition + ":organizations::" + org.ManagementAccountID + ":organization/" + org.ID
	return newResult(r, o, org.ManagementAccountID, partition, resource, m)
}

// newResult joins a rule's metadata, written to m, to what its check
// found.
func newResult(r Rule, o Outcome, accountID, partition, resource string, m *Meta) Result {
	*m = Meta{RuleID: r.ID, Title: r.Title, RuleSeverity: r.Severity, Category: r.Category, Service: r.Service,
		AccountID: accountID, Partition: partition}
	return Result{Meta: m, Status: o.Status, Severity: r.Severity, Resource: resource, Message: o.Message, Evidence: o.Evidence}
}

// SortResults orders results by account ID, then rule ID, then resource:
// the order of the JSON document.
func SortResults(rs []Result) {
	if sorted(rs, compareResults) {
		return // as Evaluate leaves them: report.Build sorts again
	}
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

// sorted is slices.IsSortedFunc without copying each result.
func sorted(rs []Result, cmp func(a, b *Result) int) bool {
	for i := 1; i < len(rs); i++ {
		if cmp(&rs[i-1], &rs[i]) > 0 {
			return false
		}
	}
	return true
}

func compareResults(a, b *Result) int {
	return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.Resource, b.Resource))
}
