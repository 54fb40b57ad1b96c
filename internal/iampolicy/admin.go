package iampolicy

import (
	"regexp"
	"slices"
	"strings"
)

// FullAccess is what a document says about full administrative access:
// an Allow statement that covers every action on every resource, the
// "*:*" that CIS and Security Hub IAM.1 name.
type FullAccess struct {
	// Grants are the indexes of the Allow statements that cover every
	// action on every resource; empty when none does (or a Deny cancels
	// them all, see Cancelled).
	Grants []int
	// Conditional lists, of Grants, the statements with a Condition: the
	// grant holds only when the condition does (MFA present, a source
	// network), which still makes the holder an administrator then.
	Conditional []int
	// ConditionKeys are the condition keys of the conditional grants,
	// lower-cased and sorted, for explanations.
	ConditionKeys []string
	// SelfGrant lists, of Grants, the NotAction statements: they allow
	// every action except those they list, and what they leave allowed
	// includes changing IAM policies (EscalationActions), so the holder can
	// grant itself the rest. An administrator in effect.
	SelfGrant []int
	// NotActionStatements are Allow statements on every resource written
	// with NotAction that exclude every IAM policy change (PowerUserAccess
	// is one): all but some services, yet not "*:*".
	NotActionStatements []int
	// PartialDenies are Deny statements of the same document that take
	// part of the grant away (some actions or resources, or under a
	// condition). The grant stays: a statement-level "*:*" is what CIS
	// asks to remove, and a narrow Deny is the usual way such a policy
	// hides from a scanner that weighs its effect.
	PartialDenies []int
	// Cancelled is the index of an unconditional Deny of every action on
	// every resource in the same document, which leaves nothing of any
	// grant; -1 when there is none.
	Cancelled int
}

// EscalationActions are the IAM actions with which a principal allowed
// them on every resource gives itself any permission: attaching or writing
// a policy on a user, group or role, or a new version of a managed policy.
var EscalationActions = []string{
	"iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy",
	"iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:CreatePolicyVersion",
}

// Admin reports whether the document grants full administrative access,
// reading wildcards as IAM does: "*" and "*:*" (and runs of stars) match
// every action. NotAction allows everything except what it lists; such a
// statement is full access when it lists nothing that can match an action
// (a name without a colon or wildcard), and full access in effect when what
// it leaves allowed includes one of EscalationActions ("NotAction":
// "iam:DeleteUser" is an administrator; PowerUserAccess, which excludes
// iam:*, is not). Resource "*" or an ARN pattern whose every part is a star
// covers every resource, and NotResource does only when its list can match
// no ARN. Documents are read as IAM stored them, so nothing here
// validates them.
func (d *Document) Admin() FullAccess {
	fa := FullAccess{Cancelled: -1}
	for i, s := range d.Statement {
		if s.Effect != Deny || len(s.Condition) > 0 {
			continue
		}
		if coversAllActions(s) && coversAllResources(s) {
			fa.Cancelled = i
			break
		}
	}
	keys := map[string]bool{}
	for i, s := range d.Statement {
		switch s.Effect {
		case Allow:
			if !coversAllResources(s) {
				continue
			}
			all, self := coversAllActions(s), false
			if !all && s.NotAction != nil {
				self = leavesEscalation(s.NotAction)
			}
			if all || self {
				if fa.Cancelled >= 0 {
					continue
				}
				fa.Grants = append(fa.Grants, i)
				if self {
					fa.SelfGrant = append(fa.SelfGrant, i)
				}
				if len(s.Condition) > 0 {
					fa.Conditional = append(fa.Conditional, i)
					for _, k := range s.ConditionKeys() {
						keys[k] = true
					}
				}
			} else if s.NotAction != nil {
				fa.NotActionStatements = append(fa.NotActionStatements, i)
			}
		case Deny:
			if i != fa.Cancelled {
				fa.PartialDenies = append(fa.PartialDenies, i)
			}
		}
	}
	if len(fa.Grants) == 0 {
		fa.PartialDenies = nil
	}
	for k := range keys {
		fa.ConditionKeys = append(fa.ConditionKeys, k)
	}
	slices.Sort(fa.ConditionKeys)
	return fa
}

