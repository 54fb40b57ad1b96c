package collect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// DetailsIAM is what the bulk IAM read takes: two calls whose number grows
// with pages of 1,000 entities, never with users, roles or policies. The
// credential report (AccountIAM) supplies keys, passwords and MFA.
type DetailsIAM interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	GetAccountPasswordPolicy(context.Context, *iam.GetAccountPasswordPolicyInput, ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
}

// detailsChains are the filters IAMDetails pages through side by side.
// The pages of one GetAccountAuthorizationDetails listing form a chain
// (each needs the previous page's Marker) and the scanner decodes each
// page before it can ask for the next, so one listing of everything costs
// a round trip and a decode per 1,000 entities, one after the other.
// Listed by kind instead, the chains run at once and the scan waits only
// for the longest, the users in an account with many of them: 13 pages
// one after the other became 10 at 10,000 users, 2,000 roles and 1,000
// policies. It costs at most two more calls per account (the last,
// partly full page of each chain), never more as the account grows.
var detailsChains = [][]iamtypes.EntityType{
	{iamtypes.EntityTypeUser},
	{iamtypes.EntityTypeRole},
	{iamtypes.EntityTypeGroup, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy},
}

// IAMDetails reads every user, group, role and managed policy (the
// customer-managed ones, and the AWS-managed ones that are attached) with
// their policy documents and the users' and roles' tags, in as few pages
// as IAM allows, the kinds of entity listed side by side (detailsChains).
// Any failure, on any page, leaves the whole section unknown: a partial
// list would let a rule pass an account because the offending user was on
// the missing page.
func IAMDetails(ctx context.Context, c DetailsIAM) (*snapshot.IAMDetails, *snapshot.Gap) {
	const call = "iam:GetAccountAuthorizationDetails"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([]*snapshot.IAMDetails, len(detailsChains))
	errs := make([]error, len(detailsChains))
	var wg sync.WaitGroup
	for i, filter := range detailsChains {
		wg.Add(1)
		spawn(func() {
			defer wg.Done()
			parts[i], errs[i] = detailsChain(ctx, c, filter)
			if errs[i] != nil {
				cancel() // the section is unknown whatever the other chains find
			}
		})
	}
	wg.Wait()
	// The first chain's own failure, not a cancellation it caused in
	// another chain, is the gap.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		g := gap(snapshot.SectionIAM, call, first)
		return nil, &g
	}
	d := &snapshot.IAMDetails{Users: []snapshot.IAMUser{}, Groups: []snapshot.IAMGroup{}, Roles: []snapshot.IAMRole{}, Policies: []snapshot.ManagedPolicy{}, TagsRead: true}
	for _, p := range parts {
		d.Users = append(d.Users, p.Users...)
		d.Groups = append(d.Groups, p.Groups...)
		d.Roles = append(d.Roles, p.Roles...)
		d.Policies = append(d.Policies, p.Policies...)
		d.Pages += p.Pages
	}
	return d, nil
}

// detailsChain pages through one filtered listing. Each page is asked
// for as soon as the previous page's Marker has arrived (readAhead), while
// that page is still being decoded and converted on its own goroutine;
// pages are merged in order. A page read ahead from a Marker the decoded
// page does not confirm is dropped and asked for again.
func detailsChain(ctx context.Context, c DetailsIAM, filter []iamtypes.EntityType) (*snapshot.IAMDetails, error) {
	in := iam.GetAccountAuthorizationDetailsInput{Filter: filter, MaxItems: aws.Int32(iamMaxItems)}
	d := &snapshot.IAMDetails{}
	seen := map[string]bool{}
	cur := fetchPage(ctx, c, in, nil)
	defer func() { cur.cancel() }()
	for {
		var next *pageCall
		var r pageResult
		select {
		case a := <-cur.early:
			if a.truncated && !seen[a.marker] {
				next = fetchPage(ctx, c, in, &a.marker)
			}
			r = <-cur.done
		case r = <-cur.done:
		}
		if r.err != nil {
			if next != nil {
				next.cancel()
			}
			return nil, r.err
		}
		d.Pages++
		d.Users = append(d.Users, r.part.Users...)
		d.Groups = append(d.Groups, r.part.Groups...)
		d.Roles = append(d.Roles, r.part.Roles...)
		d.Policies = append(d.Policies, r.part.Policies...)
		if !r.truncated {
			if next != nil {
				next.cancel()
			}
			return d, nil
		}
		if r.marker == "" || seen[r.marker] {
			if next != nil {
				next.cancel()
			}
			return nil, fmt.Errorf("page %d: IsTruncated with the Marker %q, which would not move the listing on", d.Pages, r.marker)
		}
		seen[r.marker] = true
		if next == nil || aws.ToString(next.marker) != r.marker {
			if next != nil {
				next.cancel()
			}
			next = fetchPage(ctx, c, in, &r.marker)
		}
		cur.cancel()
		cur = next
	}
}

