package shell

import (
	"net/http"
	"net/http/pprof"
)

// pprofPath is where Go's profiles are served, as net/http/pprof lays
// them out and `go tool pprof http://127.0.0.1:5201/debug/pprof/heap`
// expects. Importing net/http/pprof also registers its handlers on
// http.DefaultServeMux, which no listener of the node serves.
const pprofPath = "/debug/pprof/"

// addPprof mounts the profiles on mux, the shell's own.
func addPprof(mux *http.ServeMux) {
	mux.HandleFunc(pprofPath, pprof.Index)
	mux.HandleFunc(pprofPath+"cmdline", pprof.Cmdline)
	mux.HandleFunc(pprofPath+"profile", pprof.Profile)
	mux.HandleFunc(pprofPath+"symbol", pprof.Symbol)
	mux.HandleFunc(pprofPath+"trace", pprof.Trace)
}
