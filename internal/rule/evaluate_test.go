package rule

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// reference is what Evaluate gave before it wrote results by blocks: every
// result in account, then rule order, then one stable sort of the whole.
func reference(rules []Rule, doc *snapshot.Document, now time.Time) []Result {
	var out []Result
	for i := range doc.Accounts {
		acct := &doc.Accounts[i]
		for k := range rules {
			if rules[k].Scope != AccountScope {
				continue
			}
			c := checked{rule: &rules[k], acct: acct, o: rules[k].Check(Input{Account: acct, Doc: doc, Now: now}), meta: &Meta{}}
			out = c.appendTo(out, doc)
		}
	}
	if doc.Organization != nil {
		for k := range rules {
			if rules[k].Scope == OrganizationScope {
				out = append(out, orgResult(rules[k], doc, rules[k].Check(Input{Doc: doc, Now: now}), &Meta{}))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return compareResults(&out[i], &out[j]) < 0 })
	return out
}

// manyUsers is a rule about many resources, given out of order, some
// sharing outcomes, some with their own.
func manyUsers(id string, n int, seed uint64) Rule {
	return Rule{ID: id, Title: id, Check: func(in Input) Outcome {
		r := rand.New(rand.NewPCG(seed, uint64(len(in.Account.ID))))
		set := NewResourceSet(n)
		pass := set.Share(Pass, "fine", []Evidence{{Source: "test", Key: "k", Value: "shared"}})
		na := set.Share(NotApplicable, "not this", []Evidence{{Source: "test"}})
		for _, i := range r.Perm(n) {
			arn := fmt.Sprintf("arn:aws:iam::%s:user/u%03d", in.Account.ID, i)
			switch i % 3 {
			case 0:
				set.AddShared(arn, pass)
			case 1:
				set.AddShared(arn, na)
			default:
				set.Add(ResourceOutcome{Resource: arn, Status: Fail, Message: "bad " + arn, Evidence: []Evidence{{Source: "test", Value: arn}}})
			}
		}
		return Outcome{Status: Fail, Set: set}
	}}
}

func TestEvaluateMatchesOneStableSort(t *testing.T) {
	whole := func(id string, st Status) Rule {
		return Rule{ID: id, Title: id, Check: func(Input) Outcome { return Outcome{Status: st, Message: id} }}
	}
	list := func(id string) Rule {
		return Rule{ID: id, Title: id, Check: func(in Input) Outcome {
			return Outcome{Status: Fail, Resources: []ResourceOutcome{
				{Resource: "arn:aws:iam::" + in.Account.ID + ":role/z", Status: Fail, Message: "z"},
				{Resource: "arn:aws:iam::" + in.Account.ID + ":role/a", Status: Pass, Message: "a"}}}
		}}
	}
	rules := []Rule{whole("zz-last", Pass), manyUsers("users-b", 300, 1), whole("aa-first", Fail), list("roles"), manyUsers("users-a", 50, 2),
		{ID: "org-rule", Title: "org", Scope: OrganizationScope, Check: func(Input) Outcome { return Outcome{Status: Pass, Message: "org"} }}}
	doc := &snapshot.Document{Organization: &snapshot.Organization{ID: "o-abc", ManagementAccountID: "222222222222"}}
	for _, id := range []string{"333333333333", "111111111111", "222222222222"} {
		doc.Accounts = append(doc.Accounts, snapshot.Account{ID: id, Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleMember}})
	}
	doc.Accounts[2].Org.Role = snapshot.RoleManagement
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, dup := range []bool{false, true} {
		d := *doc
		if dup {
			// The same account twice: blocks with equal keys.
			d.Accounts = append(append([]snapshot.Account(nil), doc.Accounts...), doc.Accounts[0])
		}
		got, want := Evaluate(rules, &d, now, Options{}), reference(rules, &d, now)
		if len(got) != len(want) {
			t.Fatalf("dup=%v: %d results, want %d", dup, len(got), len(want))
		}
		if !reflect.DeepEqual(got, want) {
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("dup=%v: result %d = %+v, want %+v", dup, i, got[i], want[i])
				}
			}
		}
		if n := 3 * (300 + 50 + 2 + 2); !dup && len(got) != n+1 {
			t.Errorf("%d results, want %d", len(got), n+1)
		}
	}
}

