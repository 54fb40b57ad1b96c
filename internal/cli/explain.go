package cli

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/glamour/styles"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-sec/vigil/internal/kb"
)

type explainOptions struct {
	format  formatFlag
	width   int
	noColor bool
}

func newExplainCommand(app *App) *cobra.Command {
	o := explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain RULE",
		Short: "Explain a rule: its risk, compliance controls, cause, fix and prevention",
		Long: `Print the knowledge base page of a rule: how bad a finding is and why, the
compliance controls it maps to, how the state arises and how to find it, how
to fix it in a standalone or management account and in Organizations member
accounts (console, AWS CLI, Python with boto3, Go SDK), how to prevent it, and
which published advice is wrong. Every command and script on the page is tested
against an AWS emulator.

On a terminal the page is rendered; otherwise it is printed as Markdown.
'vigil rules' lists the rule IDs.`,
		Example: `  vigil explain root-access-key
  vigil explain root-access-key --format markdown > root-access-key.md`,
		ValidArgs: ruleIDs(),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one rule ID (see 'vigil rules'), got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(app, o, args[0])
		},
	}
	f := cmd.Flags()
	addFormatFlag(f, &o.format, "auto", "terminal", "markdown")
	f.Lookup("format").Usage = "auto (rendered on a terminal, Markdown otherwise), terminal or markdown"
	f.IntVar(&o.width, "width", 0, "wrap the rendered page at this many columns (default: the terminal's width, or 100)")
	f.BoolVar(&o.noColor, "no-color", false, "render without colour (NO_COLOR is honoured too)")
	return cmd
}

func runExplain(app *App, o explainOptions, id string) error {
	if err := o.format.validate(); err != nil {
		return err
	}
	if o.width < 0 || (o.width > 0 && o.width < 40) {
		return usagef("--width %d: want 40 or more", o.width)
	}
	r, err := findRule(id)
	if err != nil {
		return err
	}
	cat, err := loadCatalog()
	if err != nil {
		return err
	}
	pages, err := loadPages(cat)
	if err != nil {
		return err
	}
	page, ok := kb.Find(pages, r.ID)
	if !ok {
		return fmt.Errorf("rule %s has no page in this build", r.ID)
	}
	tty := app.IsTerminal(app.Stdout)
	if o.format.value == "markdown" || (o.format.value == "auto" && !tty) {
		_, err := app.Stdout.Write([]byte(page.Markdown))
		return err
	}
	width := o.width
	if width == 0 {
		width = 100
		if f, ok := app.Stdout.(*os.File); ok && tty {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w >= 40 {
				width = min(w, 120)
			}
		}
	}
	// Colour only on a terminal, and never with NO_COLOR or --no-color;
	// "notty" is glamour's plain style, with no escape codes at all.
	style := styles.NoTTYStyle
	if tty && !o.noColor && app.Getenv("NO_COLOR") == "" {
		style = styles.AutoStyle
	}
	renderer, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(width))
	if err != nil {
		return fmt.Errorf("render %s: %w", r.ID, err)
	}
	md, blocks := liftCodeBlocks(terminalLinks(page.Markdown))
	md = unwrapParagraphs(md)
	out, err := renderer.Render(md)
	if err != nil {
		return fmt.Errorf("render %s: %w", r.ID, err)
	}
	out = restoreCodeBlocks(out, blocks)
	_, err = app.Stdout.Write(bytes.TrimLeft([]byte(out), "\n"))
	return err
}

// The renderer wraps every line at the page width, code included, and a
// command broken across lines no longer runs when pasted. So code blocks
// are lifted out before rendering, replaced by a token, and put back
// verbatim afterwards, indented, tabs expanded, never wrapped.

const codeToken = "VIGILCODEBLOCK"

func liftCodeBlocks(md string) (string, [][]string) {
	var out []string
	var blocks [][]string
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimLeft(line, " ")
		if !strings.HasPrefix(trimmed, "```") {
			out = append(out, line)
			continue
		}
		indent := line[:len(line)-len(trimmed)]
		var code []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			code = append(code, strings.ReplaceAll(strings.TrimPrefix(lines[i], indent), "\t", "    "))
		}
		out = append(out, fmt.Sprintf("%s%s%d", indent, codeToken, len(blocks)))
		blocks = append(blocks, code)
	}
	return strings.Join(out, "\n"), blocks
}

var codeTokenLine = regexp.MustCompile(codeToken + `([0-9]+)`)
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

func restoreCodeBlocks(rendered string, blocks [][]string) string {
	lines := strings.Split(rendered, "\n")
	var out []string
	for _, line := range lines {
		m := codeTokenLine.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		plain := ansiEscape.ReplaceAllString(line, "")
		indent := strings.Repeat(" ", len(plain)-len(strings.TrimLeft(plain, " "))+2)
		for _, c := range blocks[n] {
			out = append(out, strings.TrimRight(indent+c, " "))
		}
	}
	return strings.Join(out, "\n")
}

var pageLink = regexp.MustCompile(`\[([^\]]+)\]\(([a-z0-9-]+)\.md(?:#[^)]*)?\)`)

// terminalLinks turns links between knowledge base pages, which a terminal
// cannot follow, into the command that shows the page.
func terminalLinks(md string) string {
	return pageLink.ReplaceAllStringFunc(md, func(m string) string {
		s := pageLink.FindStringSubmatch(m)
		if _, ok := rulesByID(s[2]); ok {
			return s[1] + " (`vigil explain " + s[2] + "`)"
		}
		return s[1]
	})
}

var blockStart = regexp.MustCompile(`^(\s*([-*>#|]|[0-9]+\.)\s|\s*` + codeToken + `|\s*\|)`)

// unwrapParagraphs joins the hard-wrapped lines of paragraphs and list
// items, so the renderer wraps them at the terminal's width instead of
// keeping the source's line breaks inside list items.
func unwrapParagraphs(md string) string {
	var out []string
	for _, line := range strings.Split(md, "\n") {
		if n := len(out); n > 0 && strings.TrimSpace(line) != "" && strings.TrimSpace(out[n-1]) != "" &&
			!blockStart.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(out[n-1]), "#") &&
			!strings.HasPrefix(strings.TrimSpace(out[n-1]), "|") && !strings.Contains(out[n-1], codeToken) {
			out[n-1] += " " + strings.TrimSpace(line)
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
