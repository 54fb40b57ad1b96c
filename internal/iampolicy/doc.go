// Package iampolicy owns IAM policy documents as Vigil reads and writes
// them: the JSON grammar (Version, Statement, Effect, Action/NotAction,
// Resource/NotResource, Principal, Condition), a structural checker that
// names every mistake with its path, and an evaluator that answers one
// question precisely — does this statement deny this request? — or says it
// cannot tell.
//
// The evaluator exists for service control policies. Deciding whether an
// SCP restricts the root user means evaluating its Deny statements the way
// AWS does: action and resource wildcards, ArnLike on aws:PrincipalArn,
// the Null check on aws:AssumedRoot, IfExists and negated operators on
// absent keys. A condition on a key the caller did not describe (say
// aws:RequestedRegion) makes the answer Unknown rather than a guess, so a
// rule built on it never counts a policy it does not understand.
//
// The package is pure: no AWS SDK, no I/O.
package iampolicy
