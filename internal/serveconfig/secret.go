package serveconfig

import (
	"encoding/json"
	"fmt"
)

// Secret is a credential read from the environment or a file at load.
// Every way of printing it shows where it came from, never the value;
// only Value does.
type Secret struct {
	value string
	// Source says where the value came from: "env VIGIL_WEBHOOK_SECRET",
	// "file /etc/vigil/smtp-password", or for a webhook URL that holds no
	// credential, "inline". Empty when unset.
	Source string
}

// NewSecret makes a Secret; for tests and callers building a config in
// code.
func NewSecret(value, source string) Secret { return Secret{value: value, Source: source} }

// Value is the secret itself. Pass it to the one API that needs it.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) String() string {
	if s.Source == "" {
		return "(unset)"
	}
	if s.Source == "inline" {
		return s.value
	}
	return "(secret from " + s.Source + ")"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// Format makes every verb (%v, %+v, %s, %q, %x...) print String.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON writes where the secret comes from, never the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes where the secret comes from, never the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
