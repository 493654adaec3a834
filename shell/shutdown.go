package shell

import "net/http"

// ShutdownBackend is a node that can be asked to stop.
type ShutdownBackend interface {
	// Shutdown asks whoever runs the node to stop it, soon after the
	// answer has gone out; it does not wait.
	Shutdown() error
}

// shutdown answers, then asks the node to stop: the node's own close
// waits for requests in flight, this one among them.
func (s *shell) shutdown(w http.ResponseWriter, r *http.Request) error {
	sb, ok := s.backend.(ShutdownBackend)
	if !ok {
		return errorf(kindInternal, "this node cannot be shut down through the API")
	}
	w.WriteHeader(http.StatusOK)
	if err := flush(w); err != nil {
		return err
	}
	return sb.Shutdown()
}
