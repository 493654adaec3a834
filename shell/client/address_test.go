package client

import "testing"

func TestBaseURL(t *testing.T) {
	tests := []struct {
		api, want string
	}{
		{"/ip4/127.0.0.1/tcp/5201", "http://127.0.0.1:5201"},
		{"/ip4/127.0.0.1/tcp/5201/http", "http://127.0.0.1:5201"},
		{"/ip4/127.0.0.1/tcp/5201/tls/http", "https://127.0.0.1:5201"},
		{"/ip6/::1/tcp/5201", "http://[::1]:5201"},
		{"/dns4/localhost/tcp/5201", "http://localhost:5201"},
		{"http://127.0.0.1:5201", "http://127.0.0.1:5201"},
		{"http://127.0.0.1:5201/", "http://127.0.0.1:5201"},
		{"https://node.example:443", "https://node.example:443"},
		{"127.0.0.1:5201", "http://127.0.0.1:5201"},
		{"", ""},
		{"/ip4/127.0.0.1/udp/5201", ""},
		{"/unix/tmp/cairn.sock", ""},
		{"/ip4/999.0.0.1/tcp/5201", ""},
		{"ftp://127.0.0.1:21", ""},
		{"http://127.0.0.1:5201/api/v0", ""},
		{"localhost", ""},
	}
	for _, tt := range tests {
		got, err := baseURL(tt.api)
		if tt.want == "" {
			if err == nil {
				t.Errorf("baseURL(%q) = %q, want an error", tt.api, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("baseURL(%q) = %q, %v; want %q", tt.api, got, err, tt.want)
		}
	}
}
