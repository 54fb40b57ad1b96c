package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/store"
)

type tokenOptions struct {
	store storeFlags
	name  string
	role  string
}

func newTokenCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make, list and revoke the tokens of vigil serve's API and dashboard",
		Long: `vigil serve answers nothing but /healthz and /readyz without a token. A
viewer token reads; an admin token also suppresses findings. The token is
printed once, when it is made: the store keeps only its hash.`,
		Args: noArgs,
	}
	o := tokenOptions{}
	create := &cobra.Command{
		Use:     "create",
		Short:   "Make a token; it is printed once, alone on the last line",
		Example: `  vigil token create --name ci --role viewer --config vigil.yaml`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name := strings.TrimSpace(o.name)
			if name == "" || len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return usagef("--name: want a name of 1 to 64 printable characters (who or what uses the token)")
			}
			if !api.ValidRole(o.role) {
				return usagef("--role %s: want viewer or admin", input.Quote(o.role))
			}
			plain, t, err := api.NewToken(name, store.Role(o.role))
			if err != nil {
				return err
			}
			t.CreatedAt = app.now()
			st, err := openStore(cmd.Context(), &o.store, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.AddToken(cmd.Context(), t); err != nil {
				if errors.Is(err, store.ErrExists) {
					return fmt.Errorf("a token named %s exists already (revoke it first, or choose another name)", input.Quote(name))
				}
				return err
			}
			fmt.Fprintf(app.Stdout, "Token %s (%s) created. It is shown only now; keep it in a secret store:\n%s\n", input.Quote(name), o.role, plain)
			return nil
		},
	}
	addStoreFlags(create.Flags(), &o.store, "the store to write (default vigil.db)")
	create.Flags().StringVar(&o.name, "name", "", "who or what uses the token (required)")
	create.Flags().StringVar(&o.role, "role", "viewer", "viewer (reads) or admin (also suppresses)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens (names and roles, never the tokens)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openExisting(cmd.Context(), &o.store)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if len(ts) == 0 {
				fmt.Fprintln(&buf, "No tokens.")
			} else {
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tKEY\tCREATED\tREVOKED")
				for _, t := range ts {
					rev := "-"
					if t.RevokedAt != nil {
						rev = t.RevokedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cleanText(t.Name), t.Role, t.Key, t.CreatedAt.Format(time.RFC3339), rev)
				}
				tw.Flush()
			}
			_, err = app.Stdout.Write(buf.Bytes())
			return err
		},
	}
	addStoreFlags(list.Flags(), &o.store, "the store to read (default vigil.db)")

	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token: it stops working at once",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one token name", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openExisting(cmd.Context(), &o.store)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeToken(cmd.Context(), args[0], app.now()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no unrevoked token named %s ('vigil token list' lists them)", input.Quote(args[0]))
				}
				return err
			}
			fmt.Fprintf(app.Stdout, "Token %s revoked.\n", input.Quote(args[0]))
			return nil
		},
	}
	addStoreFlags(revoke.Flags(), &o.store, "the store to write (default vigil.db)")
	cmd.AddCommand(create, list, revoke)
	return cmd
}
