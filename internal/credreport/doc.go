// Package credreport parses the IAM credential report: the CSV that
// iam:GetCredentialReport returns, the console downloads, and auditors pass
// around.
//
// Columns are found by header name, never by position, because reports
// from 2014 have 16 columns and today's have 22. Cells that are not times
// ("N/A", "no_information", "not_supported") are kept as what they are and
// never become the zero time. Booleans are read case-insensitively: the
// documentation writes TRUE, real reports write true.
package credreport
