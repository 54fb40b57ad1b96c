package snippets

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// UserCredentials is one IAM user's row of the credential report. Zero
// times mean "never" or "not applicable".
type UserCredentials struct {
	User                string
	PasswordEnabled     bool
	PasswordLastUsed    time.Time
	PasswordLastChanged time.Time
	MFAActive           bool
	KeyActive           [2]bool
	KeyCreated          [2]time.Time // access_key_N_last_rotated: when the key was made
	KeyLastUsed         [2]time.Time
}

// IAMUserCredentials reads every IAM user's credentials from the credential
// report: one report for the whole account, whatever the number of users.
func IAMUserCredentials(ctx context.Context, cfg aws.Config) ([]UserCredentials, error) {
	client := iam.NewFromConfig(cfg)
	for {
		gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, fmt.Errorf("iam:GenerateCredentialReport: %w", err)
		}
		if gen.State == types.ReportStateTypeComplete {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	report, err := client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, fmt.Errorf("iam:GetCredentialReport: %w", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(report.Content)).ReadAll()
	if err != nil || len(rows) < 1 {
		return nil, fmt.Errorf("credential report: unreadable CSV: %v", err)
	}
	column := map[string]int{}
	for i, name := range rows[0] {
		column[name] = i
	}
	var users []UserCredentials
	for _, row := range rows[1:] {
		get := func(name string) string {
			if i, ok := column[name]; ok && i < len(row) {
				return row[i]
			}
			return ""
		}
		// Sentinels (N/A, no_information) do not parse and stay zero.
		at := func(name string) time.Time {
			t, _ := time.Parse(time.RFC3339, get(name))
			return t
		}
		if get("user") == "<root_account>" {
			continue
		}
		users = append(users, UserCredentials{
			User:                get("user"),
			PasswordEnabled:     get("password_enabled") == "true",
			PasswordLastUsed:    at("password_last_used"),
			PasswordLastChanged: at("password_last_changed"),
			MFAActive:           get("mfa_active") == "true",
			KeyActive:           [2]bool{get("access_key_1_active") == "true", get("access_key_2_active") == "true"},
			KeyCreated:          [2]time.Time{at("access_key_1_last_rotated"), at("access_key_2_last_rotated")},
			KeyLastUsed:         [2]time.Time{at("access_key_1_last_used_date"), at("access_key_2_last_used_date")},
		})
	}
	return users, nil
}

// Unused lists the enabled credentials of u not used for maxIdle or more
// at now. A credential never used counts from when it was set: a key made
// 90 days ago and never used is unused.
func (u UserCredentials) Unused(now time.Time, maxIdle time.Duration) []string {
	idle := func(lastUsed, set time.Time) bool {
		if lastUsed.IsZero() {
			lastUsed = set
		}
		return lastUsed.IsZero() || now.Sub(lastUsed) >= maxIdle
	}
	var out []string
	if u.PasswordEnabled && idle(u.PasswordLastUsed, u.PasswordLastChanged) {
		out = append(out, "password")
	}
	for i := range 2 {
		if u.KeyActive[i] && idle(u.KeyLastUsed[i], u.KeyCreated[i]) {
			out = append(out, fmt.Sprintf("access key %d", i+1))
		}
	}
	return out
}

// ConsoleWithoutMFA reports whether u can sign in to the console with a
// password alone.
func (u UserCredentials) ConsoleWithoutMFA() bool { return u.PasswordEnabled && !u.MFAActive }
