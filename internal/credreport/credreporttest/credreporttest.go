// Package credreporttest builds credential reports for tests and
// benchmarks: realistic in shape, any size.
package credreporttest

import (
	"bytes"
	"fmt"
)

// Header is the 22-column header IAM writes today.
const Header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// Synthetic returns a report for account 111122223333 whose root holds an
// active key used on 2026-10-30, followed by users IAM users who each have a
// password, MFA and one active key.
func Synthetic(users int) []byte {
	var b bytes.Buffer
	b.Grow((users + 2) * 330)
	b.WriteString(Header + "\n")
	b.WriteString("<root_account>,arn:aws:iam::111122223333:root,2019-03-14T09:21:07+00:00,not_supported,2026-10-02T17:40:12+00:00,not_supported,not_supported,false,true,2019-03-14T09:45:51+00:00,2026-10-30T08:12:00+00:00,us-east-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	for i := 0; i < users; i++ {
		fmt.Fprintf(&b, "user-%06d,arn:aws:iam::111122223333:user/team/user-%06d,2021-06-01T12:00:00+00:00,true,2026-10-29T18:02:44+00:00,2026-05-01T10:00:00+00:00,N/A,true,true,2026-05-01T10:05:00+00:00,2026-10-30T07:55:00+00:00,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n", i, i)
	}
	return b.Bytes()
}