// convertPage turns one decoded page into the snapshot's entities.
func convertPage(page *iam.GetAccountAuthorizationDetailsOutput) *snapshot.IAMDetails {
	d := &snapshot.IAMDetails{}
	for _, u := range page.UserDetailList {
		user := snapshot.IAMUser{Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn), CreateDate: utc(u.CreateDate),
			Groups: u.GroupList, Attached: attached(u.AttachedManagedPolicies), Tags: tags(u.Tags), Inline: inline(u.UserPolicyList)}
		d.Users = append(d.Users, user)
	}
	for _, g := range page.GroupDetailList {
		group := snapshot.IAMGroup{Name: aws.ToString(g.GroupName), ARN: aws.ToString(g.Arn), Attached: attached(g.AttachedManagedPolicies), Inline: inline(g.GroupPolicyList)}
		d.Groups = append(d.Groups, group)
	}
	for _, r := range page.RoleDetailList {
		role := snapshot.IAMRole{Name: aws.ToString(r.RoleName), ARN: aws.ToString(r.Arn), Attached: attached(r.AttachedManagedPolicies), Tags: tags(r.Tags), Inline: inline(r.RolePolicyList)}
		d.Roles = append(d.Roles, role)
	}
	for _, mp := range page.Policies {
		pol := snapshot.ManagedPolicy{Name: aws.ToString(mp.PolicyName), ARN: aws.ToString(mp.Arn),
			AWSManaged: isAWSManaged(aws.ToString(mp.Arn)), AttachmentCount: int(aws.ToInt32(mp.AttachmentCount)),
			DefaultVersion: aws.ToString(mp.DefaultVersionId)}
		for _, v := range mp.PolicyVersionList {
			if v.IsDefaultVersion || aws.ToString(v.VersionId) == pol.DefaultVersion {
				pol.Document = decodeDocument(v.Document)
				break
			}
		}
		d.Policies = append(d.Policies, pol)
	}
	return d
}

// inline converts a user's, group's or role's inline policies, their
// documents URL-decoded; nil when there are none, as before.
func inline(ps []iamtypes.PolicyDetail) []snapshot.InlinePolicy {
	var out []snapshot.InlinePolicy
	for _, ip := range ps {
		out = append(out, snapshot.InlinePolicy{Name: aws.ToString(ip.PolicyName), Document: decodeDocument(ip.PolicyDocument)})
	}
	return out
}

// PasswordPolicy reads the account's password policy. NoSuchEntity means
// the account has none, an answer rather than a gap.
func PasswordPolicy(ctx context.Context, c DetailsIAM) (*snapshot.PasswordPolicy, *snapshot.Gap) {
	out, err := c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if err != nil {
		var none *iamtypes.NoSuchEntityException
		if errors.As(err, &none) {
			return &snapshot.PasswordPolicy{Present: false}, nil
		}
		g := gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", err)
		return nil, &g
	}
	pp := out.PasswordPolicy
	if pp == nil {
		g := snapshot.Gap{Section: snapshot.SectionPasswordPolicy, Call: "iam:GetAccountPasswordPolicy", Code: "EmptyAnswer", Message: "the answer carried no PasswordPolicy"}
		return nil, &g
	}
	return &snapshot.PasswordPolicy{
		Present:                    true,
		MinimumPasswordLength:      int(aws.ToInt32(pp.MinimumPasswordLength)),
		RequireSymbols:             pp.RequireSymbols,
		RequireNumbers:             pp.RequireNumbers,
		RequireUppercaseCharacters: pp.RequireUppercaseCharacters,
		RequireLowercaseCharacters: pp.RequireLowercaseCharacters,
		AllowUsersToChangePassword: pp.AllowUsersToChangePassword,
		ExpirePasswords:            pp.ExpirePasswords,
		MaxPasswordAge:             int(aws.ToInt32(pp.MaxPasswordAge)),
		PasswordReusePrevention:    int(aws.ToInt32(pp.PasswordReusePrevention)),
		HardExpiry:                 aws.ToBool(pp.HardExpiry),
	}, nil
}

func attached(list []iamtypes.AttachedPolicy) []snapshot.AttachedPolicy {
	var out []snapshot.AttachedPolicy
	for _, a := range list {
		out = append(out, snapshot.AttachedPolicy{Name: aws.ToString(a.PolicyName), ARN: aws.ToString(a.PolicyArn)})
	}
	return out
}

func tags(list []iamtypes.Tag) []snapshot.Tag {
	var out []snapshot.Tag
	for _, t := range list {
		out = append(out, snapshot.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return out
}

// decodeDocument undoes the RFC 3986 encoding IAM applies to policy
// documents (a space is %20, never "+", so "+" stays itself). The SDK
// does not decode them. A document that does not
// decode is kept as sent, so the rule that parses it can say so.
func decodeDocument(doc *string) string {
	s := aws.ToString(doc)
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// isAWSManaged reports whether a policy ARN is AWS's own
// (arn:<partition>:iam::aws:policy/…).
func isAWSManaged(arn string) bool { return AccountOfARN(arn) == "aws" }
