// Package fix owns removing root user credentials: for each account it
// decides how they can be removed, reads what is there with the
// credentials that would remove it, guards every access key by its last
// use, and builds a plan of changes that package change applies and logs.
//
// There are three ways, chosen per account and shown in the plan:
//
//   - Organizations member accounts: an sts:AssumeRoot session with the
//     IAMDeleteRootUserCredentials task policy, opened from the
//     management account or the IAM delegated administrator. That policy
//     deletes but cannot deactivate, so deletion is the only move.
//   - Signed with one of the root user's own access keys (a standalone or
//     management account): deactivate first, delete on a later run or at
//     once when asked; the key that signs the run is handled last.
//   - Anything else: the plan says why Vigil cannot do it and names the
//     knowledge base's steps for the case.
//
// Reading is the same for a dry run and a real one; only applying a plan
// changes anything. The AWS calls the package makes are the methods of the
// interfaces in clients.go, and the policies 'vigil policy --for fix'
// prints are built from them.
package fix
