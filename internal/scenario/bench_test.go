package scenario

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/credreport"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const reportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

func syntheticReport(users int) []byte {
	var b bytes.Buffer
	b.WriteString(reportHeader + "\n")
	b.WriteString("<root_account>,arn:aws:iam::111122223333:root,2019-03-14T09:21:07+00:00,not_supported,2026-10-02T17:40:12+00:00,not_supported,not_supported,false,true,2019-03-14T09:45:51+00:00,2026-10-30T08:12:00+00:00,us-east-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	for i := 0; i < users; i++ {
		fmt.Fprintf(&b, "user-%06d,arn:aws:iam::111122223333:user/team/user-%06d,2021-06-01T12:00:00+00:00,true,2026-10-29T18:02:44+00:00,2026-05-01T10:00:00+00:00,N/A,true,true,2026-05-01T10:05:00+00:00,2026-10-30T07:55:00+00:00,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n", i, i)
	}
	return b.Bytes()
}

// BenchmarkReportEvaluate parses a credential report of N users, builds the
// snapshot and runs every rule: the whole of 'vigil scan
// --credential-report' but reading the file. Target for 100,000 users:
// under 100 ms and under 100 MB (B/op is every byte allocated, an upper
// bound on the live heap).
func BenchmarkReportEvaluate(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			data := syntheticReport(n)
			now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				rep, err := credreport.Decode(data)
				if err != nil {
					b.Fatal(err)
				}
				doc := snapshot.New(now, "bench", snapshot.Source{Kind: snapshot.SourceCredentialReport})
				cr := rep.Snapshot()
				cr.FileTime = &now
				doc.Accounts = append(doc.Accounts, snapshot.Account{ID: rep.AccountID, Partition: rep.Partition, CredentialReport: cr})
				res := rule.Evaluate(rules.All(), doc, now, rule.DefaultOptions())
				if len(res) != accountRules() || res[0].Status == "" {
					b.Fatal("no results")
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkScanLatency scans one account through the real SDK against the
// emulator answering every call after 50 ms, and reports the API calls made
// and the wall time against the lower bound: the chain of credential report
// calls that must follow one another (each a full round trip) plus the
// polling waits IAM imposes. Everything else runs in parallel beside that
// chain. Target: wall time ≤ 1.2 × bound.
func BenchmarkScanLatency(b *testing.B) {
	const latency = 50 * time.Millisecond
	for _, c := range []struct {
		name     string
		existing bool
	}{{"fresh-report", true}, {"report-to-generate", false}} {
		b.Run(c.name, func(b *testing.B) {
			var totalCalls, totalBound, totalWall float64
			for b.Loop() {
				b.StopTimer()
				now := time.Now().UTC()
				w := benchWorld(now, c.existing)
				srv := awsemu.NewServer(w, awsemu.WithLatency(latency))
				cfg, err := srv.AWSConfig(context.Background(), awsCreds("AKIAAUDITOR000000001"))
				if err != nil {
					b.Fatal(err)
				}
				var slept atomic.Int64
				opts := collect.DefaultOptions()
				opts.Sleep = func(ctx context.Context, d time.Duration) error {
					slept.Add(int64(d))
					t := time.NewTimer(d)
					defer t.Stop()
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-t.C:
						return nil
					}
				}
				b.StartTimer()
				start := time.Now()
				acct, err := collect.Account(context.Background(), collect.NewClients(cfg), opts)
				wall := time.Since(start)
				b.StopTimer()
				if err != nil || len(acct.Gaps) > 0 || acct.CredentialReport == nil {
					b.Fatalf("scan failed: %v gaps %+v", err, acct.Gaps)
				}
				chain := srv.CallCount("iam", "GetCredentialReport") + srv.CallCount("iam", "GenerateCredentialReport")
				bound := time.Duration(chain)*latency + time.Duration(slept.Load())
				totalCalls += float64(len(srv.Calls()))
				totalBound += float64(bound)
				totalWall += float64(wall)
				srv.Close()
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(totalCalls/n, "calls/scan")
			b.ReportMetric(totalBound/n/1e6, "bound-ms")
			b.ReportMetric(totalWall/n/1e6, "wall-ms")
			b.ReportMetric(totalWall/totalBound, "wall/bound")
		})
	}
}

func benchWorld(now time.Time, existingReport bool) *awsemu.World {
	a := &awsemu.Account{
		ID: "111122223333", Name: "bench",
		Root: awsemu.Root{CreateDate: now.AddDate(-5, 0, 0), Password: true,
			AccessKeys: []awsemu.AccessKey{{ID: "AKIAROOTKEY000000001", CreateDate: now.AddDate(-5, 0, 0)}},
			MFADevices: []awsemu.MFADevice{{Type: awsemu.MFAVirtual, EnableDate: now.AddDate(-5, 0, 0)}}},
		Users: []awsemu.User{{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: "AKIAAUDITOR000000001"}}}},
	}
	if existingReport {
		a.Report.Existing = &awsemu.ExistingReport{GeneratedAt: now.Add(-time.Hour)}
	}
	return &awsemu.World{Accounts: []*awsemu.Account{a}}
}

// accountRules counts the rules evaluated per account; organisation rules
// need an organisation, which a credential report file does not have.
func accountRules() int {
	n := 0
	for _, r := range rules.All() {
		if r.Scope == rule.AccountScope {
			n++
		}
	}
	return n
}