func TestSortByResource(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for n := range 200 {
		rs := make([]Result, n)
		for i := range rs {
			// Few distinct resources, so that stability shows.
			rs[i] = Result{Resource: fmt.Sprint(r.IntN(n/3 + 1)), Message: fmt.Sprint(i)}
		}
		want := slices.Clone(rs)
		sort.SliceStable(want, func(i, j int) bool { return want[i].Resource < want[j].Resource })
		sortByResource(rs)
		if !reflect.DeepEqual(rs, want) {
			t.Fatalf("n=%d: got %v, want %v", n, rs, want)
		}
	}
}

func TestResourceSet(t *testing.T) {
	set := NewResourceSet(3)
	ev := make([]Evidence, 1, 8) // room to append in place, if not clipped
	ev[0] = Evidence{Source: "s"}
	h := set.Share(Pass, "ok", ev)
	set.AddShared("arn:1", h)
	set.Add(ResourceOutcome{Resource: "arn:2", Status: Fail, Message: "own"})
	set.AddShared("arn:3", h)
	if set.Len() != 3 || set.Count(Pass) != 2 || set.Count(Fail) != 1 || set.Count(Unknown) != 0 {
		t.Fatalf("len %d, counts pass %d fail %d", set.Len(), set.Count(Pass), set.Count(Fail))
	}
	got := Outcome{Set: set}.PerResource()
	if got[0].Resource != "arn:1" || got[0].Message != "ok" || got[1].Message != "own" || got[2].Resource != "arn:3" {
		t.Fatalf("%+v", got)
	}
	// Results sharing an outcome share its evidence; appending to one
	// must not change another's.
	a := append(got[0].Evidence, Evidence{Source: "extra"})
	if len(got[2].Evidence) != 1 || &a[0] == &got[2].Evidence[0] {
		t.Error("shared evidence can be appended to in place")
	}
	var nilSet *ResourceSet
	if nilSet.Len() != 0 || (Outcome{}).resourceCount() != 0 {
		t.Error("empty outcome has resources")
	}
}

// TestResourceSetOver: sets over one shared list of resources give the
// same results as sets of their own; a resource added out of the list's
// order gets its set a copy, and the shared list is never written.
func TestResourceSetOver(t *testing.T) {
	list := []string{"arn:1", "arn:2", "arn:3"}
	in := Input{shared: map[any]any{}}
	type key struct{}
	built := 0
	shared := func() []string {
		return in.Shared(key{}, func() any { built++; return list }).([]string)
	}
	a, b := NewResourceSetOver(shared()), NewResourceSetOver(shared())
	if built != 1 {
		t.Fatalf("the shared list was built %d times within one account", built)
	}
	ha, hb := a.Share(Pass, "ok", nil), b.Share(Pass, "ok", nil)
	for _, r := range list {
		a.AddShared(r, ha)
	}
	b.AddShared("arn:1", hb)
	b.Add(ResourceOutcome{Resource: "arn:9", Status: Fail, Message: "own"})
	b.AddShared("arn:3", hb)
	b.AddShared("arn:4", hb)
	if !slices.Equal(list, []string{"arn:1", "arn:2", "arn:3"}) {
		t.Fatalf("the shared list was changed: %q", list)
	}
	if &a.added()[0] != &list[0] {
		t.Error("a set added in the list's order copied it")
	}
	var got []string
	for _, o := range (Outcome{Set: b}).PerResource() {
		got = append(got, o.Resource+" "+string(o.Status))
	}
	if want := []string{"arn:1 PASS", "arn:9 FAIL", "arn:3 PASS", "arn:4 PASS"}; !slices.Equal(got, want) {
		t.Errorf("set out of order: %q, want %q", got, want)
	}
	if a.Len() != 3 || b.Len() != 4 || b.Count(Fail) != 1 {
		t.Errorf("len %d and %d, fails %d", a.Len(), b.Len(), b.Count(Fail))
	}
	part := NewResourceSetOver(list)
	part.AddShared("arn:1", part.Share(Pass, "ok", nil))
	if part.Len() != 1 || len((Outcome{Set: part}).PerResource()) != 1 {
		t.Errorf("a set over 3 resources with 1 added has %d", part.Len())
	}
	if n := 0; (Input{}).Shared(key{}, func() any { n++; return n }) != 1 || (Input{}).Shared(key{}, func() any { n++; return n }) != 2 {
		t.Error("outside Evaluate, Shared must build at each call")
	}
}