var (
	// anyAction matches the action patterns that match every action:
	// runs of stars, optionally around one colon ("*", "*:*", "**:*").
	anyAction = regexp.MustCompile(`^\*+(:\*+)?$`)
)

// coversAllActions reports whether the statement's action element matches
// every action.
func coversAllActions(s Statement) bool {
	switch {
	case s.Action != nil:
		for _, p := range s.Action {
			if anyAction.MatchString(p) {
				return true
			}
		}
		return false
	case s.NotAction != nil:
		for _, p := range s.NotAction {
			if canMatchAction(p) {
				return false
			}
		}
		return true
	}
	return false
}

// leavesEscalation reports whether a NotAction list leaves one of
// EscalationActions allowed.
func leavesEscalation(notAction []string) bool {
	for _, a := range EscalationActions {
		excluded := false
		for _, p := range notAction {
			if globMatch(strings.ToLower(p), strings.ToLower(a)) {
				excluded = true
				break
			}
		}
		if !excluded {
			return true
		}
	}
	return false
}

// canMatchAction reports whether an action pattern could match some
// action ("service:Action"): it needs a colon, or a wildcard that can
// stand for one. "iam" or "nothing" matches none.
func canMatchAction(p string) bool { return strings.ContainsAny(p, ":*?") }

// coversAllResources reports whether the statement's resource element
// matches every resource.
func coversAllResources(s Statement) bool {
	switch {
	case s.Resource != nil:
		for _, p := range s.Resource {
			if anyResource(p) {
				return true
			}
		}
		return false
	case s.NotResource != nil:
		for _, p := range s.NotResource {
			if strings.ContainsAny(p, "*?") || strings.HasPrefix(p, "arn:") {
				return false
			}
		}
		return true
	}
	// An identity policy statement always names its resources; one that
	// does not is not a grant on everything.
	return false
}

// anyResource reports whether a resource pattern matches every ARN: all
// stars, or "arn" followed by five parts that are all stars.
func anyResource(p string) bool {
	if strings.Trim(p, "*") == "" && p != "" {
		return true
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return false
	}
	// Empty parts (the region and account of S3 ARNs) match only empty
	// values, so "arn:*:*:::*" is not every resource.
	for _, part := range parts[1:] {
		if part == "" || strings.Trim(part, "*") != "" {
			return false
		}
	}
	return true
}

// ServiceWildcard is an Allow statement granting every action of a service
// (Security Hub IAM.21): an action pattern "service:*", or "*" (every
// service), or NotAction, which allows every action it does not list.
type ServiceWildcard struct {
	Statement int
	// Patterns are the action patterns that grant whole services; empty for
	// a NotAction statement.
	Patterns  []string
	NotAction bool
}

// serviceWildcard matches a pattern granting a whole service: a service
// name followed by ":" and stars only, or stars only.
var serviceWildcard = regexp.MustCompile(`^([^:*?]+:)?\*+(:\*+)?$`)

// ServiceWildcards lists the document's Allow statements that grant every
// action of at least one service, whatever their resources and
// conditions, as Security Hub's iam-policy-no-statements-with-full-access
// reads them.
func (d *Document) ServiceWildcards() []ServiceWildcard {
	var out []ServiceWildcard
	for i, s := range d.Statement {
		if s.Effect != Allow {
			continue
		}
		if s.NotAction != nil {
			out = append(out, ServiceWildcard{Statement: i, NotAction: true})
			continue
		}
		var pats []string
		for _, p := range s.Action {
			if serviceWildcard.MatchString(p) {
				pats = append(pats, p)
			}
		}
		if len(pats) > 0 {
			out = append(out, ServiceWildcard{Statement: i, Patterns: pats})
		}
	}
	return out
}
