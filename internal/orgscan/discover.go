package orgscan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// orgConcurrency bounds the Organizations calls discovery makes at once.
// Organizations throttles hardest of the three services (its limits are
// per organisation and unpublished), and the tree is small next to the
// accounts, so a few at a time keep it off the critical path.
const orgConcurrency = 4

// member is an account as discovery found it.
type member struct {
	id, name, email string
	state           string
	// skip is the reason the account is not scanned, or "".
	skip string
}

func memberOf(a orgtypes.Account) member {
	state := string(a.State)
	if state == "" {
		// Older partitions and answers carry only the retiring Status.
		state = string(a.Status)
	}
	return member{id: aws.ToString(a.Id), name: aws.ToString(a.Name), email: aws.ToString(a.Email), state: state}
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
	ous      map[string]ouNode
	children map[string][]string // parent ID → child OU IDs
	parentOf map[string]string   // account ID → parent ID
}

type ouNode struct{ name, parent string }

func newTree() *tree {
	return &tree{ous: map[string]ouNode{}, children: map[string][]string{}, parentOf: map[string]string{}}
}

// name is the display name of a root or OU.
func (t *tree) name(id string) string {
	if id == t.rootID {
		return t.rootName
	}
	return t.ous[id].name
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

// walkOUs reads the root and every OU, one level at a time with a few
// calls in flight (OUs nest at most five deep).
func walkOUs(ctx context.Context, c Organizations, t *tree) *snapshot.Gap {
	p := organizations.NewListRootsPaginator(c, &organizations.ListRootsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			g := collect.NewGap(snapshot.SectionOrganization, "organizations:ListRoots", err)
			return &g
		}
		for _, r := range page.Roots {
			if t.rootID == "" {
				t.rootID, t.rootName = aws.ToString(r.Id), aws.ToString(r.Name)
			}
		}
	}
	if t.rootID == "" {
		return &snapshot.Gap{Section: snapshot.SectionOrganization, Call: "organizations:ListRoots", Code: "NoRoot", Message: "the organisation has no root"}
	}
	if t.rootName == "" {
		t.rootName = "Root"
	}
	level := []string{t.rootID}
	for len(level) > 0 {
		var next []string
		g := forEach(ctx, level, func(ctx context.Context, parent string) *snapshot.Gap {
			var kids []string
			p := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					g := collect.NewGap(snapshot.SectionOrganization, "organizations:ListOrganizationalUnitsForParent", err)
					return &g
				}
				t.mu.Lock()
				for _, ou := range page.OrganizationalUnits {
					id := aws.ToString(ou.Id)
					t.ous[id] = ouNode{name: aws.ToString(ou.Name), parent: parent}
					kids = append(kids, id)
				}
				t.mu.Unlock()
			}
			sort.Strings(kids)
			t.mu.Lock()
			t.children[parent] = kids
			next = append(next, kids...)
			t.mu.Unlock()
			return nil
		})
		if g != nil {
			return g
		}
		sort.Strings(next)
		level = next
	}
	return nil
}

// listAccountsUnder lists the accounts directly under each parent, a few
// parents at a time, recording where each sits and handing every page to
// found (which may be nil).
func listAccountsUnder(ctx context.Context, c Organizations, t *tree, parents []string, found func([]orgtypes.Account)) *snapshot.Gap {
	return forEach(ctx, parents, func(ctx context.Context, parent string) *snapshot.Gap {
		p := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
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
	})
}

// forEach runs f on every item, orgConcurrency at a time, and returns the
// first gap. It stops starting new items once one fails.
func forEach(ctx context.Context, items []string, f func(context.Context, string) *snapshot.Gap) *snapshot.Gap {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first *snapshot.Gap
	)
	sem := make(chan struct{}, orgConcurrency)
	for _, it := range items {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if g := f(ctx, it); g != nil {
				mu.Lock()
				if first == nil {
					first = g
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
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
