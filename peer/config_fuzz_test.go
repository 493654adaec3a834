package peer

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseConfig feeds the config loader arbitrary YAML: it must answer
// with a config or a one-line error naming what is wrong, never panic,
// and a config it accepts must validate (or be refused in one line too).
func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("../config.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"shell:\n  address: 127.0.0.1:5201\n  max_body_bytes: -1\n",
		"dht:\n  mdoe: server\n",
		"connections:\n  low: x\n",
		"discovery:\n  bootstrap: [\"/ip4/1.2.3.4/tcp/1\"]\n  interval: 1h\n",
		"log: {level: chatty}\n",
		"a: &a [*a, *a]\n",
		"shell:\n  upload_idle_timeout: -5s\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("config error on more than one line: %q", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("validation error on more than one line: %q", err)
		}
	})
}
