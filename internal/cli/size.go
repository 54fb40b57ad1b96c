package cli

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/input"
)

// sizeFlag is a byte-size flag ("64MiB", "500MB", "1GiB").
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return input.FormatSize(*f.n)
}

func (f sizeFlag) Set(s string) error {
	n, err := input.ParseSize(s)
	if err != nil {
		return err
	}
	if n < 1<<20 {
		return fmt.Errorf("%s is less than 1 MiB, smaller than any real input", input.Quote(s))
	}
	*f.n = n
	return nil
}

func (f sizeFlag) Type() string { return "size" }

// maxInputUsage is the help text of --max-input-size.
const maxInputUsage = "largest snapshot, credential report or targets file read (at least 1MiB); evaluating one takes about twenty times its size in memory"

// inputError adds to an input that is too large how to raise the limit.
func inputError(err error) error {
	if input.IsTooLarge(err) {
		return fmt.Errorf("%w; if the file is genuine, raise the limit with --max-input-size", err)
	}
	return err
}
