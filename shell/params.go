package shell

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
)

// parseCIDArg reads one "arg" value. Kubo accepts a bare CID or an /ipfs/
// path; the shell does too, but cannot yet walk paths inside a DAG or
// resolve IPNS, and says so rather than guessing.
func parseCIDArg(s string) (cid.Cid, error) {
	if strings.HasPrefix(s, "/ipns/") {
		return cid.Undef, errorf(kindBadRequest, "IPNS names are not supported: %q", s)
	}
	p := strings.TrimSuffix(strings.TrimPrefix(s, "/ipfs/"), "/")
	if strings.Contains(p, "/") {
		return cid.Undef, errorf(kindBadRequest, "paths inside a DAG are not supported yet: %q (pass the CID itself)", s)
	}
	c, err := cid.Decode(p)
	if err != nil {
		return cid.Undef, errorf(kindBadRequest, "invalid CID %q: %w", s, err)
	}
	return c, nil
}

// cidArgs parses every "arg" value; at least one is required.
func cidArgs(q url.Values) ([]cid.Cid, error) {
	args := q["arg"]
	if len(args) == 0 {
		return nil, errorf(kindBadRequest, "argument \"arg\" is required: pass a CID")
	}
	cids := make([]cid.Cid, len(args))
	for i, a := range args {
		c, err := parseCIDArg(a)
		if err != nil {
			return nil, err
		}
		cids[i] = c
	}
	return cids, nil
}

// oneCIDArg parses the single "arg" of commands that take exactly one.
func oneCIDArg(q url.Values) (cid.Cid, error) {
	if n := len(q["arg"]); n > 1 {
		return cid.Undef, errorf(kindBadRequest, "expected one argument, got %d", n)
	}
	cids, err := cidArgs(q)
	if err != nil {
		return cid.Undef, err
	}
	return cids[0], nil
}

// boolParam reads a boolean option. A bare "?name" or "name=" means true,
// as a command-line flag without a value would.
func boolParam(q url.Values, name string, def bool) (bool, error) {
	if !q.Has(name) {
		return def, nil
	}
	v := q.Get(name)
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(kindBadRequest, "option %q: %q is not a boolean", name, v)
	}
	return b, nil
}

// intParam reads an integer option; set reports whether it was given.
func intParam(q url.Values, name string, def int64) (v int64, set bool, err error) {
	if !q.Has(name) {
		return def, false, nil
	}
	s := q.Get(name)
	v, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, errorf(kindBadRequest, "option %q: %q is not an integer", name, s)
	}
	return v, true, nil
}

// timeoutParam reads Kubo's global "timeout" option; zero means none.
func timeoutParam(q url.Values) (time.Duration, error) {
	s := q.Get("timeout")
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errorf(kindBadRequest, "invalid timeout %q: want a positive duration such as 30s or 2m", s)
	}
	return d, nil
}
