package peer

import (
	"context"
	"log/slog"
	"time"
)

// reannounceCheck is how often the node looks whether its DHT went from
// no peers to some.
const reannounceCheck = 5 * time.Second

// reannounce announces everything the node provides again whenever the DHT
// goes from no peers to some. An announcement made while the routing
// tables are empty fails (boxo drops it), and the reprovider would only
// repeat it at the next interval, 22 h later by default: content added on a
// lonely node, or across a network outage, would stay unfindable that long.
func (n *Node) reannounce(ctx context.Context) {
	t := time.NewTicker(reannounceCheck)
	defer t.Stop()
	routed := n.routing.Ready()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := n.routing.Ready()
		if now && !routed {
			if err := n.content.Reprovide(ctx); err != nil {
				slog.Debug("re-announce after rejoining the DHT failed", "err", err)
			}
		}
		routed = now
	}
}
