package kb

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	headingLine = regexp.MustCompile(`^(#{2,6}) (.+?)\s*$`)
	fenceLine   = regexp.MustCompile("^\\s*(```|~~~)")
	// fenceTags are the attributes the tests find blocks by (id=…,
	// snippet=…, file=…); a reader copying a block needs none of them.
	fenceTags = regexp.MustCompile("(?m)^(\\s*```[a-z]+) [^\\n]*$")
)

// Section returns one section of the page as Markdown, for printing where
// a command needs a page's steps (vigil fix prints the remediation that
// applies to an account it cannot fix). titles are the headings from the
// page's top (an H2) down to the section; the section runs to the next
// heading of the same or a higher level. Its own heading is written as the
// whole path, so it reads on its own, and code blocks keep their language
// but lose the tags the tests find them by.
func (p *Page) Section(titles ...string) (string, error) {
	if len(titles) == 0 {
		return "", fmt.Errorf("%s: no section named", p.Rule.ID)
	}
	lines := strings.Split(p.Markdown, "\n")
	depth := 0 // how many of titles are matched by the headings above
	start, level := -1, 0
	var out []string
	inFence := false
	for i, line := range lines {
		if fenceLine.MatchString(line) {
			inFence = !inFence
		}
		m := headingLine.FindStringSubmatch(line)
		if inFence || m == nil {
			if start >= 0 {
				out = append(out, line)
			}
			continue
		}
		l := len(m[1])
		if start >= 0 {
			if l <= level {
				break
			}
			out = append(out, line)
			continue
		}
		// Headings above the match: keep how much of the path they match.
		for depth > 0 && l <= depth+1 {
			depth--
		}
		if l == depth+2 && m[2] == titles[depth] {
			depth++
			if depth == len(titles) {
				start, level = i, l
				out = append(out, strings.Repeat("#", l)+" "+strings.Join(titles, " › "))
			}
		}
	}
	if start < 0 {
		return "", fmt.Errorf("%s: no section %q", p.Rule.ID, strings.Join(titles, " › "))
	}
	md := strings.TrimSpace(strings.Join(out, "\n"))
	return fenceTags.ReplaceAllString(md, "$1") + "\n", nil
}
