package fleet

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// OrgConcurrency bounds the Organizations calls the OU tree walk makes
// at once. Organizations throttles hardest of the three services (its
// limits are per organisation and unpublished), while ListAccounts, which
// feeds the scan, is one call at a time by nature; eight keep the walk
// off the critical path of all but the smallest organisations without
// bursting.
const OrgConcurrency = 8

// member is an account as discovery found it.
type member struct {
	id, name, email string
	state           string
	joinedMethod    string
	joined          *time.Time
	// skip is the reason the account is not scanned, or "".
	skip string
}

func memberOf(a orgtypes.Account) member {
	state := string(a.State)
	if state == "" {
		// Older partitions and answers carry only the retiring Status.
		state = string(a.Status)
	}
	m := member{id: aws.ToString(a.Id), name: aws.ToString(a.Name), email: aws.ToString(a.Email), state: state, joinedMethod: string(a.JoinedMethod)}
	if a.JoinedTimestamp != nil {
		t := a.JoinedTimestamp.UTC()
		m.joined = &t
	}
	return m
}

// stateReason explains why an account in a given state is not scanned,
// or returns "" for ACTIVE.
func stateReason(state string) string {
	switch orgtypes.AccountState(state) {
	case orgtypes.AccountStateActive:
		return ""
	case orgtypes.AccountStateSuspended:
		return "the account is SUSPENDED (closed or suspended by AWS): its APIs cannot be called"
	case orgtypes.AccountStatePendingClosure:
		return "the account is PENDING_CLOSURE: it is being closed"
	case orgtypes.AccountStateClosed:
		return "the account is CLOSED"
	case orgtypes.AccountStatePendingActivation:
		return "the account is PENDING_ACTIVATION: it cannot be used yet"
	case "":
		return "Organizations did not say the account is ACTIVE (no state)"
	}
	return "the account's state is " + state + ", not ACTIVE"
}

// tree is the organisation's structure: OUs by ID and where each account
// sits, filled by several goroutines.
type tree struct {
	mu       sync.Mutex
	rootID   string
	rootName string
	// rootPolicyTypes are the policy types enabled on the root; a policy
	// of a type that is off has no effect.
	rootPolicyTypes []string
	ous             map[string]ouNode
	children        map[string][]string // parent ID → child OU IDs
	parentOf        map[string]string   // account ID → parent ID
	// listed are the parents whose child OUs were all listed (a run that
	// names its accounts lists only those along a --ou path).
	listed map[string]bool
}

type ouNode struct{ name, parent string }

func newTree() *tree {
	return &tree{ous: map[string]ouNode{}, children: map[string][]string{}, parentOf: map[string]string{}, listed: map[string]bool{}}
}

// pathOf is the chain of names from the root to id.
func (t *tree) pathOf(id string) []string {
	var rev []string
	for cur, n := id, 0; cur != "" && n < 16; n++ {
		if cur == t.rootID {
			rev = append(rev, t.rootName)
			break
		}
		ou, ok := t.ous[cur]
		if !ok {
			return nil
		}
		rev = append(rev, ou.name)
		cur = ou.parent
	}
	slices.Reverse(rev)
	return rev
}

// pathOfLocked is the OU path of an account, nil when unknown.
func (t *tree) pathOfLocked(accountID string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.parentOf[accountID]
	if !ok {
		return nil
	}
	return t.pathOf(p)
}

// subtree lists id and every OU below it.
func (t *tree) subtree(id string) []string {
	out := []string{id}
	for i := 0; i < len(out); i++ {
		out = append(out, t.children[out[i]]...)
	}
	return out
}

// walkOUs reads the root and every OU. With accounts set it also lists
// the accounts directly under each, recording where each sits and handing
// every page to found (which may be nil). Each parent is read as soon as
// its own parent's listing names it, so the walk takes about as long as
// the deepest chain, not one level after the other; at most
// OrgConcurrency calls are in flight.
func walkOUs(ctx context.Context, c Organizations, t *tree, accounts bool, found func([]orgtypes.Account), bound boundFunc) *snapshot.Gap {
	w := newWalker(ctx, bound)
	if g := readRoot(ctx, w, c, t); g != nil {
		return g
	}
	var visit func(parent string)
	visit = func(parent string) {
		w.do(func(ctx context.Context) *snapshot.Gap {
			p := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent), MaxResults: aws.Int32(20)})
			for p.HasMorePages() {
				page, err := call(w, ctx, func(ctx context.Context) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
					return p.NextPage(ctx)
				})
				if err != nil {
					g := collect.NewGap(snapshot.SectionOrganization, "organizations:ListOrganizationalUnitsForParent", err)
					return &g
				}
				var kids []string
				t.mu.Lock()
				for _, ou := range page.OrganizationalUnits {
					id := aws.ToString(ou.Id)
					t.ous[id] = ouNode{name: aws.ToString(ou.Name), parent: parent}
					t.children[parent] = append(t.children[parent], id)
					kids = append(kids, id)
				}
				t.mu.Unlock()
				for _, k := range kids {
					visit(k)
				}
			}
			return nil
		})
		if accounts {
			w.do(func(ctx context.Context) *snapshot.Gap { return listAccounts(ctx, w, c, t, parent, found) })
		}
	}
	visit(t.rootID)
	if g := w.wait(); g != nil {
		return g
	}
	for _, kids := range t.children {
		sort.Strings(kids)
	}
	return nil
}

