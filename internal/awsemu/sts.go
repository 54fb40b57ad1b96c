package awsemu

import (
	"regexp"
	"strings"
	"time"
)

// stsHandlers lists the STS operations the emulator implements.
var stsHandlers = map[string]handlerFunc{
	"GetCallerIdentity": (*Server).stsGetCallerIdentity,
	"AssumeRole":        (*Server).stsAssumeRole,
	"AssumeRoot":        (*Server).stsAssumeRoot,
}

type credentialsXML struct {
	AccessKeyId     string  `xml:"AccessKeyId"`
	SecretAccessKey string  `xml:"SecretAccessKey"`
	SessionToken    string  `xml:"SessionToken"`
	Expiration      isoTime `xml:"Expiration"`
}

var (
	roleARNPattern     = regexp.MustCompile(`^arn:([a-z-]+):iam::([0-9]{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

func (s *Server) stsGetCallerIdentity(r *request) (any, *apiError) {
	p := r.caller
	return struct {
		Arn     string `xml:"Arn"`
		UserId  string `xml:"UserId"`
		Account string `xml:"Account"`
	}{p.arn(s.world.Partition), p.userID(), p.account.ID}, nil
}

// newSession issues temporary credentials for p, valid for d.
func (s *Server) newSession(p principal, now time.Time, d time.Duration) (*session, credentialsXML) {
	p.accessKeyID = s.newAccessKeyID("ASIA")
	sess := &session{
		principal: p,
		accountID: p.account.ID,
		secret:    s.randomString(40),
		token:     s.randomString(200),
		expires:   now.Add(d).Truncate(time.Second),
	}
	s.sessions[p.accessKeyID] = sess
	return sess, credentialsXML{
		AccessKeyId:     p.accessKeyID,
		SecretAccessKey: sess.secret,
		SessionToken:    sess.token,
		Expiration:      isoTime(callerExpiry(now, sess.expires)),
	}
}

// callerExpiry states a session's expiry in the caller's frame of time.
// The server enforces expiry on its own clock, but clients judge it on
// theirs: the SDK's credential cache and Vigil's session renewal compare
// Expiration with the wall clock. AWS and its clients share a clock; a
// test's server clock need not (a reference time years away, a manual
// clock that stands still), and an Expiration in the server's frame would
// then look long past (every call re-assumes) or far off (a session is
// never renewed). So the response names the wall-clock instant at which
// the session's remaining life, by the server clock, runs out: what AWS
// would say if the two clocks agreed. When the server runs on the wall
// clock the two frames are the same.
func callerExpiry(now, expires time.Time) time.Time {
	return time.Now().UTC().Add(expires.Sub(now)).Truncate(time.Second)
}

// stsAssumeRole: trust policies are not modelled. Any caller except a
// root user may assume any existing role of an ACTIVE account, unless the
// role says DenyAssume or wants an external ID the caller did not send.
func (s *Server) stsAssumeRole(r *request) (any, *apiError) {
	caller := r.caller
	roleArn := r.param("RoleArn")
	if roleArn == "" {
		return nil, errMissingParam("RoleArn")
	}
	sessionName := r.param("RoleSessionName")
	if sessionName == "" {
		return nil, errMissingParam("RoleSessionName")
	}
	if !sessionNamePattern.MatchString(sessionName) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", sessionName)
	}
	m := roleARNPattern.FindStringSubmatch(roleArn)
	if m == nil {
		return nil, errValidation("%s is not a valid role ARN", roleArn)
	}
	partition, accountID, roleName := m[1], m[2], m[3]
	duration := 3600
	if d, set, err := r.intParam("DurationSeconds"); err != nil {
		return nil, err
	} else if set {
		if d < 900 || d > 43200 {
			return nil, errValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", d)
		}
		duration = d
	}
	externalID := r.param("ExternalId")
	if externalID != "" && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDPattern.MatchString(externalID)) {
		return nil, errValidation("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*")
	}

	if caller.kind == kindRole && duration > 3600 {
		// Role chaining: a role session may only start sessions of up to an hour.
		return nil, errValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}

	denied := errAccessDenied(caller.arn(s.world.Partition), "sts:AssumeRole", roleArn, "")
	if caller.isRoot() {
		denied.message = "The root user cannot assume roles; use an IAM principal."
		return nil, denied
	}
	if partition != s.world.Partition {
		return nil, denied
	}
	target := s.accounts[accountID]
	if target == nil || target.State != StateActive {
		return nil, denied
	}
	role := target.role(roleName)
	if role == nil || role.DenyAssume || role.ExternalID != "" && role.ExternalID != externalID {
		return nil, denied
	}

	p := principal{kind: kindRole, account: target, role: role.Name, roleID: role.ID, session: sessionName}
	sess, creds := s.newSession(p, r.now, time.Duration(duration)*time.Second)
	type assumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleId string `xml:"AssumedRoleId"`
	}
	out := struct {
		Credentials     credentialsXML  `xml:"Credentials"`
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	}{creds, assumedRoleUser{sess.principal.arn(s.world.Partition), sess.principal.userID()}}
	return out, nil
}

// stsAssumeRoot issues a root session in a member account, limited by a
// task policy (aws-facts §3.2). The error codes for the refusals are not
// documented; all are AccessDenied except malformed input (UNVERIFIED).
func (s *Server) stsAssumeRoot(r *request) (any, *apiError) {
	caller := r.caller
	targetPrincipal := r.param("TargetPrincipal")
	if targetPrincipal == "" {
		return nil, errMissingParam("TargetPrincipal")
	}
	policyArn := r.param("TaskPolicyArn.arn")
	if policyArn == "" {
		return nil, errMissingParam("TaskPolicyArn")
	}
	duration := 900
	if d, set, err := r.intParam("DurationSeconds"); err != nil {
		return nil, err
	} else if set {
		if d < 0 || d > 900 {
			return nil, errValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 0 and 900", d)
		}
		// 0 is inside the model's range but would make a session that is
		// born expired; it is treated as "unset" (UNVERIFIED).
		if d > 0 {
			duration = d
		}
	}
	targetID := targetPrincipal
	if rest, ok := strings.CutPrefix(targetPrincipal, "arn:"+s.world.Partition+":iam::"); ok {
		targetID, ok = strings.CutSuffix(rest, ":root")
		if !ok {
			targetID = ""
		}
	}
	if !accountIDPattern.MatchString(targetID) {
		return nil, errValidation("TargetPrincipal %s is neither an account ID nor a root user ARN", targetPrincipal)
	}
	policy := taskPolicyName(s.world.Partition, policyArn)
	if policy == "" {
		return nil, errValidation("TaskPolicyArn %s is not a root task policy", policyArn)
	}

	resource := rootARN(s.world.Partition, targetID)
	deny := func(why string) *apiError {
		return errAccessDenied(caller.arn(s.world.Partition), "sts:AssumeRoot", resource, why)
	}
	if caller.isRoot() {
		return nil, deny("because root user credentials cannot call AssumeRoot")
	}
	o := s.org()
	if o == nil || !s.inOrg(caller.account) || !s.isManagement(caller.account.ID) && !s.isDelegatedAdmin(caller.account.ID) {
		return nil, deny("because the caller is not in the management account or the IAM delegated administrator account")
	}
	target := s.accounts[targetID]
	if target == nil || !s.inOrg(target) {
		return nil, deny("because the target is not a member account of the organization")
	}
	if target.ID == o.ManagementAccountID {
		return nil, deny("because AssumeRoot cannot target the management account")
	}
	if target.State != StateActive {
		return nil, deny("because the target account is not active")
	}
	if taskPolicyNeedsRootCredentialsManagement(policy) {
		if !o.RootCredentialsManagement {
			return nil, deny("because root credentials management is not enabled for the organization")
		}
	} else if !o.RootSessions {
		return nil, deny("because root sessions are not enabled for the organization")
	}

	p := principal{kind: kindAssumedRoot, account: target, taskPolicy: policy}
	_, creds := s.newSession(p, r.now, time.Duration(duration)*time.Second)
	return struct {
		Credentials credentialsXML `xml:"Credentials"`
	}{creds}, nil
}
