package serveconfig

import (
	"strings"
	"testing"
)

func TestLoopbackListen(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.1:0": true, "[::1]:8080": true, "localhost:8080": true,
		":8080": false, "0.0.0.0:8080": false, "10.0.0.5:8080": false, "[::]:8080": false, "vigil.example.com:443": false, "nonsense": false,
	} {
		if got := LoopbackListen(addr); got != want {
			t.Errorf("LoopbackListen(%q) = %v", addr, got)
		}
	}
}

// A LAN address in the config is warned about in the words vigil serve
// refuses it with, not only the every-interface addresses.
func TestListenWarning(t *testing.T) {
	for listen, warned := range map[string]bool{"10.0.0.5:8080": true, "0.0.0.0:8080": true, ":8080": true, "127.0.0.1:9090": false, "localhost:8080": false} {
		cfg, err := Parse("c.yaml", []byte("version: 1\nlisten: \""+listen+"\"\nschedules:\n  - {name: a, every: 1h, scan: {}}\n"), testEnv())
		if err != nil {
			t.Fatal(err)
		}
		got := Errors(cfg.Warnings).Error()
		if warned != strings.Contains(got, NonLoopbackListen("listen", listen)) || (!warned && len(cfg.Warnings) != 0) {
			t.Errorf("%s: warnings %q", listen, got)
		}
	}
}
