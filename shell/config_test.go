package shell_test

import (
	"strings"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  shell.Config
		want string // "" means valid
	}{
		{"zero value", shell.Config{}, ""},
		{"everything", shell.Config{AccessToken: "t0k-en", MaxBodyBytes: 10, AllowedOrigins: []string{"*", "http://localhost:3000"}}, ""},
		{"negative body limit", shell.Config{MaxBodyBytes: -1}, "max_body_bytes"},
		{"token with space", shell.Config{AccessToken: "a b"}, "access_token"},
		{"token with newline", shell.Config{AccessToken: "a\nb"}, "access_token"},
		{"origin with path", shell.Config{AllowedOrigins: []string{"http://ok", "http://host/path"}}, "allowed_origins[1]"},
		{"origin without scheme", shell.Config{AllowedOrigins: []string{"localhost:3000"}}, "allowed_origins[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestNewRefusesBadInput(t *testing.T) {
	if _, err := shell.New(shell.Config{MaxBodyBytes: -5}, shelltest.New()); err == nil {
		t.Fatal("New accepted a negative MaxBodyBytes")
	}
	if _, err := shell.New(shell.Config{}, nil); err == nil {
		t.Fatal("New accepted a nil backend")
	}
}

func TestVersionDefault(t *testing.T) {
	srv := newShell(t, shell.Config{}, shelltest.New())
	r := post(t, srv, "/api/v0/version")
	if !strings.Contains(string(r.body), `"Version":"`+shell.DefaultVersion+`"`) {
		t.Fatalf("body %s lacks the default version", r.body)
	}
}
