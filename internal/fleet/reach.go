package fleet

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Reach is one account as a multi-account run reaches it, handed to the
// run's Visitor: who the account is, where it sits, and how to sign in.
type Reach struct {
	AccountID string
	Name      string
	Email     string
	Partition string
	// Membership is the account's place in the organisation; nil when the
	// run was not an organisation's (targets).
	Membership *snapshot.Membership
	// Access is how the run reaches the account: directly with the
	// caller's credentials, through a role, or through sts:AssumeRoot.
	Access snapshot.Access
	// Unreachable, when set, is why no access method may be used (or the
	// one tried failed); Config is then unset.
	Unreachable *snapshot.Gap
	// Config signs in the account for direct and assume-role access: the
	// caller's own credentials, or a role session that renews itself.
	// It is unset for assume-root access, whose session depends on the
	// task policy the visitor needs: open it with RootSession and Base.
	Config aws.Config
	// Base is the caller's own configuration, to assume roles and root
	// sessions with.
	Base aws.Config
	// CallerARN and CallerUserID are who Config signs as, when the run
	// knows it (direct access: the run's own identity; a role: the
	// AssumeRole answer's assumed-role user); empty otherwise. A visitor
	// need not ask sts:GetCallerIdentity again.
	CallerARN    string
	CallerUserID string
	// RunCaller is who runs the whole run (the organisation's caller, who
	// opens the roles and root sessions); empty when not known.
	RunCaller string
	// Profile is the profile a target was loaded from, when it was.
	Profile string
	// RootDuration is the length of the sts:AssumeRoot sessions the run
	// was asked for.
	RootDuration time.Duration
	// Timeout is the account's deadline, for messages that name it.
	Timeout time.Duration

	// assumer is the run's own STS client, which opens the root sessions
	// of the run's own visitor (Scan) without a client per account.
	assumer RootAssumer
}

// RootSession opens an sts:AssumeRoot session in a member account with a
// root task policy, and returns a config that signs with it and opens a
// new one whenever it expires (AssumeRoot sessions last at most fifteen
// minutes; they are re-assumed, never used past their life). base signs
// as the management account or the IAM delegated administrator. On
// failure the gap names sts:AssumeRoot and AWS's answer.
func RootSession(ctx context.Context, base aws.Config, partition, accountID, taskPolicy string, d time.Duration) (aws.Config, *snapshot.Gap) {
	if d <= 0 || d > MaxRootDuration {
		d = MaxRootDuration
	}
	return openSession(ctx, base, "sts:AssumeRoot", assumeRootWith(sts.NewFromConfig(base), partition, accountID, taskPolicy, d))
}

// RoleSession assumes a role with base and returns a config that signs
// with the session and renews it. r is validated (defaults filled in).
func RoleSession(ctx context.Context, base aws.Config, r Role, roleARN string) (aws.Config, *snapshot.Gap) {
	if err := r.validate(); err != nil {
		return aws.Config{}, &snapshot.Gap{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "InvalidRole", Message: err.Error()}
	}
	return openSession(ctx, base, "sts:AssumeRole", assumeRole(sts.NewFromConfig(base), r, roleARN))
}