// readRoot reads the organisation's root into t: its ID, name and the
// policy types enabled on it.
func readRoot(ctx context.Context, w *walker, c Organizations, t *tree) *snapshot.Gap {
	p := organizations.NewListRootsPaginator(c, &organizations.ListRootsInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := call(w, ctx, func(ctx context.Context) (*organizations.ListRootsOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			g := collect.NewGap(snapshot.SectionOrganization, "organizations:ListRoots", err)
			return &g
		}
		for _, r := range page.Roots {
			if t.rootID == "" {
				t.rootID, t.rootName = aws.ToString(r.Id), aws.ToString(r.Name)
				t.rootPolicyTypes = []string{}
				for _, pt := range r.PolicyTypes {
					if pt.Status == orgtypes.PolicyTypeStatusEnabled {
						t.rootPolicyTypes = append(t.rootPolicyTypes, string(pt.Type))
					}
				}
				sort.Strings(t.rootPolicyTypes)
			}
		}
	}
	if t.rootID == "" {
		return &snapshot.Gap{Section: snapshot.SectionOrganization, Call: "organizations:ListRoots", Code: "NoRoot", Message: "the organisation has no root"}
	}
	if t.rootName == "" {
		t.rootName = "Root"
	}
	return nil
}

// listAccountsUnder lists the accounts directly under each parent, at
// most OrgConcurrency calls at once.
func listAccountsUnder(ctx context.Context, c Organizations, t *tree, parents []string, found func([]orgtypes.Account), bound boundFunc) *snapshot.Gap {
	w := newWalker(ctx, bound)
	for _, parent := range parents {
		w.do(func(ctx context.Context) *snapshot.Gap { return listAccounts(ctx, w, c, t, parent, found) })
	}
	return w.wait()
}

func listAccounts(ctx context.Context, w *walker, c Organizations, t *tree, parent string, found func([]orgtypes.Account)) *snapshot.Gap {
	p := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent), MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := call(w, ctx, func(ctx context.Context) (*organizations.ListAccountsForParentOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			g := collect.NewGap(snapshot.SectionOrganization, "organizations:ListAccountsForParent", err)
			g.Message = fmt.Sprintf("listing the accounts of %s: %s", parent, g.Message)
			return &g
		}
		t.mu.Lock()
		for _, a := range page.Accounts {
			t.parentOf[aws.ToString(a.Id)] = parent
		}
		t.mu.Unlock()
		if found != nil {
			found(page.Accounts)
		}
	}
	return nil
}

// walker runs tasks that may start more tasks, limits the calls in
// flight (not the tasks, so a task waiting on a call never holds a slot
// another needs), bounds each call by a deadline (a hung endpoint must not
// hang discovery), and stops starting work after the first failure.
type walker struct {
	ctx    context.Context
	cancel context.CancelFunc
	bound  boundFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	first  *snapshot.Gap
}

// boundFunc gives one call its deadline.
type boundFunc func(context.Context) (context.Context, context.CancelFunc)

func newWalker(ctx context.Context, bound boundFunc) *walker {
	ctx, cancel := context.WithCancel(ctx)
	return &walker{ctx: ctx, cancel: cancel, bound: bound, sem: make(chan struct{}, OrgConcurrency)}
}

func (w *walker) do(task func(context.Context) *snapshot.Gap) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if w.ctx.Err() != nil {
			return
		}
		if g := task(w.ctx); g != nil {
			w.mu.Lock()
			if w.first == nil {
				w.first = g
			}
			w.mu.Unlock()
			w.cancel()
		}
	}()
}

// call makes one API call within the concurrency limit.
func call[T any](w *walker, ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	defer func() { <-w.sem }()
	ctx, cancel := w.bound(ctx)
	defer cancel()
	return f(ctx)
}

func (w *walker) wait() *snapshot.Gap {
	w.wg.Wait()
	w.cancel()
	return w.first
}

// resolveOUs turns --ou values (IDs, or name paths from the root) into
// the IDs of every OU to scan, each selected OU with all below it.
func resolveOUs(t *tree, want []string) ([]string, []string, error) {
	var parents, labels []string
	seen := map[string]bool{}
	for _, w := range want {
		id, err := t.resolve(w)
		if err != nil {
			return nil, nil, err
		}
		labels = append(labels, strings.Join(t.pathOf(id), "/"))
		for _, p := range t.subtree(id) {
			if !seen[p] {
				seen[p] = true
				parents = append(parents, p)
			}
		}
	}
	return parents, labels, nil
}

func (t *tree) resolve(want string) (string, error) {
	if ouIDPattern.MatchString(want) {
		if want == t.rootID {
			return want, nil
		}
		if _, ok := t.ous[want]; ok {
			return want, nil
		}
		return "", fmt.Errorf("--ou %s: no such OU or root in the organisation", want)
	}
	parts := strings.Split(strings.Trim(want, "/"), "/")
	if len(parts) > 0 && parts[0] == t.rootName {
		parts = parts[1:]
	}
	cur := t.rootID
	for i, name := range parts {
		next := ""
		var names []string
		for _, kid := range t.children[cur] {
			names = append(names, t.ous[kid].name)
			if t.ous[kid].name == name {
				next = kid
			}
		}
		if next == "" {
			under := strings.Join(append([]string{t.rootName}, parts[:i]...), "/")
			have := "it has no OUs"
			if len(names) > 0 {
				sort.Strings(names)
				have = "its OUs: " + strings.Join(names, ", ")
			}
			return "", fmt.Errorf("--ou %q: no OU named %q under %s (%s)", want, name, under, have)
		}
		cur = next
	}
	return cur, nil
}
