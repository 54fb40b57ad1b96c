package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/serveconfig"
	"github.com/vigil-sec/vigil/internal/store"
)

type eventsOptions struct {
	store     storeFlags
	accounts  []string
	since     string
	limit     int
	malformed bool
	format    string
}

// newEventsCommand is `vigil events`: the root events `vigil serve`
// recorded from the events queue, newest first.
func newEventsCommand(app *App) *cobra.Command {
	o := eventsOptions{limit: 100, format: "text"}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the root events vigil serve recorded from the events queue, newest first",
		Long: `List the root events vigil serve recorded from its events queue (the events: section of
its config): every root call and console sign-in in the organisation, where it came from, and
whether it was Vigil's own sts:AssumeRoot session. --malformed lists the messages that were not
events instead (they go to the queue's dead-letter queue).`,
		Example: "  vigil events --db vigil.db --since 24h\n  vigil events --config vigil.yaml --account 444455556666 --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "text" && o.format != "json" {
				return usagef("--format %s: want text or json", input.Quote(o.format))
			}
			if o.limit <= 0 || o.limit > 100000 {
				return usagef("--limit must be from 1 to 100000")
			}
			for _, a := range o.accounts {
				if !accountIDPattern.MatchString(a) {
					return usagef("--account %s: want a 12-digit account ID", input.Quote(a))
				}
			}
			now := app.clock().Now()
			f := store.RootEventFilter{Accounts: o.accounts, Limit: o.limit, Malformed: o.malformed}
			if o.since != "" {
				since, err := parseSince(o.since, now)
				if err != nil {
					return usagef("--since %s: %v", input.Quote(o.since), err)
				}
				f.Since = since
			}
			st, err := openExisting(cmd.Context(), &o.store)
			if err != nil {
				return err
			}
			defer st.Close()
			evs, err := st.RootEvents(cmd.Context(), f)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if o.format == "json" {
				err = writeEventsJSON(&buf, evs)
			} else {
				writeEventsText(&buf, evs, o.malformed)
			}
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(buf.Bytes())
			return err
		},
	}
	addStoreFlags(cmd.Flags(), &o.store, "the store to read (default vigil.db)")
	cmd.Flags().StringSliceVar(&o.accounts, "account", nil, "only these accounts (repeat or comma-separate)")
	cmd.Flags().StringVar(&o.since, "since", "", "only events from then on: a duration back from now (24h, 7d) or a time (2026-11-01 or RFC 3339)")
	cmd.Flags().IntVar(&o.limit, "limit", o.limit, "at most this many, newest first")
	cmd.Flags().BoolVar(&o.malformed, "malformed", false, "list the messages that were not readable events instead")
	cmd.Flags().StringVar(&o.format, "format", o.format, "text or json")
	return cmd
}

// parseSince reads a duration back from now, a date or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := serveconfig.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("want a positive duration")
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a duration (24h, 7d), a date (2026-11-01) or an RFC 3339 time")
}

// eventJSON is one root event in `vigil events --format json` (schema
// vigil.events, version 1).
type eventJSON struct {
	EventID          string    `json:"event_id"`
	Kind             string    `json:"kind"`
	Account          string    `json:"account_id,omitempty"`
	Region           string    `json:"region,omitempty"`
	Time             time.Time `json:"time"`
	Source           string    `json:"event_source,omitempty"`
	Name             string    `json:"event_name,omitempty"`
	Identity         string    `json:"identity_arn,omitempty"`
	SourceIP         string    `json:"source_ip,omitempty"`
	UserAgent        string    `json:"user_agent,omitempty"`
	AccessKeyID      string    `json:"access_key_id,omitempty"`
	MFA              string    `json:"mfa,omitempty"`
	ErrorCode        string    `json:"error_code,omitempty"`
	ErrorMessage     string    `json:"error_message,omitempty"`
	NewAccessKeyID   string    `json:"new_access_key_id,omitempty"`
	Own              bool      `json:"vigil_session"`
	SessionPrincipal string    `json:"session_principal,omitempty"`
	Summary          string    `json:"summary,omitempty"`
	ReceivedAt       time.Time `json:"received_at"`
	MessageID        string    `json:"message_id,omitempty"`
	Problem          string    `json:"problem,omitempty"`
	Body             string    `json:"body,omitempty"`
	Receives         int       `json:"receives,omitempty"`
	Alert            string    `json:"alert,omitempty"`
}

func toEventJSON(e store.RootEvent) eventJSON {
	return eventJSON{e.EventID, e.Kind, e.Account, e.Region, e.Time.UTC(), e.Source, e.Name, e.IdentityARN, e.SourceIP, e.UserAgent,
		e.AccessKeyID, e.MFA, e.ErrorCode, e.ErrorMessage, e.NewAccessKeyID, e.Own, e.SessionPrincipal, e.Summary, e.ReceivedAt.UTC(),
		e.MessageID, e.Problem, e.Body, e.Receives, e.Alert}
}

func writeEventsJSON(buf *bytes.Buffer, evs []store.RootEvent) error {
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, toEventJSON(e))
	}
	enc := json.NewEncoder(buf)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"schema": "vigil.events", "version": 1, "events": out})
}

func writeEventsText(buf *bytes.Buffer, evs []store.RootEvent, malformed bool) {
	if len(evs) == 0 {
		if malformed {
			fmt.Fprintln(buf, "No malformed messages recorded.")
		} else {
			fmt.Fprintln(buf, "No root events recorded.")
		}
		return
	}
	tw := tabwriter.NewWriter(buf, 0, 4, 2, ' ', 0)
	if malformed {
		fmt.Fprintln(tw, "RECEIVED\tMESSAGE\tRECEIVES\tPROBLEM")
		for _, e := range evs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", e.ReceivedAt.UTC().Format(time.RFC3339), notify.OneLine(e.MessageID), e.Receives, notify.OneLine(e.Problem))
		}
		tw.Flush()
		return
	}
	fmt.Fprintln(tw, "TIME\tACCOUNT\tREGION\tEVENT\tSOURCE IP\tKEY\tMFA\tERROR\tWHO")
	for _, e := range evs {
		who := "root"
		switch {
		case e.Kind == "assume_root":
			who = "AssumeRoot by " + e.IdentityARN
		case e.Own:
			who = "Vigil's own AssumeRoot session"
		case e.SessionPrincipal != "":
			who = "AssumeRoot session of " + e.SessionPrincipal
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Account, notify.OneLine(e.Region),
			notify.OneLine(e.Name), dash(notify.OneLine(e.SourceIP)), dash(e.AccessKeyID), dash(e.MFA), dash(notify.OneLine(e.ErrorCode)), notify.OneLine(who))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
