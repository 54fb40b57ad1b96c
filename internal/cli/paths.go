package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fileArg is a file named on the command line, by the flag that names it.
type fileArg struct {
	flag, path string
	// output is true for a file the command writes (or appends to).
	output bool
	// appends is true for an output opened for appending (an audit log):
	// an existing file must itself be writable.
	appends bool
}

// checkFiles runs before anything else a command does, so that a mistake
// costs nothing and a long scan never ends unable to write its result:
// an output may be neither an input nor another output (the same file,
// however named: symlinks, hard links, ./x and x), and every output's
// directory must exist and be writable. Empty paths and "-" (stdin or
// stdout) are not files and are skipped.
func checkFiles(files ...fileArg) error {
	var named []fileArg
	for _, f := range files {
		if f.path != "" && f.path != "-" {
			named = append(named, f)
		}
	}
	for i, out := range named {
		if !out.output {
			continue
		}
		for j, other := range named {
			if j == i || other.output && j < i {
				continue // each pair of outputs once
			}
			if same, err := sameFile(out.path, other.path); err == nil && same {
				what := "an input"
				if other.output {
					what = "another output"
				}
				return usagef("--%s %s is the same file as --%s %s: an output cannot be %s, or one would destroy the other", out.flag, out.path, other.flag, other.path, what)
			}
		}
	}
	for _, out := range named {
		if out.output {
			if err := checkWritable(out); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameFile reports whether a and b name the same file. Both may be
// missing (outputs not written yet): then they are the same when their
// directories are the same directory and their names are equal. A file
// that exists is never the same as one that does not.
func sameFile(a, b string) (bool, error) {
	sa, erra := os.Stat(a)
	sb, errb := os.Stat(b)
	switch {
	case erra == nil && errb == nil:
		return os.SameFile(sa, sb), nil
	case erra == nil || errb == nil:
		return false, nil
	case !errors.Is(erra, fs.ErrNotExist) || !errors.Is(errb, fs.ErrNotExist):
		return false, firstErr(erra, errb)
	}
	if filepath.Base(a) != filepath.Base(b) {
		return false, nil
	}
	da, err := os.Stat(filepath.Dir(a))
	if err != nil {
		return false, err
	}
	db, err := os.Stat(filepath.Dir(b))
	if err != nil {
		return false, err
	}
	return os.SameFile(da, db), nil
}

// checkWritable checks that an output can be written: its directory
// exists and accepts a new file (an output is written beside itself and
// renamed, an audit log may be created), it is not a directory, and an
// existing file appended to can be opened for writing. Nothing is left
// behind.
func checkWritable(out fileArg) error {
	dir := filepath.Dir(out.path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--%s %s: directory %s does not exist", out.flag, out.path, dir)
	}
	if st, err := os.Stat(out.path); err == nil && st.IsDir() {
		return fmt.Errorf("--%s %s: is a directory", out.flag, out.path)
	}
	probe, err := os.CreateTemp(dir, ".vigil-write-check-*")
	if err != nil {
		return fmt.Errorf("--%s %s: cannot write to directory %s: %w", out.flag, out.path, dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	if out.appends {
		f, err := os.OpenFile(out.path, os.O_WRONLY|os.O_APPEND, 0)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("--%s %s: cannot be written: %w", out.flag, out.path, errors.Unwrap(err))
		default:
			f.Close()
		}
	}
	return nil
}

// checkDirWritable checks that an output directory can be written to: it
// exists and accepts a new file, or it does not exist yet and the
// directory it is created in does: its parent, or with mkdirAll the
// nearest existing ancestor.
func checkDirWritable(flag, dir string, mkdirAll bool) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("--%s %s: exists and is not a directory", flag, dir)
	case err != nil:
		parent := filepath.Dir(dir)
		for mkdirAll && parent != filepath.Dir(parent) {
			if _, err := os.Stat(parent); err == nil {
				break
			}
			parent = filepath.Dir(parent)
		}
		if st, err := os.Stat(parent); err != nil || !st.IsDir() {
			return fmt.Errorf("--%s %s: directory %s does not exist", flag, dir, parent)
		}
		dir = parent
	}
	probe, err := os.CreateTemp(dir, ".vigil-write-check-*")
	if err != nil {
		return fmt.Errorf("--%s: cannot write to directory %s: %w", flag, dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
