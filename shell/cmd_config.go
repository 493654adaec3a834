package shell

import (
	"context"
	"net/http"
	"strings"
)

// ConfigBackend reads and edits the node's config file, for Kubo's config,
// config/show and config/profile/apply commands. Changes take effect when
// the node next starts.
type ConfigBackend interface {
	// ConfigValues returns the config file's settings over the defaults,
	// keyed by config.yaml's names (maps, lists, strings, numbers,
	// booleans).
	ConfigValues(ctx context.Context) (map[string]any, error)
	// SetConfig sets dotted keys in the file, keeping its comments, and
	// returns the new values; nothing is written unless the result is a
	// config the node would start with.
	SetConfig(ctx context.Context, settings ...ConfigSetting) (map[string]any, error)
	// ApplyProfiles applies named profiles in order, unless dryRun, and
	// returns the values before and after.
	ApplyProfiles(ctx context.Context, names []string, dryRun bool) (before, after map[string]any, err error)
}

// ConfigSetting is one key to set: Text as a user typed it (YAML, or JSON
// when JSON is set; taken as is for a key holding a string), or, when Text
// is "", the Go value Value.
type ConfigSetting struct {
	Key   string
	Text  string
	JSON  bool
	Value any
}

// accessTokenKey is the one setting the API neither shows nor changes, as
// Kubo keeps Identity.PrivKey out of its config commands: a web page
// allowed to call the shell must not learn or reset the token.
const accessTokenKey = "shell.access_token"

// configField is Kubo's output of the config command.
type configField struct {
	Key   string
	Value any
}

func (s *shell) configBackend() (ConfigBackend, error) {
	cb, ok := s.backend.(ConfigBackend)
	if !ok {
		return nil, errorf(kindInternal, "this node has no config file to read or edit")
	}
	return cb, nil
}

// config gets (one arg) or sets (two) a value, as Kubo's
// /api/v0/config?arg=KEY[&arg=VALUE][&bool=true|&json=true].
func (s *shell) config(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	args := q["arg"]
	if len(args) == 0 || len(args) > 2 {
		return errorf(kindBadRequest, "config takes a key and, to set it, a value; got %d arguments", len(args))
	}
	key := args[0]
	if strings.HasPrefix(accessTokenKey+".", key+".") {
		return errorf(kindForbidden, "cannot show or change %s through the API: edit config.yaml", accessTokenKey)
	}
	cb, err := s.configBackend()
	if err != nil {
		return err
	}
	if len(args) == 1 {
		values, err := cb.ConfigValues(r.Context())
		if err != nil {
			return err
		}
		v, err := lookupValue(values, key)
		if err != nil {
			return err
		}
		return writeJSON(w, configField{Key: key, Value: v})
	}
	set, err := configSetting(q, key, args[1])
	if err != nil {
		return err
	}
	values, err := cb.SetConfig(r.Context(), set)
	if err != nil {
		return errorf(kindBadRequest, "%w", err)
	}
	v, _ := lookupValue(values, key)
	return writeJSON(w, configField{Key: key, Value: v})
}

// configSetting reads the value's type options: bool=true wants true or
// false, json=true JSON.
func configSetting(q map[string][]string, key, value string) (ConfigSetting, error) {
	asBool, err := boolParam(q, "bool", false)
	if err != nil {
		return ConfigSetting{}, err
	}
	asJSON, err := boolParam(q, "json", false)
	if err != nil {
		return ConfigSetting{}, err
	}
	if asBool && value != "true" && value != "false" {
		return ConfigSetting{}, errorf(kindBadRequest, "%s: with bool=true the value must be true or false, not %q", key, value)
	}
	return ConfigSetting{Key: key, Text: value, JSON: asJSON || asBool}, nil
}

// lookupValue walks a dotted key through values.
func lookupValue(values map[string]any, key string) (any, error) {
	var v any = values
	for _, part := range strings.Split(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errorf(kindBadRequest, "unknown key %q", key)
		}
		if v, ok = m[part]; !ok {
			return nil, errorf(kindBadRequest, "unknown key %q", key)
		}
	}
	return v, nil
}

// configShow sends the whole config, without the access token.
func (s *shell) configShow(w http.ResponseWriter, r *http.Request) error {
	cb, err := s.configBackend()
	if err != nil {
		return err
	}
	values, err := cb.ConfigValues(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, withoutToken(values))
}

// withoutToken drops shell.access_token from values.
func withoutToken(values map[string]any) map[string]any {
	if sh, ok := values["shell"].(map[string]any); ok {
		delete(sh, "access_token")
	}
	return values
}

// configProfileApply applies profiles, as Kubo's config/profile/apply:
// {"OldCfg": ..., "NewCfg": ...}.
func (s *shell) configProfileApply(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	names := q["arg"]
	if len(names) != 1 {
		return errorf(kindBadRequest, "config/profile/apply takes one argument, profile names separated by commas")
	}
	dryRun, err := boolParam(q, "dry-run", false)
	if err != nil {
		return err
	}
	cb, err := s.configBackend()
	if err != nil {
		return err
	}
	before, after, err := cb.ApplyProfiles(r.Context(), strings.Split(names[0], ","), dryRun)
	if err != nil {
		return errorf(kindBadRequest, "%w", err)
	}
	return writeJSON(w, struct{ OldCfg, NewCfg map[string]any }{withoutToken(before), withoutToken(after)})
}