// TestEvaluateSetsOverOneList: rules whose sets are over one shared list
// of resources come out sorted by resource whether the list is sorted or
// not (Evaluate checks a shared list's order once, not each set's), the
// same as the reference.
func TestEvaluateSetsOverOneList(t *testing.T) {
	for _, list := range [][]string{{"arn:a", "arn:b", "arn:c", "arn:d"}, {"arn:c", "arn:a", "arn:d", "arn:b"}} {
		over := func(id string, st Status) Rule {
			return Rule{ID: id, Check: func(in Input) Outcome {
				type key struct{}
				l := in.Shared(key{}, func() any { return slices.Clone(list) }).([]string)
				set := NewResourceSetOver(l)
				h := set.Share(st, id, nil)
				for _, r := range l {
					if r == "arn:b" {
						set.Add(ResourceOutcome{Resource: r, Status: Fail, Message: "own"})
						continue
					}
					set.AddShared(r, h)
				}
				return Outcome{Set: set}
			}}
		}
		rules := []Rule{over("r2", Pass), over("r1", NotApplicable), over("r3", Unknown)}
		doc := &snapshot.Document{Accounts: []snapshot.Account{{ID: "2"}, {ID: "1"}}}
		got, want := Evaluate(rules, doc, time.Time{}, Options{}), reference(rules, doc, time.Time{})
		if len(got) != 24 || !sorted(got, compareResults) {
			t.Fatalf("list %q: %d results, sorted %v", list, len(got), sorted(got, compareResults))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.AccountID != w.AccountID || g.RuleID != w.RuleID || g.Resource != w.Resource || g.Status != w.Status || g.Message != w.Message {
				t.Errorf("list %q, result %d: %s %s %s %s, want %s %s %s %s", list, i, g.AccountID, g.RuleID, g.Resource, g.Status, w.AccountID, w.RuleID, w.Resource, w.Status)
			}
		}
	}
}

// TestManagementAccountRaisesRootRulesOnly: a root-user failure in the
// management account is raised one severity and says why; a failure of a
// rule about IAM users or policies there is left as it is, since SCPs and
// centralised root access have nothing to do with it.
func TestManagementAccountRaisesRootRulesOnly(t *testing.T) {
	fail := Outcome{Status: Fail, Message: "failed."}
	root := Rule{ID: "root-x", Title: "root", Severity: High, RootUser: true, Check: func(Input) Outcome { return fail }}
	users := Rule{ID: "iam-x", Title: "users", Severity: Low, Check: func(Input) Outcome { return fail }}
	perUser := Rule{ID: "iam-y", Title: "per user", Severity: Low, Check: func(Input) Outcome {
		return Outcome{Status: Fail, Resources: []ResourceOutcome{{Resource: "arn:aws:iam::222222222222:user/a", Status: Fail, Message: "failed."}}}
	}}
	doc := &snapshot.Document{Organization: &snapshot.Organization{ID: "o-abc", ManagementAccountID: "222222222222"},
		Accounts: []snapshot.Account{{ID: "222222222222", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleManagement}}}}
	got := Evaluate([]Rule{root, users, perUser}, doc, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Options{})
	if len(got) != 3 {
		t.Fatalf("%d results", len(got))
	}
	for _, r := range got {
		if !r.ManagementAccount {
			t.Errorf("%s: not marked as the management account's", r.RuleID)
		}
		switch r.RuleID {
		case "root-x":
			if r.Severity != Critical || r.Message != "failed."+managementNote {
				t.Errorf("root rule: %s %q", r.Severity, r.Message)
			}
		case "iam-x", "iam-y":
			if r.Severity != Low || r.Message != "failed." {
				t.Errorf("IAM rule: %s %q", r.Severity, r.Message)
			}
		}
	}
}

// TestManagementAccountRaisePerResource: the same holds for rules that
// answer per resource, in both forms (Resources and Set), whose results
// are copied from one template per block.
func TestManagementAccountRaisePerResource(t *testing.T) {
	set := NewResourceSet(3)
	set.Add(ResourceOutcome{Resource: "arn:aws:iam::222222222222:user/b", Status: Fail, Message: "failed."})
	// A shared failure is raised too, for each of the resources sharing it.
	shared := set.Share(Fail, "failed.", nil)
	set.AddShared("arn:aws:iam::222222222222:user/c", shared)
	set.AddShared("arn:aws:iam::222222222222:user/d", shared)
	list := Outcome{Status: Fail, Resources: []ResourceOutcome{{Resource: "arn:aws:iam::222222222222:user/a", Status: Fail, Message: "failed."}}}
	doc := &snapshot.Document{Organization: &snapshot.Organization{ID: "o-abc", ManagementAccountID: "222222222222"},
		Accounts: []snapshot.Account{{ID: "222222222222", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleManagement}}}}
	for _, root := range []bool{false, true} {
		rs := []Rule{
			{ID: "list", Title: "list", Severity: Low, RootUser: root, Check: func(Input) Outcome { return list }},
			{ID: "set", Title: "set", Severity: Low, RootUser: root, Check: func(Input) Outcome { return Outcome{Status: Fail, Set: set} }},
		}
		got := Evaluate(rs, doc, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Options{})
		if len(got) != 4 {
			t.Fatalf("%d results", len(got))
		}
		for _, r := range got {
			want, msg := Low, "failed."
			if root {
				want, msg = Medium, "failed."+managementNote
			}
			if r.Severity != want || r.Message != msg || !r.ManagementAccount {
				t.Errorf("root rule %v, %s: %s %q (management %v)", root, r.RuleID, r.Severity, r.Message, r.ManagementAccount)
			}
		}
	}
}

