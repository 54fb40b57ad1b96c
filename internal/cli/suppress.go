package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// maxSuppression is the longest a suppression may run without
// --no-expiry: an accepted risk is reviewed at least once a year.
const maxSuppression = 366 * 24 * time.Hour

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

type suppressOptions struct {
	store    storeFlags
	rule     string
	account  string
	resource string
	reason   string
	owner    string
	expires  string
	ticket   string
	noExpiry bool
	format   string
}

func newSuppressCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suppress",
		Short: "Mute findings that are an accepted risk, with an owner, a reason and an end date",
		Long: `A suppression mutes the findings of one rule in one account (or one resource
of it): they stay listed, marked suppressed, and send no alert. When it
expires the finding is open again and a suppression_expired alert goes out.
Reason, owner and expiry are required; an expiry is at most a year out,
unless --no-expiry, which still needs its reason.`,
		Args: noArgs,
	}
	o := suppressOptions{format: "text"}
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a suppression",
		Example: `  vigil suppress add --rule root-access-key --account 111111111111 \
      --reason "break-glass key in the vault, rotated quarterly" --owner alice@example.com \
      --expires 2027-03-31 --ticket SEC-142`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sp, err := o.suppression(app.now(), cmd.Flags().Changed)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), &o.store, false)
			if err != nil {
				return err
			}
			defer st.Close()
			sp, err = st.AddSuppression(cmd.Context(), sp)
			if err != nil {
				return err
			}
			until := "with no expiry"
			if sp.Expires != nil {
				until = "until " + sp.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(app.Stdout, "Suppression %d added: %s in %s %s.\n", sp.ID, sp.RuleID, sp.AccountID, until)
			return nil
		},
	}
	f := add.Flags()
	addStoreFlags(f, &o.store, "the store to write (default vigil.db)")
	f.StringVar(&o.rule, "rule", "", "the rule ID (vigil rules lists them)")
	f.StringVar(&o.account, "account", "", "the 12-digit account ID")
	f.StringVar(&o.resource, "resource", "", "only this resource ARN (default: every resource of the rule in the account)")
	f.StringVar(&o.reason, "reason", "", "why the risk is accepted (required)")
	f.StringVar(&o.owner, "owner", "", "who accepted it (required)")
	f.StringVar(&o.expires, "expires", "", "when it ends: a date (2027-03-31, midnight UTC), an RFC 3339 time, or a duration from now (90d); at most a year out")
	f.StringVar(&o.ticket, "ticket", "", "a reference to the decision (ticket, document)")
	f.BoolVar(&o.noExpiry, "no-expiry", false, "never expire (instead of --expires); the reason must say why")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the suppressions, expired ones included",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			st, err := openExisting(cmd.Context(), &o.store)
			if err != nil {
				return err
			}
			defer st.Close()
			sps, err := st.Suppressions(cmd.Context())
			if err != nil {
				return err
			}
			now := app.now()
			var buf bytes.Buffer
			if o.format == "json" {
				out := []*suppressionJSON{}
				for _, sp := range sps {
					out = append(out, toSuppressionJSON(sp))
				}
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"schema": "vigil.suppressions", "version": 1, "suppressions": out}); err != nil {
					return err
				}
			} else if len(sps) == 0 {
				fmt.Fprintln(&buf, "No suppressions.")
			} else {
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tRULE\tACCOUNT\tRESOURCE\tOWNER\tEXPIRES\tTICKET\tREASON")
				for _, sp := range sps {
					exp := "never"
					if sp.Expires != nil {
						exp = sp.Expires.Format(time.RFC3339)
						if !sp.Active(now) {
							exp += " (expired)"
						}
					}
					res := sp.Resource
					if res == "" {
						res = "(all)"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sp.ID, sp.RuleID, sp.AccountID, cleanText(res), cleanText(sp.Owner), exp, cleanText(sp.Ticket), cleanText(sp.Reason))
				}
				tw.Flush()
			}
			_, err = app.Stdout.Write(buf.Bytes())
			return err
		},
	}
	addStoreFlags(list.Flags(), &o.store, "the store to read (default vigil.db)")
	list.Flags().StringVar(&o.format, "format", o.format, "text or json")

	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a suppression: its findings alert again from the next scan",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one suppression ID", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("suppression ID %s: want the number 'vigil suppress list' shows", input.Quote(args[0]))
			}
			st, err := openExisting(cmd.Context(), &o.store)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RemoveSuppression(cmd.Context(), id); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no suppression %d ('vigil suppress list' lists them)", id)
				}
				return err
			}
			fmt.Fprintf(app.Stdout, "Suppression %d removed.\n", id)
			return nil
		},
	}
	addStoreFlags(remove.Flags(), &o.store, "the store to write (default vigil.db)")
	cmd.AddCommand(add, list, remove)
	return cmd
}

// suppression checks the flags of suppress add.
func (o *suppressOptions) suppression(now time.Time, changed func(string) bool) (store.Suppression, error) {
	sp := store.Suppression{RuleID: o.rule, AccountID: o.account, Resource: strings.TrimSpace(o.resource), Reason: strings.TrimSpace(o.reason),
		Owner: strings.TrimSpace(o.owner), Ticket: strings.TrimSpace(o.ticket), CreatedAt: now}
	if o.rule == "" {
		return sp, usagef("--rule is required")
	}
	if _, ok := rules.ByID(o.rule); !ok {
		return sp, usagef("--rule %s: no such rule ('vigil rules' lists them)", input.Quote(o.rule))
	}
	if !accountIDPattern.MatchString(o.account) {
		return sp, usagef("--account %s: want a 12-digit account ID", input.Quote(o.account))
	}
	if sp.Reason == "" {
		return sp, usagef("--reason is required: say why the risk is accepted")
	}
	if sp.Owner == "" {
		return sp, usagef("--owner is required: say who accepted the risk")
	}
	exp, err := expiry(o.expires, o.noExpiry, now, changed)
	if err != nil {
		return sp, err
	}
	sp.Expires = exp
	return sp, nil
}

// expiry reads --expires (or --no-expiry): required, in the future, and
// at most a year out.
func expiry(v string, never bool, now time.Time, changed func(string) bool) (*time.Time, error) {
	if never {
		if changed("expires") {
			return nil, usagef("--expires and --no-expiry cannot be combined")
		}
		return nil, nil
	}
	if v == "" {
		return nil, usagef("--expires is required (at most a year out), or --no-expiry with a reason that says why")
	}
	t, err := parseExpiry(v, now)
	if err != nil {
		return nil, usagef("--expires %s: %v", input.Quote(v), err)
	}
	if !t.After(now) {
		return nil, usagef("--expires %s is not in the future", t.Format(time.RFC3339))
	}
	if t.Sub(now) > maxSuppression {
		return nil, usagef("--expires %s is more than a year out; review accepted risks at least yearly, or use --no-expiry with a reason", t.Format(time.DateOnly))
	}
	return &t, nil
}

// parseExpiry reads a date (midnight UTC), an RFC 3339 time or a duration
// from now.
func parseExpiry(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if d, err := parseDuration(v); err == nil {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, errors.New("want a date (2027-03-31), an RFC 3339 time or a duration such as 90d")
}
