package rules

import (
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// IAMExpiredServerCertificate fails every SSL/TLS certificate stored in
// IAM whose expiry has passed (CIS, Security Hub IAM.26). An expired
// certificate protects nothing, and one deployed by mistake to a load
// balancer or CloudFront breaks the site and teaches people to click
// through warnings. Judged on the evaluation clock, one result per
// certificate, from the metadata iam:ListServerCertificates returns.
var IAMExpiredServerCertificate = rule.Rule{
	ID:       "iam-expired-server-certificate",
	Title:    "Expired SSL/TLS certificate still stored in IAM",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMExpiredServerCertificate,
}

func checkIAMExpiredServerCertificate(in rule.Input) rule.Outcome {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return o
	}
	sc := a.ServerCertificates
	if sc == nil {
		return rule.Outcome{Status: rule.Unknown, Evidence: gapEvidence(a, snapshot.SectionServerCertificates),
			Message: fmt.Sprintf("Cannot list the server certificates stored in IAM (%s).", gapText(a, snapshot.SectionServerCertificates))}
	}
	if len(sc.Certificates) == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcServerCerts, Key: "certificates", Value: "0"}},
			Message: "No SSL/TLS certificate is stored in IAM."}
	}
	var out rule.Outcome
	for _, c := range sc.Certificates {
		ro := rule.ResourceOutcome{Resource: c.ARN}
		if c.Expiration == nil {
			ro.Status = rule.Unknown
			ro.Evidence = []rule.Evidence{{Source: srcServerCerts, Key: "Expiration", Error: "absent from the answer"}}
			ro.Message = fmt.Sprintf("Certificate %s: IAM did not say when it expires.", c.Name)
			out.Resources = append(out.Resources, ro)
			continue
		}
		exp := c.Expiration.UTC()
		ro.Evidence = []rule.Evidence{{Source: srcServerCerts, Key: "Expiration", Value: exp.Format(time.RFC3339)}}
		if c.UploadDate != nil {
			ro.Evidence = append(ro.Evidence, rule.Evidence{Source: srcServerCerts, Key: "UploadDate", Value: c.UploadDate.UTC().Format(time.RFC3339)})
		}
		if !in.Now.Before(exp) {
			ro.Status = rule.Fail
			ro.Message = fmt.Sprintf("Certificate %s expired on %s (%s) and is still stored in IAM; delete it once nothing uses it.", c.Name, exp.Format(timeLayoutShort), daysText(exp, in.Now))
		} else {
			ro.Status = rule.Pass
			ro.Message = fmt.Sprintf("Certificate %s expires on %s (%s).", c.Name, exp.Format(timeLayoutShort), daysText(exp, in.Now))
		}
		out.Resources = append(out.Resources, ro)
	}
	summarise(&out, "server certificate")
	out.Evidence = []rule.Evidence{{Source: srcServerCerts, Key: "certificates", Value: fmt.Sprint(len(sc.Certificates))}}
	return out
}
