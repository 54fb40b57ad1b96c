package awsemu

import (
	"net/http"
	"strings"
	"time"
)

// Authentication reads only the access key ID from the SigV4 credential
// scope. Signatures are not verified: the emulator exists to test Vigil's
// logic against AWS's behaviour, not AWS's cryptography, and verifying would
// force every world to carry secrets. What callers can observe of AWS's
// authentication is modelled instead: unknown, deleted or deactivated keys,
// missing or mismatched session tokens, and expired sessions.

// parseCredentialScope extracts the access key ID, region and service from
// "Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, …"
// or from a presigned X-Amz-Credential query parameter. Regional services
// (CloudTrail's event history) answer for the region the request was
// signed for, as AWS's regional endpoints do.
func parseCredentialScope(hr *http.Request) (keyID, region, service string, ok bool) {
	var cred string
	if auth := hr.Header.Get("Authorization"); auth != "" {
		_, rest, found := strings.Cut(auth, "Credential=")
		if !found {
			return "", "", "", false
		}
		if i := strings.IndexAny(rest, ", "); i >= 0 {
			rest = rest[:i]
		}
		cred = rest
	} else {
		cred = hr.URL.Query().Get("X-Amz-Credential")
	}
	if cred == "" {
		return "", "", "", false
	}
	parts := strings.Split(cred, "/")
	switch len(parts) {
	case 5: // SigV4: key/date/region/service/aws4_request
		region, service = parts[2], parts[3]
	case 4: // SigV4a has no region: key/date/service/aws4_request
		service = parts[2]
	}
	if parts[0] == "" {
		return "", "", "", false
	}
	return parts[0], region, service, true
}

type principalKind int

const (
	kindRoot        principalKind = iota // the root user, signing with its own long-term key
	kindAssumedRoot                      // an sts:AssumeRoot session: root of a member account, limited by a task policy
	kindUser                             // an IAM user
	kindRole                             // a role session
)

// principal is who signed a request.
type principal struct {
	kind        principalKind
	account     *Account
	user        string // kindUser
	role        string // kindRole
	roleID      string // kindRole
	session     string // kindRole: the role session name
	taskPolicy  string // kindAssumedRoot: the task policy name, e.g. IAMAuditRootUserCredentials
	accessKeyID string
}

func (p *principal) isRoot() bool { return p.kind == kindRoot || p.kind == kindAssumedRoot }

// arn is the caller's ARN as GetCallerIdentity reports it. AssumeRoot
// sessions report the target account's root ARN, as CloudTrail does.
func (p *principal) arn(partition string) string {
	switch p.kind {
	case kindUser:
		path := "/"
		if u := p.account.user(p.user); u != nil {
			path = u.Path
		}
		return userARN(partition, p.account.ID, path, p.user)
	case kindRole:
		return "arn:" + partition + ":sts::" + p.account.ID + ":assumed-role/" + p.role + "/" + p.session
	}
	return rootARN(partition, p.account.ID)
}

func (p *principal) userID() string {
	switch p.kind {
	case kindUser:
		if u := p.account.user(p.user); u != nil {
			return u.ID
		}
		return derivedID("AIDA", p.account.ID+"/user/"+p.user)
	case kindRole:
		return p.roleID + ":" + p.session
	}
	return p.account.ID
}

func rootARN(partition, account string) string {
	return "arn:" + partition + ":iam::" + account + ":root"
}

func userARN(partition, account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:" + partition + ":iam::" + account + ":user" + path + name
}

// session is a set of temporary credentials issued by AssumeRole or AssumeRoot.
type session struct {
	principal
	accountID string
	secret    string // kept only so Server.ConfigFor can sign as the session
	token     string
	expires   time.Time
}

// extraSessionName is the role session name of World.Credentials role identities.
const extraSessionName = "awsemu"

// authenticate resolves the signing principal. Callers hold s.mu.
//
// A deactivated key is refused with InvalidClientTokenId. The IAM User
// Guide only says such requests fail with "access denied"; which code AWS
// sends is UNVERIFIED, and this one lets clients tell "bad credentials"
// from "not permitted".
func (s *Server) authenticate(r *request) (*principal, *apiError) {
	if !r.hasAuth {
		return nil, authError(r.proto, "missing")
	}
	id := r.authKey
	if sess, ok := s.sessions[id]; ok {
		if r.token != sess.token {
			return nil, authError(r.proto, "invalid")
		}
		if !r.now.Before(sess.expires) {
			return nil, authError(r.proto, "expired")
		}
		acct := s.accounts[sess.accountID]
		if acct == nil || acct.State == StateClosed {
			return nil, authError(r.proto, "invalid")
		}
		p := sess.principal
		p.account = acct
		return &p, nil
	}
	if owner, ok := s.keyOwners[id]; ok {
		acct := s.accounts[owner.account]
		if acct == nil || acct.State == StateClosed {
			return nil, authError(r.proto, "invalid")
		}
		var keys []AccessKey
		p := &principal{kind: kindRoot, account: acct, accessKeyID: id}
		if owner.user == "" {
			keys = acct.Root.AccessKeys
		} else if u := acct.user(owner.user); u != nil {
			keys = u.AccessKeys
			p.kind, p.user = kindUser, u.Name
		}
		for _, k := range keys {
			if k.ID == id {
				if k.Status != StatusActive {
					return nil, authError(r.proto, "invalid")
				}
				return p, nil
			}
		}
		return nil, authError(r.proto, "invalid")
	}
	if c, ok := s.extra[id]; ok {
		acct := s.accounts[c.AccountID]
		if acct == nil || acct.State == StateClosed {
			return nil, authError(r.proto, "invalid")
		}
		p := &principal{kind: kindRoot, account: acct, accessKeyID: id}
		kind, name, _ := strings.Cut(c.Principal, "/")
		switch kind {
		case "user":
			p.kind, p.user = kindUser, name
		case "role":
			p.kind, p.role, p.session = kindRole, name, extraSessionName
			p.roleID = derivedID("AROA", acct.ID+"/role/"+name)
			if role := acct.role(name); role != nil {
				p.roleID = role.ID
			}
		}
		return p, nil
	}
	return nil, authError(r.proto, "invalid")
}

// authError returns the protocol's authentication failure. awsQuery
// services and JSON services name these differently on the wire.
func authError(proto protocol, what string) *apiError {
	if proto == protoEC2 {
		return &apiError{status: 401, code: "AuthFailure", message: "AWS was not able to validate the provided access credentials"}
	}
	if proto == protoJSON {
		switch what {
		case "missing":
			return &apiError{status: 400, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
		case "expired":
			return &apiError{status: 400, code: "ExpiredTokenException", message: "The security token included in the request is expired"}
		}
		return &apiError{status: 400, code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}
	}
	switch what {
	case "missing":
		return &apiError{status: 403, code: "MissingAuthenticationToken", message: "Request is missing Authentication Token"}
	case "expired":
		return &apiError{status: 400, code: "ExpiredToken", message: "The security token included in the request is expired"}
	}
	return &apiError{status: 403, code: "InvalidClientTokenId", message: "The security token included in the request is invalid."}
}
