package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/fix"
)

const day = 24 * time.Hour

// bounds is the range a duration flag accepts. A value outside it is a
// usage error that states the range, so a typo such as 999999d (which
// once overflowed into 0s, and a window of 0s passes everything) never
// turns into a different setting.
type bounds struct {
	min, max time.Duration
	// zero, when not empty, allows 0 and says what it means ("for no
	// limit").
	zero string
}

// Ranges of the duration flags, one per meaning, so the commands that
// share a flag share its range and the README can quote them.
var (
	// The window of root use that counts as recent: less than an hour is
	// noise, and credential report dates begin in 2014.
	rangeRootUseWindow = bounds{min: time.Hour, max: 3650 * day}
	// A report generates in seconds, so a limit under a minute refuses
	// every report.
	rangeMaxReportAge = bounds{min: time.Minute, max: 3650 * day, zero: "for no limit"}
	// IAM generates a report in seconds to minutes.
	rangeReportTimeout = bounds{min: time.Second, max: time.Hour}
	// min-idle guards irreversible deletions; 0 keeps only the refusal of
	// keys whose last use is unknown.
	rangeMinIdle = bounds{min: time.Hour, max: 3650 * day, zero: "to refuse only keys whose last use is unknown"}
	// CloudTrail's event history holds 90 days.
	rangeLookback = bounds{min: time.Hour, max: fix.MaxLookback}
	// An account is read in seconds; a day is already a hung run.
	rangeAccountTimeout = bounds{min: time.Second, max: day}
	// One attempt of one AWS call: AWS answers in well under a second;
	// an attempt longer than the account's own range is meaningless.
	rangeCallTimeout = bounds{min: time.Second, max: time.Hour}
	// sts:AssumeRole accepts 900 to 43,200 seconds.
	rangeSessionDuration = bounds{min: 15 * time.Minute, max: 12 * time.Hour}
)

// String states the range as the error messages and help texts do.
func (b bounds) String() string {
	s := fmt.Sprintf("%s to %s", formatDuration(b.min), formatDuration(b.max))
	if b.zero != "" {
		s += ", or 0 " + b.zero
	}
	return s
}

// check says whether d is in range.
func (b bounds) check(d time.Duration) error {
	if d == 0 && b.zero != "" {
		return nil
	}
	if d < b.min || d > b.max {
		return fmt.Errorf("out of range: want %s", b)
	}
	return nil
}

// durationFlag is a duration flag that also accepts days ("30d"), the
// unit people think in for credential ages, within bounds.
type durationFlag struct {
	d *time.Duration
	b bounds
}

// newDuration binds a duration flag to d, whose current value is the
// default, accepting only values within b.
func newDuration(d *time.Duration, b bounds) durationFlag { return durationFlag{d: d, b: b} }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return formatDuration(*f.d)
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if errors.Is(err, errTooLong) {
		return fmt.Errorf("%q is out of range: want %s", s, f.b)
	}
	if err != nil {
		return fmt.Errorf("%w (want %s)", err, f.b)
	}
	if err := f.b.check(d); err != nil {
		return fmt.Errorf("%q is %w", s, err)
	}
	*f.d = d
	return nil
}

func (f durationFlag) Type() string { return "duration" }

// parseDuration reads "30d" or a Go duration ("12h", "90m"). Negative
// values and values beyond what a time.Duration holds (about 290 years)
// are errors, never wrapped around.
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if errors.Is(err, strconv.ErrRange) && n[0] != '-' {
			return 0, errTooLong
		}
		if err != nil || days < 0 || n[0] == '+' {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		if days > int64(maxDuration/day) {
			return 0, errTooLong
		}
		return time.Duration(days) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// time.ParseDuration says "invalid" for overflow too; a string
		// of nothing but numbers and units can only have overflowed.
		if strings.Trim(s, "0123456789.nsuµmh") == "" && strings.ContainsAny(s, "0123456789") {
			return 0, errTooLong
		}
		return 0, fmt.Errorf("%q is not a duration such as 30d, 12h or 90m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

const maxDuration = time.Duration(1<<63 - 1)

// errTooLong is a duration beyond what a time.Duration holds.
var errTooLong = errors.New("longer than 290 years")

// formatDuration writes whole days as "30d", the way the flags are
// usually given, and anything else as Go does ("1h0m0s" as "1h").
func formatDuration(d time.Duration) string {
	if d != 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
