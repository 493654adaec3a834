package shell

import (
	"errors"
	"fmt"
	"net/http"
)

// LogBackend is implemented by a Backend whose log levels can change at
// run time; without it /api/v0/log/level answers 404.
type LogBackend interface {
	// SetLogLevel sets subsystem's level ("all" or "*": every
	// subsystem's). An unknown subsystem or level is an error that says
	// which are known.
	SetLogLevel(subsystem, level string) error
}

// logLevelOutput is log/level's answer, in Kubo's shape.
type logLevelOutput struct {
	Message string
}

// logLevel answers /api/v0/log/level?arg=SUBSYSTEM&arg=LEVEL, as Kubo's
// `ipfs log level` does.
func (s *shell) logLevel(w http.ResponseWriter, r *http.Request) error {
	lb, ok := s.backend.(LogBackend)
	if !ok {
		return errorf(kindUnknownCommand, "log/level: this node's log levels are fixed: %w", errors.ErrUnsupported)
	}
	args := r.URL.Query()["arg"]
	if len(args) != 2 {
		return errorf(kindBadRequest, "log/level: want two arguments, a subsystem (or \"all\") and a level (debug, info, warn, error), got %d", len(args))
	}
	subsystem, level := args[0], args[1]
	if err := lb.SetLogLevel(subsystem, level); err != nil {
		return errorf(kindBadRequest, "log/level: %w", err)
	}
	if subsystem == "*" {
		subsystem = "all"
	}
	return writeJSON(w, logLevelOutput{Message: fmt.Sprintf("Changed log level of '%s' to '%s'\n", subsystem, level)})
}
