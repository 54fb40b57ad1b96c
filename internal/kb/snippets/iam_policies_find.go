package snippets

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAMEntities is every user, group and role of an account with the
// policies attached to it, and every managed policy in use with its
// documents.
type IAMEntities struct {
	Users    []types.UserDetail
	Groups   []types.GroupDetail
	Roles    []types.RoleDetail
	Policies []types.ManagedPolicyDetail
}

// ReadIAMEntities reads them with GetAccountAuthorizationDetails, in pages
// of 1,000 entities: a few calls, however many users the account has.
func ReadIAMEntities(ctx context.Context, cfg aws.Config) (*IAMEntities, error) {
	e := &IAMEntities{}
	p := iam.NewGetAccountAuthorizationDetailsPaginator(iam.NewFromConfig(cfg),
		&iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:GetAccountAuthorizationDetails: %w", err)
		}
		e.Users = append(e.Users, page.UserDetailList...)
		e.Groups = append(e.Groups, page.GroupDetailList...)
		e.Roles = append(e.Roles, page.RoleDetailList...)
		e.Policies = append(e.Policies, page.Policies...)
	}
	return e, nil
}

// UsersWithOwnPolicies names the users holding managed or inline policies
// of their own rather than through groups.
func (e *IAMEntities) UsersWithOwnPolicies() []string {
	var out []string
	for _, u := range e.Users {
		if len(u.AttachedManagedPolicies) > 0 || len(u.UserPolicyList) > 0 {
			out = append(out, aws.ToString(u.UserName))
		}
	}
	return out
}

// RolesWithAWSPolicy names the roles holding the AWS-managed policy name
// (say AWSSupportAccess), in any partition; a customer policy of the same
// name does not count.
func (e *IAMEntities) RolesWithAWSPolicy(name string) []string {
	var out []string
	for _, r := range e.Roles {
		for _, p := range r.AttachedManagedPolicies {
			if strings.HasSuffix(aws.ToString(p.PolicyArn), ":iam::aws:policy/"+name) {
				out = append(out, aws.ToString(r.RoleName))
				break
			}
		}
	}
	return out
}

// FullAccessPolicies lists the ARNs of the managed policies whose default
// version allows every action on every resource.
func (e *IAMEntities) FullAccessPolicies() ([]string, error) {
	var out []string
	for _, p := range e.Policies {
		for _, v := range p.PolicyVersionList {
			if !v.IsDefaultVersion {
				continue
			}
			full, err := AllowsEverything(aws.ToString(v.Document))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", aws.ToString(p.Arn), err)
			}
			if full {
				out = append(out, aws.ToString(p.Arn))
			}
		}
	}
	return out, nil
}

// ServiceWildcardPolicies lists the ARNs of the customer-managed policies
// whose default version allows every action of some service: "s3:*", "*",
// or a NotAction, which allows every action it does not list.
func (e *IAMEntities) ServiceWildcardPolicies() ([]string, error) {
	var out []string
	for _, p := range e.Policies {
		if strings.Contains(aws.ToString(p.Arn), ":iam::aws:policy/") {
			continue // AWS-managed
		}
		for _, v := range p.PolicyVersionList {
			if !v.IsDefaultVersion {
				continue
			}
			stmts, err := statements(aws.ToString(v.Document))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", aws.ToString(p.Arn), err)
			}
			if containsStatement(stmts, func(s statement) bool {
				return s.Effect == "Allow" && (s.NotAction != nil || containsFunc(list(s.Action), serviceWildcard.MatchString))
			}) {
				out = append(out, aws.ToString(p.Arn))
			}
		}
	}
	return out, nil
}

var serviceWildcard = regexp.MustCompile(`^([^:*?]+:)?\*+(:\*+)?$`)

var anyAction = regexp.MustCompile(`^\*+(:\*+)?$`)

// escalation are the IAM actions with which a holder grants itself anything.
var escalation = []string{"iam:attachuserpolicy", "iam:attachgrouppolicy", "iam:attachrolepolicy",
	"iam:putuserpolicy", "iam:putgrouppolicy", "iam:putrolepolicy", "iam:createpolicyversion"}

// AllowsEverything reports whether a policy document, URL-encoded as IAM
// sends it, allows every action on every resource: "*" or "*:*", or a
// NotAction that leaves IAM policy changes allowed, on Resource "*". A
// Deny of everything in the same document cancels it.
func AllowsEverything(encoded string) (bool, error) {
	stmts, err := statements(encoded)
	if err != nil {
		return false, err
	}
	everything := func(s statement) bool {
		if !containsFunc(list(s.Resource), func(r string) bool { return strings.Trim(r, "*") == "" }) {
			return false
		}
		if s.Action != nil {
			return containsFunc(list(s.Action), anyAction.MatchString)
		}
		excluded := list(s.NotAction)
		return containsFunc(escalation, func(a string) bool {
			return !containsFunc(excluded, func(p string) bool { return globMatch(strings.ToLower(p), a) })
		})
	}
	if containsStatement(stmts, func(s statement) bool { return s.Effect == "Deny" && s.Condition == nil && everything(s) }) {
		return false, nil
	}
	return containsStatement(stmts, func(s statement) bool { return s.Effect == "Allow" && everything(s) }), nil
}

type statement struct {
	Effect              string
	Action, NotAction   any
	Resource, Condition any
}

// statements decodes a document's statements (a list, or one object).
func statements(encoded string) ([]statement, error) {
	text, err := url.PathUnescape(encoded)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	var stmts []statement
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one statement
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return nil, err
		}
		stmts = []statement{one}
	}
	return stmts, nil
}

// list reads an element written as one string or a list of strings.
func list(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func containsStatement(stmts []statement, f func(statement) bool) bool {
	for _, s := range stmts {
		if f(s) {
			return true
		}
	}
	return false
}

func containsFunc(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}

// globMatch matches IAM's wildcards: * any run of characters, ? one.
func globMatch(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}
