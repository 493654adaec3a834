package shell

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParams feeds the RPC's argument and option parsers arbitrary query
// strings: they must answer with a value or a one-line error, never
// panic, and a CID argument they accept must read back as itself.
func FuzzParams(f *testing.F) {
	for _, q := range []string{
		"arg=bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
		"arg=/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn/",
		"arg=/ipfs/bafyaaa/sub/path&arg=/ipns/example.com",
		"arg=a&arg=b&quiet&progress=false&cid-version=1&raw-leaves=true&chunker=size-1024",
		"chunker=rabin-16-32-64&hash=sha2-256&pin=0&only-hash&wrap-with-directory=true",
		"timeout=30s&size-only=1&cid-version=7&chunker=buzhash",
		"timeout=-1h&arg=%00&pin=maybe&cid-version=99999999999999999999",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		check := func(what string, err error) {
			if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("%s: error on more than one line: %q", what, err)
			}
		}
		for _, a := range q["arg"] {
			c, err := parseCIDArg(a)
			check("parseCIDArg", err)
			if err == nil {
				back, err := parseCIDArg(c.String())
				if err != nil || !back.Equals(c) {
					t.Fatalf("CID %s from %q reads back as %s, %v", c, a, back, err)
				}
			}
		}
		_, err = cidArgs(q)
		check("cidArgs", err)
		_, err = oneCIDArg(q)
		check("oneCIDArg", err)
		_, _, err = addOptions(q)
		check("addOptions", err)
		_, err = timeoutParam(q)
		check("timeoutParam", err)
		for name := range q {
			_, err = boolParam(q, name, false)
			check("boolParam", err)
			_, _, err = intParam(q, name, 0)
			check("intParam", err)
		}
	})
}
