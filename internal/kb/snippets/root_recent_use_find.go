package snippets

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RootUse is what the credential report says about the root user's use.
// Zero times mean no recorded use.
type RootUse struct {
	ReportTime       time.Time    // the report can be up to four hours old
	PasswordLastUsed time.Time    // last console sign-in
	KeyLastUsed      [2]time.Time // last use of access keys 1 and 2
}

// Latest is the most recent use of any root credential.
func (u RootUse) Latest() time.Time {
	latest := u.PasswordLastUsed
	for _, t := range u.KeyLastUsed {
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// RootLastUse reads the root user's last console sign-in and access key use
// from the IAM credential report, generating a report first if needed.
func RootLastUse(ctx context.Context, cfg aws.Config) (RootUse, error) {
	client := iam.NewFromConfig(cfg)
	for {
		gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return RootUse{}, fmt.Errorf("iam:GenerateCredentialReport: %w", err)
		}
		if gen.State == types.ReportStateTypeComplete {
			break
		}
		select {
		case <-ctx.Done():
			return RootUse{}, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	report, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return RootUse{}, fmt.Errorf("iam:GetCredentialReport: %w", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(report.Content)).ReadAll()
	if err != nil || len(rows) < 2 {
		return RootUse{}, fmt.Errorf("credential report: unreadable CSV: %v", err)
	}
	// Address columns by name: older reports have fewer columns.
	column := map[string]int{}
	for i, name := range rows[0] {
		column[name] = i
	}
	for _, row := range rows[1:] {
		if len(row) != len(rows[0]) || row[column["user"]] != "<root_account>" {
			continue
		}
		// Sentinels such as N/A, no_information and not_supported do not
		// parse as times and are left as "no recorded use".
		at := func(name string) time.Time {
			i, ok := column[name]
			if !ok {
				return time.Time{}
			}
			t, _ := time.Parse(time.RFC3339, row[i])
			return t
		}
		return RootUse{
			ReportTime:       aws.ToTime(report.GeneratedTime),
			PasswordLastUsed: at("password_last_used"),
			KeyLastUsed:      [2]time.Time{at("access_key_1_last_used_date"), at("access_key_2_last_used_date")},
		}, nil
	}
	return RootUse{}, errors.New("credential report: no <root_account> row")
}
