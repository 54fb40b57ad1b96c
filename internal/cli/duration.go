package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dayDuration is a duration flag that also accepts days ("30d"), the unit
// people think in for credential ages.
type dayDuration struct{ d *time.Duration }

func (f dayDuration) String() string {
	if f.d == nil {
		return ""
	}
	d := *f.d
	if d != 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (f dayDuration) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return fmt.Errorf("%q is not a number of days", s)
		}
		*f.d = time.Duration(days) * 24 * time.Hour
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 30d, 12h or 90m", s)
	}
	*f.d = d
	return nil
}

func (f dayDuration) Type() string { return "duration" }
