// Package collect reads an AWS account's root-credential state through
// aws-sdk-go-v2 and writes it into a snapshot.
//
// The AWS APIs the collector may call are listed by the small interfaces in
// clients.go, and every one of them is read-only: that list is what the
// least-privilege policy is built from and what the read-only tests check.
// Every failure becomes a snapshot.Gap naming the call and the error code;
// nothing is logged and dropped.
package collect
