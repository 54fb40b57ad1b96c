// Package awsemu owns Vigil's in-process emulator of the AWS wire protocols
// Vigil speaks (IAM and STS over awsQuery, Organizations and CloudTrail's
// LookupEvents over JSON 1.1, Security Hub's BatchImportFindings over
// restJson1, with its limits: securityhub.go), serving a scripted World of accounts, root
// users, IAM users, roles, CloudTrail event histories and an organization
// to the real aws-sdk-go-v2 clients and to the AWS CLI.
//
// It exists so that the collector, the CLI, the benchmarks and the binary's
// --demo mode run against AWS's real request and response bytes, typed
// errors and retry behaviour, without an AWS account. Hand-written fakes of
// SDK interfaces would test our assumptions about AWS against themselves;
// an HTTP emulator makes the SDK's own decoders and retryer judge them.
//
// # Using it
//
//	srv := awsemutest.Start(t, world)                      // or NewServer(world) and Close()
//	cfg := awsemutest.ConfigFor(t, srv, "AKIAROOTKEY000000001")     // aws.Config signing as that key
//	client := iam.NewFromConfig(cfg)
//
// Every service is served from one URL: give it to the SDK as BaseEndpoint
// (NewAWSConfig does) or to other tools as AWS_ENDPOINT_URL or
// --endpoint-url. Worlds come from Go or from JSON scenario files
// (LoadWorldFile). Server.Account and Server.World read the state back after
// a test has changed it.
//
// # Model
//
// Every principal belongs to one account, and IAM and STS calls act on the
// caller's account. Callers are identified by the access key ID in the SigV4
// credential scope; signatures are not verified (see auth.go for why).
// Root keys and IAM user keys in account state sign requests automatically;
// World.Credentials adds more identities; AssumeRole and AssumeRoot issue
// sessions that expire by the server clock, their Expiration stated in the
// caller's wall-clock frame (clients judge expiry by their own clock, and
// a test's server clock may be years away or stand still).
//
// There is no IAM policy evaluation: the root user, IAM users and role
// sessions may do anything in their own account. The restrictions that
// matter for root-credential work are modelled: the five root task policies
// bound AssumeRoot sessions; Organizations reads need the management account
// or a delegated administrator; centralized root access needs trusted access
// and the organization features; service control policies, their
// attachments and the policy types enabled on the root follow the
// Organizations model, quotas included (organizations_policies.go), though
// SCPs are stored and served, never enforced.
//
// # Test controls
//
// Fault rules (Fault, SetFaults, AddFault) answer matching calls with any
// AWS error, or slow them down (Delay) or never answer them (Hang) per
// account, which is how slow and dead accounts are staged; latency
// (SetLatency, SetServiceLatency) delays calls while honouring the
// request context; OrgWorld generates organisations of thousands of
// accounts for scale tests and benchmarks; the clock (WithClock, ManualClock) drives
// report ages and session expiry; the call log (Calls, CallCount) records
// every request without secrets; Mutating classifies operations for
// read-only checks; AddTrailEvents adds CloudTrail events to an account's
// history while the server runs.
//
// # Limitations
//
// Only the operations listed by Operations are implemented; others answer
// InvalidAction (awsQuery) or UnknownOperationException (JSON). Several AWS
// behaviours are not documented and are marked UNVERIFIED where chosen:
// the UserName that responses carry for the root user (omitted here), the
// error code for a deactivated key (InvalidClientTokenId here), the error
// code when root's own long-term key calls GetLoginProfile,
// CreateLoginProfile, DeleteLoginProfile or DeactivateMFADevice without a
// user name, which AWS allows only in AssumeRoot sessions
// (ValidationError here), the error
// codes of AssumeRoot refusals (AccessDenied, or ValidationError for bad
// input), which organization feature gates which task policy, and when a
// credential report expires (only when a world says Expired). Service
// control policies can be created and attached but are not enforced.
package awsemu
