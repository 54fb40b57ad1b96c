package collect

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// AuditTaskPolicy is the AWS-managed root task policy an organisation
// scan passes to sts:AssumeRoot. It only reads: the session can list
// root's credentials and the account summary, and can change nothing.
const AuditTaskPolicy = "IAMAuditRootUserCredentials"

// TaskPolicyARN is the ARN of a root task policy in a partition.
func TaskPolicyARN(partition, name string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":iam::aws:policy/root-task/" + name
}

// AuditTaskPolicyActions are the actions IAMAuditRootUserCredentials
// leaves allowed (it is deny-only: everything else is denied, and these
// are denied on any resource but the root user, except
// GetAccountSummary). Source: the IAM User Guide's AWS managed policies
// page, policy version v1 of 2024-11-06.
var AuditTaskPolicyActions = []string{
	"iam:GetAccessKeyLastUsed",
	"iam:GetAccountSummary",
	"iam:GetLoginProfile",
	"iam:GetUser",
	"iam:ListAccessKeys",
	"iam:ListMFADevices",
	"iam:ListSigningCertificates",
}

// RootAudit reads a member account's root user from inside an
// sts:AssumeRoot session limited by IAMAuditRootUserCredentials: the
// account summary, root's own record (its last console sign-in, in real
// time), and the exact inventory of its access keys with their last use,
// signing certificates, MFA devices and login profile. Every call starts
// at once; the longest chain is ListAccessKeys then GetAccessKeyLastUsed.
//
// The credential report and the virtual MFA device list are not allowed
// by the task policy; the inventory makes them unnecessary.
func RootAudit(ctx context.Context, c RootAuditIAM) (*snapshot.Summary, *snapshot.RootCredentials, []snapshot.Gap) {
	var (
		wg      sync.WaitGroup
		summary *snapshot.Summary
		user    *snapshot.RootUser
		sumGap  *snapshot.Gap
		userGap *snapshot.Gap
		inv     *snapshot.RootCredentials
		gaps    []snapshot.Gap
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			g := gap(snapshot.SectionSummary, "iam:GetAccountSummary", err)
			sumGap = &g
			return
		}
		summary = summaryFrom(out.SummaryMap)
	}()
	go func() {
		defer wg.Done()
		user, userGap = rootUser(ctx, c)
	}()
	go func() {
		defer wg.Done()
		inv, gaps = RootInventory(ctx, c, true)
	}()
	wg.Wait()
	if sumGap != nil {
		gaps = append([]snapshot.Gap{*sumGap}, gaps...)
	}
	if userGap != nil {
		gaps = append(gaps, *userGap)
	}
	inv.User = user
	return summary, inv, gaps
}

// rootUser calls GetUser without a user name. In an AssumeRoot session
// that is the root user; anything else means the session is not what it
// should be, and the answer is not used.
func rootUser(ctx context.Context, c RootAuditIAM) (*snapshot.RootUser, *snapshot.Gap) {
	out, err := c.GetUser(ctx, &iam.GetUserInput{})
	if err != nil {
		g := gap(snapshot.SectionRootCredentials, "iam:GetUser", err)
		return nil, &g
	}
	if out.User == nil || !strings.HasSuffix(aws.ToString(out.User.Arn), ":root") {
		arn := ""
		if out.User != nil {
			arn = aws.ToString(out.User.Arn)
		}
		return nil, &snapshot.Gap{Section: snapshot.SectionRootCredentials, Call: "iam:GetUser", Code: "UnexpectedPrincipal",
			Message: "GetUser without a user name answered for " + arn + ", not the root user"}
	}
	return &snapshot.RootUser{CreateDate: utc(out.User.CreateDate), PasswordLastUsed: utc(out.User.PasswordLastUsed)}, nil
}
