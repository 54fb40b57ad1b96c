package awsemu

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"strconv"
	"time"
)

// The credential report (aws-facts §1). Generation is a small state
// machine per account: STARTED on the first Generate call, INPROGRESS until
// ReportConfig.GenerationPolls calls have been made, then COMPLETE, at which
// moment the CSV is captured from the account state. Get answers from the
// last completed report, stored in ReportConfig.Existing.
//
// Reports do not expire with time: when ReportExpired appears in real AWS
// is UNVERIFIED, so tests script it with ReportConfig.Expired instead.

// reportReuseWindow is the 4-hour rule: a report younger than this is
// returned by Generate as COMPLETE without generating a new one.
const reportReuseWindow = 4 * time.Hour

// reportState is the generation in progress, if any.
type reportState struct {
	generating bool
	calls      int // Generate calls since the generation started
}

// CredentialReportHeader is the 22-column header of the current report format.
const CredentialReportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// Placeholder values of the report.
const (
	reportNA            = "N/A"
	reportNoInformation = "no_information"
	reportNotSupported  = "not_supported"
)

func (s *Server) iamGenerateCredentialReport(r *request) (any, *apiError) {
	a := r.caller.account
	st := s.reports[a.ID]
	type result struct {
		Description string `xml:"Description,omitempty"`
		State       string `xml:"State"`
	}
	if st.generating {
		st.calls++
		polls := a.Report.GenerationPolls
		if polls < 1 {
			polls = 1
		}
		if st.calls <= polls {
			return result{State: "INPROGRESS"}, nil
		}
		st.generating = false
		a.Report.Existing = &ExistingReport{GeneratedAt: r.now, CSV: string(renderCredentialReport(s.world.Partition, a))}
		a.Report.Expired = false
		return result{State: "COMPLETE"}, nil
	}
	if ex := a.Report.Existing; ex != nil && !a.Report.Expired && r.now.Sub(ex.GeneratedAt) < reportReuseWindow {
		return result{State: "COMPLETE"}, nil
	}
	st.generating, st.calls = true, 1
	return result{Description: "No report exists. Starting a new report generation task", State: "STARTED"}, nil
}

func (s *Server) iamGetCredentialReport(r *request) (any, *apiError) {
	a := r.caller.account
	switch {
	case s.reports[a.ID].generating:
		return nil, newError("ReportInProgress", "Report generation in progress. Try again later.")
	case a.Report.Expired:
		return nil, newError("ReportExpired", "The credential report has expired. Generate a new one.")
	case a.Report.Existing == nil:
		return nil, newError("ReportNotPresent", "No credential report exists. Call GenerateCredentialReport first.")
	}
	ex := a.Report.Existing
	return struct {
		Content       string  `xml:"Content"`
		ReportFormat  string  `xml:"ReportFormat"`
		GeneratedTime isoTime `xml:"GeneratedTime"`
	}{base64.StdEncoding.EncodeToString([]byte(ex.CSV)), "text/csv", isoTime(ex.GeneratedAt)}, nil
}

// RenderCredentialReport returns the CSV credential report IAM would
// produce for the account right now: the root row first, then IAM users by
// name. Values are lowercase true/false and timestamps
// 2006-01-02T15:04:05+00:00, as in real reports. Fill defaults first (a
// server does); this is exported so other packages' tests can build
// expected reports from the same world.
func RenderCredentialReport(partition string, a *Account) []byte {
	if partition == "" {
		partition = "aws"
	}
	c := a.clone()
	w := World{Partition: partition, Accounts: []*Account{c}}
	w.normalize()
	return renderCredentialReport(partition, c)
}

func renderCredentialReport(partition string, a *Account) []byte {
	var buf bytes.Buffer
	buf.WriteString(CredentialReportHeader + "\n")
	cw := csv.NewWriter(&buf)

	root := a.Root
	rootPasswordEnabled := reportNotSupported
	if a.Report.RootPasswordAsBool {
		rootPasswordEnabled = strconv.FormatBool(root.Password)
	}
	// Root's password_last_used says no_information rather than N/A when
	// there is no password, as the report of an account without root
	// credentials is expected to (aws-facts §1.3, UNVERIFIED).
	rootPasswordUsed := reportNoInformation
	if root.PasswordLastUsed != nil {
		rootPasswordUsed = reportTime(*root.PasswordLastUsed)
	}
	row := []string{
		"<root_account>", rootARN(partition, a.ID), reportTime(root.CreateDate),
		rootPasswordEnabled, rootPasswordUsed, reportNotSupported, reportNotSupported,
		strconv.FormatBool(len(root.MFADevices) > 0),
	}
	row = append(row, keyColumns(root.AccessKeys)...)
	row = append(row, certColumns(root.SigningCertificates)...)
	cw.Write(row)

	for _, u := range sortedUsers(a) {
		passwordUsed, passwordChanged := reportNA, reportNA
		if u.Password {
			passwordUsed = reportNoInformation
			if u.PasswordLastUsed != nil {
				passwordUsed = reportTime(*u.PasswordLastUsed)
			}
			changed := u.CreateDate
			if u.PasswordLastChanged != nil {
				changed = *u.PasswordLastChanged
			}
			passwordChanged = reportTime(changed)
		}
		row := []string{
			u.Name, userARN(partition, a.ID, u.Path, u.Name), reportTime(u.CreateDate),
			strconv.FormatBool(u.Password), passwordUsed, passwordChanged, reportNA,
			strconv.FormatBool(len(u.MFADevices) > 0),
		}
		row = append(row, keyColumns(u.AccessKeys)...)
		row = append(row, certColumns(u.SigningCertificates)...)
		cw.Write(row)
	}
	cw.Flush()
	return buf.Bytes()
}

func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// keyColumns renders the two access-key slots. An inactive key still shows
// its last_rotated time, as real reports do.
func keyColumns(keys []AccessKey) []string {
	var cols []string
	for i := range 2 {
		if i >= len(keys) {
			cols = append(cols, "false", reportNA, reportNA, reportNA, reportNA)
			continue
		}
		k := keys[i]
		date, region, service := reportNA, reportNA, reportNA
		if k.LastUsed != nil {
			date = reportTime(k.LastUsed.Date)
			region, service = orNA(k.LastUsed.Region), orNA(k.LastUsed.Service)
		}
		cols = append(cols, strconv.FormatBool(k.Status == StatusActive), reportTime(k.CreateDate), date, region, service)
	}
	return cols
}

func certColumns(certs []Cert) []string {
	var cols []string
	for i := range 2 {
		if i >= len(certs) {
			cols = append(cols, "false", reportNA)
			continue
		}
		cols = append(cols, strconv.FormatBool(certs[i].Status == StatusActive), reportTime(certs[i].UploadDate))
	}
	return cols
}
