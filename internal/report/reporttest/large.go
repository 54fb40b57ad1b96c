package reporttest

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// LargeResults is the size of the large organisation every writer must
// write in bounded memory, and MaxLargeMemory that bound: the issue's
// budget for writing it, beyond the document itself.
const (
	LargeResults   = 100_000
	MaxLargeMemory = 200 << 20
)

// largeRules are the rule IDs of the large organisation, eight per
// account, as Vigil has.
var largeRules = []struct {
	id  string
	sev rule.Severity
}{
	{"org-root-credentials-management", rule.High}, {"org-root-scp-coverage", rule.High}, {"root-access-key", rule.Critical},
	{"root-hardware-mfa", rule.Medium}, {"root-member-password", rule.Medium}, {"root-mfa", rule.Critical},
	{"root-recent-use", rule.High}, {"root-signing-certificate", rule.Low},
}

// Large builds an organisation with n results (n/8 member accounts, eight
// rules each): 40% FAIL, 10% UNKNOWN, 40% PASS, 10% NOT_APPLICABLE, each
// with a line of evidence, through report.Build. For the bounded-memory
// check and the writers' benchmarks.
func Large(n int) *report.Document {
	snap := snapshot.New(now(), "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "profile management"})
	const mgmt = "500000000000"
	snap.Organization = &snapshot.Organization{ID: "o-large", ManagementAccountID: mgmt, AccessMode: snapshot.AccessAssumeRoot, Scope: "the whole organisation"}
	member := &snapshot.Membership{Role: snapshot.RoleMember, OrganizationID: "o-large", ManagementAccountID: mgmt}
	accounts := (n + len(largeRules) - 1) / len(largeRules)
	snap.Accounts = make([]snapshot.Account, 0, accounts)
	results := make([]rule.Result, 0, n)
	for a := range accounts {
		id := fmt.Sprintf("5%011d", a+1)
		name := fmt.Sprintf("workload-%05d", a+1)
		snap.Accounts = append(snap.Accounts, snapshot.Account{ID: id, Name: name, Partition: "aws", Org: member,
			OUPath: []string{"Root", "Workloads", fmt.Sprintf("Team %03d", a%200)}})
		for k, r := range largeRules {
			if len(results) == n {
				break
			}
			var st rule.Status
			switch (a + k) % 10 {
			case 0, 1, 2, 3:
				st = rule.Fail
			case 4:
				st = rule.Unknown
			case 5, 6, 7, 8:
				st = rule.Pass
			default:
				st = rule.NotApplicable
			}
			res := result(id, name, r.id, st, r.sev, fmt.Sprintf("%s is %s in %s: the root user of account %s.", r.id, st, name, id),
				rule.Evidence{Source: "credential report", Key: "access_key_1_active", Value: "true", AsOf: ptr(now())})
			results = append(results, res)
		}
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "1.2.3-test"}, now())
}

func ptr[T any](v T) *T { return &v }

var (
	largeOnce sync.Once
	largeDoc  *report.Document
)

// large is Large(LargeResults), built once per test binary.
func large() *report.Document {
	largeOnce.Do(func() { largeDoc = Large(LargeResults) })
	return largeDoc
}

// checkLargeOrganisation: a 100,000-result organisation is written
// without error, and the heap grows by less than MaxLargeMemory while it
// is (sampled as the output is written, with the collector made eager so
// that garbage is not counted as memory held). A writer that renders the
// whole output, or a copy of the document, into memory first fails.
func checkLargeOrganisation(w report.Writer, _ Read) error {
	d := large()
	old := debug.SetGCPercent(25)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := &sampler{base: ms.HeapAlloc, peak: ms.HeapAlloc}
	if err := w.Write(s, d); err != nil {
		return fmt.Errorf("%d results: %w", LargeResults, err)
	}
	s.sample()
	if s.n == 0 {
		return fmt.Errorf("%d results: nothing written", LargeResults)
	}
	if os.Getenv("VIGIL_REPORTTEST_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "large organisation: %d bytes written, heap grew %d MiB\n", s.n, (s.peak-s.base)>>20)
	}
	if grew := s.peak - s.base; grew > MaxLargeMemory {
		return fmt.Errorf("%d results (%d bytes written): the heap grew by %d MiB, over %d MiB", LargeResults, s.n, grew>>20, MaxLargeMemory>>20)
	}
	return nil
}

// sampler discards what is written, and samples the heap every 256 KiB.
type sampler struct {
	base, peak uint64
	n, last    int
}

func (s *sampler) Write(p []byte) (int, error) {
	s.n += len(p)
	if s.n-s.last >= 256<<10 {
		s.last = s.n
		s.sample()
	}
	return len(p), nil
}

func (s *sampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.peak = max(s.peak, ms.HeapAlloc)
}
