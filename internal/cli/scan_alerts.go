package cli

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/store"
)

// scanAlerts are the alert channels of the --config of a recorded scan:
// `vigil scan --db` run by cron or a Kubernetes CronJob, with no server,
// delivers the alerts of what it recorded itself.
type scanAlerts struct {
	publicURL string
	channels  map[string]server.Channel
	routes    []store.Route
	closers   []func()
}

func (a *scanAlerts) close() {
	for _, c := range a.closers {
		c()
	}
}

// openScanAlerts opens the alert channels of o's --config before the
// scan, so that a secret that cannot be read stops the run before it
// calls AWS rather than after it recorded transitions nobody is told
// of. Nil without a config or without alerts in it: the outbox then
// waits for a vigil serve on the same database.
func openScanAlerts(ctx context.Context, app *App, o *scanOptions) (*scanAlerts, error) {
	if o.store.config == "" {
		return nil, nil
	}
	cfg, err := readServeConfig(app, o.store.config)
	if err != nil {
		return nil, err
	}
	if len(cfg.Alerts) == 0 {
		return nil, nil
	}
	a := &scanAlerts{publicURL: cfg.PublicURL}
	chans, err := openAlertChannels(ctx, app, cfg, &o.aws, clock.Func(app.now), &a.closers)
	if err != nil {
		a.close()
		return nil, err
	}
	a.channels = chans
	names := make([]string, 0, len(chans))
	for n := range chans {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a.routes = append(a.routes, chans[n].Route)
	}
	return a, nil
}

// deliver turns the outbox into deliveries by the config's channels and
// sends every delivery still pending (this scan's, and those an earlier
// run could not send), once each, under its delivery ID. One that fails
// stays pending for the next `vigil scan --db` or `vigil serve`; a
// receiver that also got it from a running vigil serve sees the same
// delivery ID twice. A failed delivery does not fail the scan: it is
// said on stderr.
func (a *scanAlerts) deliver(ctx context.Context, app *App, st store.Store) error {
	now := app.now()
	if _, err := st.FlushOutbox(ctx, a.routes, now); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	pending, err := st.PendingDeliveries(ctx)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	sent := map[string]int{}
	var failed []string
	for _, p := range pending {
		ch, ok := a.channels[p.Channel]
		if !ok {
			continue // a channel of another configuration
		}
		d, err := st.Delivery(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = ch.Sender.Send(sctx, server.NotifyDelivery(d, a.publicURL))
		cancel()
		if err != nil {
			slog.Warn("alert not delivered; it stays pending for the next vigil scan --db or vigil serve", "channel", d.Channel, "delivery", d.ID, "retryable", notify.Retryable(err), "error", err)
			if merr := st.MarkAttempt(ctx, d.ID, err.Error(), app.now()); merr != nil {
				return fmt.Errorf("alerts: %w", merr)
			}
			failed = append(failed, d.Channel)
			continue
		}
		if err := st.MarkDelivered(ctx, d.ID, app.now()); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		sent[d.Channel]++
	}
	if len(sent) > 0 {
		var parts []string
		for n, k := range sent {
			parts = append(parts, fmt.Sprintf("%s (%d)", n, k))
		}
		sort.Strings(parts)
		fmt.Fprintf(app.Stderr, "vigil: alerts sent: %s\n", strings.Join(parts, ", "))
	}
	if len(failed) > 0 {
		fmt.Fprintf(app.Stderr, "vigil: %d alert(s) not delivered (%s); they stay pending for the next vigil scan --db or vigil serve\n", len(failed), strings.Join(slices.Compact(slices.Sorted(slices.Values(failed))), ", "))
	}
	return nil
}
