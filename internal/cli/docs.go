package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/site"
)

func newDocsCommand(app *App) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "docs --out DIR",
		Short: "Write the knowledge base as a static HTML site",
		Long: `Write the whole knowledge base as a static HTML site that a team can host:
an index, one page per rule and one per compliance framework (its versions,
controls, which rules decide them and how much is automated), and a style
sheet. Links are relative, so the directory can be served from anywhere or
opened from disk. Every file is written atomically; files of an earlier site
in DIR are replaced, other files are left alone.`,
		Example: `  vigil docs --out site && open site/index.html`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required: the directory to write the site to")
			}
			return runDocs(app, out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the site to (created if missing)")
	return cmd
}

func runDocs(app *App, dir string) error {
	if err := checkDirWritable("out", dir, true); err != nil {
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
	// Render everything before writing anything: a rendering error leaves
	// the directory as it was.
	files, err := site.Build(pages, rules.All(), cat, app.Version)
	if err != nil {
		return err
	}
	if err := site.Write(dir, files); err != nil {
		return err
	}
	fmt.Fprintf(app.Stderr, "vigil: wrote %d files to %s (open %s)\n", len(files), dir, dir+string(os.PathSeparator)+"index.html")
	return nil
}