// TestResultsShareMeta: the results of one rule in one account share
// their metadata, and no two blocks do; a result stays 96 bytes (the
// 100,000-user report makes 500,000 of them: see BENCHMARKS.md).
func TestResultsShareMeta(t *testing.T) {
	if n := unsafe.Sizeof(Result{}); n > 96 {
		t.Errorf("rule.Result is %d bytes, over 96: what every result of a rule in an account has in common belongs in Meta", n)
	}
	doc := &snapshot.Document{Accounts: []snapshot.Account{{ID: "111111111111", Name: "one"}, {ID: "222222222222", Name: "two"}}}
	rs := []Rule{manyUsers("many", 30, 1), {ID: "single", Title: "single", Severity: High, Category: "c", Service: "s",
		Check: func(Input) Outcome { return Outcome{Status: Pass} }}}
	got := Evaluate(rs, doc, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Options{})
	blocks := map[*Meta]string{}
	for _, r := range got {
		block := r.AccountID + " " + r.RuleID
		if b, ok := blocks[r.Meta]; ok && b != block {
			t.Errorf("%s and %s share a Meta", b, block)
		}
		blocks[r.Meta] = block
	}
	if len(blocks) != 4 {
		t.Errorf("%d metas for 2 rules in 2 accounts", len(blocks))
	}
	for m, b := range blocks {
		want := Meta{RuleID: "single", Title: "single", RuleSeverity: High, Category: "c", Service: "s", AccountID: "111111111111", AccountName: "one"}
		if b == "111111111111 single" && *m != want {
			t.Errorf("%s: %+v, want %+v", b, *m, want)
		}
	}
}

// TestEvaluatingNamesTheAccountRules: within Evaluate a check learns which
// account rules run beside it (organisation rules are not among them)
// and that Shared builds once; outside Evaluate, neither.
func TestEvaluatingNamesTheAccountRules(t *testing.T) {
	var got []string
	probe := func(in Input) Outcome {
		got = append(got, fmt.Sprint(in.Shares(), in.Evaluating("a"), in.Evaluating("b"), in.Evaluating("org"), in.Evaluating("absent")))
		return Outcome{Status: Pass}
	}
	rules := []Rule{{ID: "a", Scope: AccountScope, Check: probe}, {ID: "b", Scope: AccountScope, Check: probe},
		{ID: "org", Scope: OrganizationScope, Check: func(Input) Outcome { return Outcome{Status: Pass} }}}
	doc := &snapshot.Document{Accounts: []snapshot.Account{{ID: "111122223333"}}}
	Evaluate(rules, doc, time.Unix(0, 0), DefaultOptions())
	probe(Input{})
	want := []string{"true true true false false", "true true true false false", "false false false false false"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestAppendWithCopiesEveryField: appendWith copies a result field by
// field, so every field of Result, set here by reflection, must come
// out as it went in (the resource replaced), into spare capacity that
// held another result and into a full slice alike.
func TestAppendWithCopiesEveryField(t *testing.T) {
	var tmpl Result
	v := reflect.ValueOf(&tmpl).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.String:
			f.SetString("x" + v.Type().Field(i).Name)
		case reflect.Int:
			f.SetInt(int64(i + 1))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		default:
			t.Fatalf("field %s of kind %s: teach this test to set it", v.Type().Field(i).Name, f.Kind())
		}
	}
	want := tmpl
	want.Resource = "arn:aws:iam::111122223333:user/u"
	spare := make([]Result, 1, 2)
	spare[:2][1] = Result{Status: Fail, Message: "stale", Suppression: &Suppression{}}
	for _, out := range [][]Result{spare, make([]Result, 1)} {
		out = appendWith(out, &tmpl, want.Resource)
		if !reflect.DeepEqual(out[1], want) {
			t.Errorf("appendWith gave %+v, want %+v", out[1], want)
		}
	}
	if tmpl.Resource == want.Resource {
		t.Error("appendWith changed the template")
	}
}
