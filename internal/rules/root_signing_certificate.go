package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootSigningCertificate fails when the root user holds an X.509 signing
// certificate: a long-term credential few people know exists, accepted by
// the older SOAP-style APIs, and not covered by access key reviews.
var RootSigningCertificate = rule.Rule{
	ID:       "root-signing-certificate",
	Title:    "Root user has signing certificates",
	Severity: rule.High,
	Category: "Security",
	Service:  "iam",
	RootUser: true,
	Check:    checkRootSigningCertificate,
}

func checkRootSigningCertificate(in rule.Input) rule.Outcome {
	a := in.Account
	var inv []snapshot.SigningCert
	if a.RootCredentials != nil {
		inv = a.RootCredentials.SigningCertificates
	}
	var sum *bool
	if a.Summary != nil {
		sum = a.Summary.SigningCertificatesPresent
	}
	rep, haveRep := rootReport(in)
	var slots, lacks []string
	if haveRep {
		lacks = rep.lacks(certColumns)
		for i, c := range rep.row.Certificates {
			if c.Present() {
				state := "active"
				if !c.Active {
					state = "inactive"
				}
				slots = append(slots, fmt.Sprintf("certificate %d %s, last rotated %s", i+1, state, stamp(c.LastRotated)))
			}
		}
	}
	var invText []string
	if inv != nil {
		invText = []string{}
		for _, c := range inv {
			s := c.ID + " (" + strings.ToLower(c.Status)
			if c.UploadDate != nil {
				s += ", uploaded " + c.UploadDate.UTC().Format(time.RFC3339)
			}
			invText = append(invText, s+")")
		}
	}
	return presence{
		noun:       "signing certificate",
		nouns:      "signing certificates",
		summaryKey: "AccountSigningCertificatesPresent",
		summary:    sum,
		invKnown:   inv != nil,
		inv:        invText,
		rep:        rep,
		haveRep:    haveRep,
		repSlots:   slots,
		repLacks:   lacks,
		repColumn:  "cert_N_active / cert_N_last_rotated",
	}.evaluate(in)
}
