package scenario

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// orgCalls counts a run's Organizations calls by action.
func orgCalls(r orgRun) map[string]int {
	out := map[string]int{}
	for _, c := range r.srv.Calls() {
		if c.Service == "organizations" {
			out[c.Action]++
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestOrgNamedAccountsDescribed: a run that names its accounts describes
// them (DescribeAccount, and their chain of parents) instead of listing
// the organisation: its Organizations calls are the same few in an
// organisation of 40 accounts and one of 1,200 — what vigil serve's job
// per account makes, once per account per tick — and what it reports of
// each account (its name, its OU path, its membership) is what listing
// the whole organisation reports.
func TestOrgNamedAccountsDescribed(t *testing.T) {
	t.Parallel()
	id := awsemu.OrgWorldAccountID(7)
	var counts []int
	for _, n := range []int{40, 1200} {
		w := awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 3})
		for _, structure := range []fleet.Structure{fleet.StructureNone, fleet.StructureSelected} {
			named := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: []string{id}, Structure: structure})
			checkOrg(t, named, []string{id}, nil)
			calls := orgCalls(named)
			for _, listing := range []string{"ListAccounts", "ListAccountsForParent", "ListOrganizationalUnitsForParent", "ListChildren"} {
				if calls[listing] != 0 {
					t.Errorf("%d accounts, structure %d: %s called %d times by a run naming one account", n, structure, listing, calls[listing])
				}
			}
			if calls["DescribeAccount"] != 1 {
				t.Errorf("%d accounts: DescribeAccount called %d times, want 1", n, calls["DescribeAccount"])
			}
			if structure == fleet.StructureNone {
				// No SCPs: the run keeps only the account's own results.
				if calls["ListPolicies"] != 0 {
					t.Errorf("StructureNone read the SCPs: %v", calls)
				}
				if named.doc.Organization.Controls != nil {
					t.Error("StructureNone reported the organisation's controls")
				}
				counts = append(counts, total(calls))
			}
			if n > 100 {
				continue
			}
			whole := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: []string{id}, Structure: fleet.StructureWhole})
			if whole.srv.CallCount("organizations", "ListAccounts") == 0 {
				t.Error("StructureWhole did not list the organisation")
			}
			a, b := named.doc.Accounts[0], whole.doc.Accounts[0]
			if len(a.OUPath) < 2 {
				t.Errorf("OU path %v: want the root and at least one OU", a.OUPath)
			}
			if diff := cmp.Diff([]any{b.Name, b.Email, b.OUPath, b.Org}, []any{a.Name, a.Email, a.OUPath, a.Org}); diff != "" {
				t.Errorf("described account differs from the listed one (-listed +described):\n%s", diff)
			}
			if structure == fleet.StructureSelected {
				c := named.doc.Organization.Controls
				if c == nil || len(c.Accounts) != 1 || c.Accounts[0].ID != id || c.Root == nil {
					t.Errorf("controls of a named run: %+v", c)
				}
			}
		}
	}
	t.Logf("Organizations calls for one named account: %v", counts)
	if counts[0] != counts[1] || counts[0] > 10 {
		t.Errorf("Organizations calls for one named account: %d in 41 accounts, %d in 1,201; want the same few", counts[0], counts[1])
	}
}

// TestOrgNamedAccountsWithOUs: named accounts with --ou are scanned when
// they sit below a selected OU (by path or ID) and reported as skipped,
// and the run incomplete, when they do not; an OU that does not exist is
// refused as when the tree is walked.
func TestOrgNamedAccountsWithOUs(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(60, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 2})
	var workloads string
	for _, ou := range w.Organization.OUs {
		if ou.Name == "Workloads" && ou.ParentID == w.Organization.RootID {
			workloads = ou.ID
		}
	}
	isUnder := func(a *awsemu.Account) bool {
		for p := a.ParentID; p != "" && p != w.Organization.RootID; {
			if p == workloads {
				return true
			}
			for _, ou := range w.Organization.OUs {
				if ou.ID == p {
					p = ou.ParentID
					break
				}
			}
		}
		return false
	}
	var in, out []string
	for _, a := range w.Accounts[1:] {
		switch {
		case isUnder(a) && len(in) < 2:
			in = append(in, a.ID)
		case !isUnder(a) && len(out) < 1:
			out = append(out, a.ID)
		}
	}
	if workloads == "" || len(in) < 2 || len(out) < 1 {
		t.Fatalf("test world has no Workloads OU with accounts on both sides")
	}
	for _, ous := range [][]string{{"Workloads"}, {workloads}} {
		r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: append(slices.Clone(in), out...), OUs: ous})
		checkOrg(t, r, in, out)
		if r.doc.Organization.Skipped[0].Reason != fleet.ReasonNotUnderOU {
			t.Errorf("--ou %v: %s skipped because %q", ous, out[0], r.doc.Organization.Skipped[0].Reason)
		}
		if r.doc.Incomplete == nil || !strings.Contains(r.doc.Incomplete.Reason, out[0]) {
			t.Errorf("--ou %v: the run does not say the account asked for was missed: %+v", ous, r.doc.Incomplete)
		}
		if !strings.Contains(r.doc.Organization.Scope, "Root/Workloads") {
			t.Errorf("scope %q does not name the OU", r.doc.Organization.Scope)
		}
		if n := r.srv.CallCount("organizations", "ListAccounts") + r.srv.CallCount("organizations", "ListAccountsForParent"); n != 0 {
			t.Errorf("--ou %v with named accounts listed accounts %d times", ous, n)
		}
	}
	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: in, OUs: []string{"Workloads/Nope"}})
	if r.err == nil || !strings.Contains(r.err.Error(), `no OU named "Nope" under Root/Workloads`) || !strings.Contains(r.err.Error(), "Security-1") {
		t.Errorf("err = %v, want one naming the missing OU and the ones that exist", r.err)
	}
	r = runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: in, OUs: []string{"ou-zzzz-99999999"}})
	if r.err == nil || !strings.Contains(r.err.Error(), "no such OU") {
		t.Errorf("err = %v, want no such OU", r.err)
	}
}

// TestOrgNamedAccountsDeniedFallsBack: a caller whose policy predates
// organizations:DescribeAccount still scans the accounts it names, by
// listing the organisation as before, with a warning that says why.
func TestOrgNamedAccountsDeniedFallsBack(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(20, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 1})
	id := awsemu.OrgWorldAccountID(4)
	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: []string{id}},
		awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "DescribeAccount", Code: "AccessDeniedException"}))
	var skipped []string
	for _, a := range w.Accounts {
		if a.ID != id {
			skipped = append(skipped, a.ID)
		}
	}
	checkOrg(t, r, []string{id}, skipped)
	if r.srv.CallCount("organizations", "ListAccounts") == 0 {
		t.Error("the run did not fall back to listing")
	}
	if !strings.Contains(r.logs.String(), "cannot describe the named accounts") {
		t.Errorf("no warning about the fallback: %s", r.logs.String())
	}
	if len(r.doc.Accounts) != 1 || len(r.doc.Accounts[0].OUPath) == 0 {
		t.Errorf("accounts %+v", r.doc.Accounts)
	}
}
