package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Organizations nests OUs at most five levels below the root; a chain of
// parents longer than this is a loop in a broken answer, not a tree.
const maxOUDepth = 8

// errNamedDenied says the caller may not describe accounts or their
// parents: the run lists the organisation instead.
var errNamedDenied = errors.New("describing the named accounts is denied")

// named reports whether the run finds its accounts by describing them.
func (s *orgRun) named() bool {
	return len(s.o.Accounts) > 0 && s.o.Structure != StructureWhole
}

// describeNamed finds the accounts the run names without listing the
// organisation: organizations:DescribeAccount for each, then its chain of
// parents (ListParents, and DescribeOrganizationalUnit for each OU's
// name) up to the root, which gives its OU path and decides --ou. An
// account of a 5,000-account organisation costs the same few calls as
// one of a 5-account organisation; vigil serve scans every account of a
// tick in a job of its own, so listing the organisation per account cost
// it O(accounts²) calls.
//
// Every account is described before any is queued, so that a caller whose
// policy predates these calls (errNamedDenied) falls back to listing the
// organisation with nothing scanned twice. An account that is not a member
// is left out (the result names it as missing); a call that fails
// otherwise stops the description like a failed listing does.
func (s *orgRun) describeNamed(ctx context.Context, found func([]orgtypes.Account)) error {
	t := newTree()
	w := newWalker(ctx, s.bound)
	// The root's policy types are what the controls need, and --ou paths
	// start from its name; otherwise the chains of parents find the root
	// on their own (ListParents says which parent is the root).
	if s.o.Structure != StructureNone || len(s.o.OUs) > 0 {
		if g := readRoot(ctx, w, s.orgs, t); g != nil {
			w.wait()
			return namedFailure(g, nil)
		}
	}
	var (
		mu     sync.Mutex
		denied error
		fail   = func(call string, err error) *snapshot.Gap {
			g := collect.NewGap(snapshot.SectionOrganization, call, err)
			if kind, _ := collect.Classify(err); kind == collect.KindDenied || kind == collect.KindCredentials {
				mu.Lock()
				denied = err
				mu.Unlock()
			}
			return &g
		}
	)

	// --ou values are resolved first: an OU that does not exist is the
	// user's error, as it is when the tree is walked.
	var selected []string
	if len(s.o.OUs) > 0 {
		for _, want := range s.o.OUs {
			if ouIDPattern.MatchString(want) && strings.HasPrefix(want, "ou-") {
				if err := placeOU(ctx, w, s.orgs, t, want); err != nil {
					var nf *orgtypes.OrganizationalUnitNotFoundException
					if errors.As(err, &nf) {
						w.wait()
						return fmt.Errorf("--ou %s: no such OU or root in the organisation", want)
					}
					g := fail(callOf(err), err)
					w.wait()
					return namedFailure(g, denied)
				}
				continue
			}
			if !ouIDPattern.MatchString(want) {
				if err := listPathOUs(ctx, w, s.orgs, t, want); err != nil {
					g := fail(callOf(err), err)
					w.wait()
					return namedFailure(g, denied)
				}
			}
		}
		var labels []string
		for _, want := range s.o.OUs {
			id, err := t.resolve(want)
			if err != nil {
				w.wait()
				return err
			}
			selected = append(selected, id)
			labels = append(labels, strings.Join(t.pathOf(id), "/"))
		}
		s.mu.Lock()
		s.ouLabels = labels
		s.mu.Unlock()
	}

	ids := slices.Clone(s.o.Accounts)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var (
		accts   []orgtypes.Account
		outside = map[string]bool{} // not below the selected OUs
		gaps    []snapshot.Gap      // paths that could not be read
	)
	for _, id := range ids {
		w.do(func(ctx context.Context) *snapshot.Gap {
			out, err := call(w, ctx, func(ctx context.Context) (*organizations.DescribeAccountOutput, error) {
				return s.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
			})
			var nf *orgtypes.AccountNotFoundException
			switch {
			case errors.As(err, &nf):
				return nil // not a member: the result says so
			case err != nil:
				return fail("organizations:DescribeAccount", err)
			case out.Account == nil:
				return nil
			}
			m := memberOf(*out.Account)
			mu.Lock()
			accts = append(accts, *out.Account)
			mu.Unlock()
			if s.selection(m) != "" {
				return nil // skipped anyway: its place does not matter
			}
			if err := placeAccount(ctx, w, s.orgs, t, id); err != nil {
				g := fail(callOf(err), err)
				if kind, _ := collect.Classify(err); kind == collect.KindDenied || kind == collect.KindCredentials || len(selected) > 0 {
					// Without its place, --ou cannot be decided.
					return g
				}
				g.Message = "the OU path of " + id + " is unknown: " + g.Message
				mu.Lock()
				gaps = append(gaps, *g)
				mu.Unlock()
				return nil
			}
			if len(selected) > 0 && !t.under(id, selected) {
				mu.Lock()
				outside[id] = true
				mu.Unlock()
			}
			return nil
		})
	}
	if g := w.wait(); g != nil {
		if ctx.Err() != nil {
			return nil
		}
		return namedFailure(g, denied)
	}

	s.mu.Lock()
	s.tree = t
	s.orgGaps = append(s.orgGaps, gaps...)
	s.complete, s.described = true, true
	s.mu.Unlock()
	slices.SortFunc(accts, func(a, b orgtypes.Account) int { return strings.Compare(aws.ToString(a.Id), aws.ToString(b.Id)) })
	var in []orgtypes.Account
	for _, a := range accts {
		if outside[aws.ToString(a.Id)] {
			s.outsideOUs(memberOf(a))
			continue
		}
		in = append(in, a)
	}
	found(in)
	return nil
}

