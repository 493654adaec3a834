package shell

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBodyBytes caps a request body when Config.MaxBodyBytes is 0:
// 64 GiB. Only add and block/put take a body, and add streams it to the
// node without holding it, so in practice this is the largest file one add
// request can import.
const DefaultMaxBodyBytes int64 = 64 << 30

// DefaultUploadIdleTimeout is Config.UploadIdleTimeout's default: a
// minute without a byte of the upload.
const DefaultUploadIdleTimeout = time.Minute

// DefaultVersion is reported by /api/v0/version when Config.Version is empty.
const DefaultVersion = "dev"

// Config holds the shell's settings. The yaml keys are those of the shell
// section of config.yaml; the other fields are set by the program. The zero
// value is usable: New fills the documented defaults, then validates.
type Config struct {
	// AccessToken, when non-empty, must arrive on every request as
	// "Authorization: Bearer <token>"; anything else gets 401. Empty means
	// no authentication, which is only safe on a loopback listener.
	AccessToken string `yaml:"access_token"`

	// MaxBodyBytes caps each request body, in bytes; a larger body gets 413.
	// 0 means DefaultMaxBodyBytes (64 GiB). Negative values are invalid.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`

	// UploadIdleTimeout fails an add (or another upload) whose body brings
	// no byte for this long, releasing what the add holds: a stalled
	// client would otherwise keep the add lock, and a collection waiting
	// behind it would stop every other add and pin. 0 means
	// DefaultUploadIdleTimeout; negative values are invalid.
	UploadIdleTimeout time.Duration `yaml:"upload_idle_timeout"`

	// AllowedOrigins lists browser origins ("scheme://host:port") that may
	// call the shell besides its own; "*" allows any. Default none.
	AllowedOrigins []string `yaml:"allowed_origins"`

	// Version, Commit and RepoVersion are reported by /api/v0/version.
	// Version defaults to DefaultVersion; the others default to empty.
	Version     string `yaml:"-"`
	Commit      string `yaml:"-"`
	RepoVersion string `yaml:"-"`

	// GatewayURL is where the node's gateway listens (http://host:port),
	// named in the RPC port's answer to /ipfs/ paths; empty names the
	// config key instead.
	GatewayURL string `yaml:"-"`

	// Metrics is what /debug/metrics/prometheus serves besides the
	// shell's own request metrics: the node's registry. nil serves the
	// shell's alone.
	Metrics prometheus.Gatherer `yaml:"-"`

	// Logger receives the shell's logs; per-request lines are at debug
	// level so the shell is quiet by default. nil means slog.Default() as
	// it is when New runs.
	Logger *slog.Logger `yaml:"-"`
}

// DefaultConfig returns the defaults that config.yaml documents. Logger is
// left nil so that New picks up the logger the program set by then.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: DefaultMaxBodyBytes, UploadIdleTimeout: DefaultUploadIdleTimeout, Version: DefaultVersion}
}

// withDefaults returns a copy of c with every unset field filled.
func (c Config) withDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.UploadIdleTimeout == 0 {
		c.UploadIdleTimeout = DefaultUploadIdleTimeout
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports the first invalid setting, named by its config.yaml key.
func (c Config) Validate() error {
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("max_body_bytes: %d is negative; use 0 for the default (64 GiB) or a size in bytes", c.MaxBodyBytes)
	}
	if c.UploadIdleTimeout < 0 {
		return fmt.Errorf("upload_idle_timeout: %s is negative; use 0 for the default (1m) or a duration such as 30s", c.UploadIdleTimeout)
	}
	if strings.ContainsFunc(c.AccessToken, isSpaceOrControl) {
		// Such a token could never be sent in an Authorization header.
		return errors.New("access_token: must not contain spaces or control characters")
	}
	for i, o := range c.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			return fmt.Errorf("allowed_origins[%d]: %q: %w", i, o, err)
		}
	}
	return nil
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}

// validateOrigin accepts "*" or a bare scheme://host[:port], which is what
// browsers send in the Origin header; a path would never match one.
func validateOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return errors.New("want scheme://host[:port] or *")
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("an origin has no path, query, fragment or user info")
	}
	return nil
}
