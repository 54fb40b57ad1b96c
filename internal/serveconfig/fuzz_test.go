package serveconfig

import (
	"strings"
	"testing"
)

// FuzzParse: no input panics, an accepted config is consistent, and no
// error or warning quotes the secrets the environment holds.
func FuzzParse(f *testing.F) {
	f.Add([]byte(ExampleConfig))
	f.Add([]byte(issueConfig))
	f.Add([]byte("version: 1\nalerts:\n  - {name: a, type: slack, url: x}\n"))
	f.Add([]byte("version: 1\nschedules: [{name: a, cron: '*/5 * * * *', scan: {org: true}}]\n"))
	f.Add([]byte("version: 1\nx: &a [*a]\n"))
	f.Add([]byte("version: 1\n<<: {listen: ':1'}\n"))
	env := testEnv()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("c.yaml", data, env)
		var text string
		if err != nil {
			text = err.Error()
			if !strings.HasPrefix(text, "c.yaml") {
				t.Fatalf("error without the file name: %q", text)
			}
		} else {
			if cfg.Version != Version {
				t.Fatalf("accepted without version 1: %+v", cfg)
			}
			for _, s := range cfg.Schedules {
				if (s.Every > 0) == (s.Cron != "") || s.Name == "" {
					t.Fatalf("accepted schedule %+v", s)
				}
			}
			for _, a := range cfg.Alerts {
				if a.Name == "" || a.Type == "" {
					t.Fatalf("accepted alert %+v", a)
				}
				if a.Type == TypeSlack && a.URL.Source == "inline" {
					t.Fatalf("accepted an inline slack URL")
				}
			}
			text = Errors(cfg.Warnings).Error()
		}
		for _, s := range []string{webhookSecret, slackURL, smtpPassword} {
			if strings.Contains(text, s) && !strings.Contains(string(data), s) {
				t.Fatalf("message quotes a resolved secret: %s", text)
			}
		}
	})
}