// namedFailure is what a failed description means: a denial falls back
// to listing; anything else stops the run's discovery as a failed listing
// would.
func namedFailure(g *snapshot.Gap, denied error) error {
	if denied != nil {
		if kind, code := collect.Classify(denied); kind == collect.KindCredentials {
			return &collect.CredentialError{Call: g.Call, Code: code, Err: denied}
		}
		return fmt.Errorf("%w: %s: %s", errNamedDenied, g.Call, g.Text())
	}
	return &namedGap{g: *g}
}

// namedGap is a description that failed for a reason other than a
// denial; discover records it as the reason discovery stopped.
type namedGap struct{ g snapshot.Gap }

func (e *namedGap) Error() string { return e.g.Call + ": " + e.g.Text() }

// outsideOUs records a named account that is not below the selected OUs:
// skipped with the reason, so the run says it was asked for and missed.
func (s *orgRun) outsideOUs(m member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID[m.id] != nil {
		return
	}
	m.skip = ReasonNotUnderOU
	sl := &slot{member: m}
	s.byID[m.id] = sl
	s.members = append(s.members, sl)
}

// callError names the call that failed.
type callError struct {
	call string
	err  error
}

func (e *callError) Error() string { return e.call + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func callOf(err error) string {
	var ce *callError
	if errors.As(err, &ce) {
		return ce.call
	}
	return "organizations:ListParents"
}

// parentOf is the one parent of an account or OU. A parent that is the
// root is recorded as the tree's root when the root was not read (it is
// named "Root": Organizations does not let a root be renamed).
func parentOf(ctx context.Context, w *walker, c Organizations, t *tree, child string) (string, error) {
	out, err := call(w, ctx, func(ctx context.Context) (*organizations.ListParentsOutput, error) {
		return c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
	})
	if err != nil {
		return "", &callError{"organizations:ListParents", err}
	}
	if len(out.Parents) == 0 || aws.ToString(out.Parents[0].Id) == "" {
		return "", &callError{"organizations:ListParents", fmt.Errorf("%s has no parent", child)}
	}
	id := aws.ToString(out.Parents[0].Id)
	if out.Parents[0].Type == orgtypes.ParentTypeRoot {
		t.mu.Lock()
		if t.rootID == "" {
			t.rootID, t.rootName = id, "Root"
		}
		t.mu.Unlock()
	}
	return id, nil
}

// placeAccount records where an account sits, reading the OUs above it
// that are not known yet.
func placeAccount(ctx context.Context, w *walker, c Organizations, t *tree, id string) error {
	parent, err := parentOf(ctx, w, c, t, id)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.parentOf[id] = parent
	t.mu.Unlock()
	return placeChain(ctx, w, c, t, parent)
}

// placeOU records an OU named by ID and the OUs above it.
func placeOU(ctx context.Context, w *walker, c Organizations, t *tree, id string) error {
	return placeChain(ctx, w, c, t, id)
}

// placeChain reads the OUs from id up to the root, stopping at the first
// one already known (the accounts of one OU share their chain; two
// workers may read the same OU at once, which costs a call, not a wrong
// answer).
func placeChain(ctx context.Context, w *walker, c Organizations, t *tree, id string) error {
	for range maxOUDepth {
		t.mu.Lock()
		known, ok := t.ous[id]
		root := id == t.rootID
		t.mu.Unlock()
		if root || ok && known.parent != "" {
			return nil
		}
		out, err := call(w, ctx, func(ctx context.Context) (*organizations.DescribeOrganizationalUnitOutput, error) {
			return c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
		})
		if err != nil {
			return &callError{"organizations:DescribeOrganizationalUnit", err}
		}
		parent, err := parentOf(ctx, w, c, t, id)
		if err != nil {
			return err
		}
		name := ""
		if out.OrganizationalUnit != nil {
			name = aws.ToString(out.OrganizationalUnit.Name)
		}
		t.mu.Lock()
		t.ous[id] = ouNode{name: name, parent: parent}
		t.mu.Unlock()
		id = parent
	}
	return &callError{"organizations:ListParents", fmt.Errorf("the chain of parents above %s is more than %d deep", id, maxOUDepth)}
}

// listPathOUs lists the OUs along a --ou path of names, one level at a
// time from the root, so that tree.resolve can follow it (and name the
// OUs there are where it cannot).
func listPathOUs(ctx context.Context, w *walker, c Organizations, t *tree, want string) error {
	parts := strings.Split(strings.Trim(want, "/"), "/")
	if len(parts) > 0 && parts[0] == t.rootName {
		parts = parts[1:]
	}
	cur := t.rootID
	for _, name := range parts {
		t.mu.Lock()
		listed := t.listed[cur]
		t.mu.Unlock()
		if !listed {
			p := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(cur), MaxResults: aws.Int32(20)})
			var kids []string
			for p.HasMorePages() {
				page, err := call(w, ctx, func(ctx context.Context) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
					return p.NextPage(ctx)
				})
				if err != nil {
					return &callError{"organizations:ListOrganizationalUnitsForParent", err}
				}
				t.mu.Lock()
				for _, ou := range page.OrganizationalUnits {
					id := aws.ToString(ou.Id)
					t.ous[id] = ouNode{name: aws.ToString(ou.Name), parent: cur}
					kids = append(kids, id)
				}
				t.mu.Unlock()
			}
			slices.Sort(kids)
			t.mu.Lock()
			t.children[cur] = kids
			t.listed[cur] = true
			t.mu.Unlock()
		}
		next := ""
		t.mu.Lock()
		for _, k := range t.children[cur] {
			if t.ous[k].name == name {
				next = k
			}
		}
		t.mu.Unlock()
		if next == "" {
			return nil // resolve names what there is
		}
		cur = next
	}
	return nil
}

// under reports whether an account sits in one of the OUs (or roots) or
// below it.
func (t *tree) under(accountID string, ous []string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, ok := t.parentOf[accountID]
	for n := 0; ok && cur != "" && n <= maxOUDepth; n++ {
		if slices.Contains(ous, cur) {
			return true
		}
		if cur == t.rootID {
			return false
		}
		cur = t.ous[cur].parent
	}
	return false
}
