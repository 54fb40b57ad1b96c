// Package fleet reaches many accounts at once: a whole AWS Organization
// discovered from its management account or IAM delegated administrator,
// or a list of profiles and roles. It decides how each account is reached
// (a named role, sts:AssumeRoot, or the caller's own credentials), runs a
// caller's Visitor in each account on a bounded pool of workers with a
// deadline per account, and returns every discovered account exactly
// once: visited, with the caller's own value for it and how the visit
// ended, or skipped, with the reason. VisitOrg and VisitTargets are the
// machinery; Scan and ScanTargets are the scan's visitor (the
// single-account collectors of package collect) assembling one snapshot,
// and vigil fix plans its accounts through the same machinery.
//
// Discovery is pipelined with scanning: each page of
// organizations:ListAccounts feeds the workers as soon as it arrives, so an
// organisation of thousands of accounts takes about as long as its
// slowest unavoidable chain, not discovery plus scanning. The OU tree,
// which only names each account's place, is walked beside them.
//
// Nothing here is mocked in tests: they drive the real AWS SDK over HTTP
// against the emulator in package awsemu. The AWS calls a scan can make
// are the methods of the small interfaces in clients.go and collect; the
// policies 'vigil policy' prints are built from them and a test holds the
// two together.
package fleet
