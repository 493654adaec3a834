package peer

// ShutdownRequested is closed once a client has asked the node to stop
// (/api/v0/shutdown). The node does not stop itself: whoever runs it (the
// daemon) closes it, as on a signal.
func (n *Node) ShutdownRequested() <-chan struct{} { return n.shutdown }

// requestShutdown tells whoever runs the node to stop it.
func (n *Node) requestShutdown() {
	n.shutdownOnce.Do(func() { close(n.shutdown) })
}
