// Package peer assembles a Cairn node: it builds the libp2p host and hands
// it to the DHT, discovery, content and shell, in that order, and takes them
// down in reverse.
package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/content/replication"
	"github.com/cairnnet/cairn/dht"
	"github.com/cairnnet/cairn/discovery"
	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	ma "github.com/multiformats/go-multiaddr"
)

// shutdownGrace bounds how long Close waits for shell requests in flight.
const shutdownGrace = 5 * time.Second

// Node is one running Cairn peer.
type Node struct {
	cfg       Config
	ds        datastore.Batching
	host      host.Host
	routing   *dht.DHT
	discovery *discovery.Discovery
	content   *content.Content
	repl      *replication.Service
	gateway   *httpListener
	shell     *httpListener
	files     *fileServer // the repo's files socket (fdsocket.go)

	// metrics is what /debug/metrics/prometheus serves (metrics.go);
	// transfers, the reads in flight through the shell (transfers.go).
	metrics   *nodeMetrics
	transfers *transfers

	// stop ends the node's own goroutines (see reannounce); wg waits for them.
	stop context.CancelFunc
	wg   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// shutdown closes when a client asks the node to stop (shutdown.go).
	shutdown     chan struct{}
	shutdownOnce sync.Once
}

// New builds and starts a node from cfg. If it fails half-way it closes
// whatever it had started.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, shutdown: make(chan struct{})}
	if err := n.start(ctx); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	key, err := n.identity()
	if err != nil {
		return err
	}
	if n.ds, err = n.openDatastore(); err != nil {
		return err
	}
	n.metrics = newNodeMetrics()
	n.transfers = newTransfers(n.metrics.observeFetch)
	if n.host, err = newHost(key, n.cfg, n.metrics); err != nil {
		return err
	}
	bootstrap, err := discovery.ParseBootstrap(n.cfg.Discovery.Bootstrap)
	if err != nil {
		return err
	}
	if n.routing, err = dht.New(n.host, n.ds, n.cfg.DHT, bootstrap); err != nil {
		return err
	}
	ccfg := n.cfg.Content
	if n.cfg.RepoDir != "" && n.cfg.Datastore.Type != "memory" {
		ccfg.StageDir = filepath.Join(n.cfg.RepoDir, DatastoreDir)
	}
	if n.content, err = content.New(ctx, n.host, n.routing, n.ds, ccfg); err != nil {
		return fmt.Errorf("start content: %w", err)
	}
	n.metrics.reg.MustRegister(nodeCollector{n})
	if err := n.startReplication(); err != nil {
		return err
	}
	if n.discovery, err = discovery.New(n.host, n.routing, n.ds, n.cfg.Discovery, n.cfg.Connections.Low); err != nil {
		return fmt.Errorf("start discovery: %w", err)
	}
	life, stop := context.WithCancel(context.Background())
	n.stop = stop
	n.wg.Go(func() { n.reannounce(life) })
	// The gateway first, so that the shell can say where it is.
	if err := n.startGateway(); err != nil {
		return err
	}
	if err := n.startShell(); err != nil {
		return err
	}
	if n.cfg.RepoDir != "" {
		// Without the socket, clients use the shell: no reason to
		// refuse to start (a repo path too long for a socket name).
		if n.files, err = startFileServer(n.cfg.RepoDir, n.content); err != nil {
			slog.Warn("files socket off; clients write files through the shell", "err", err)
		}
	}
	return nil
}

func (n *Node) identity() (crypto.PrivKey, error) {
	if n.cfg.RepoDir == "" {
		key, _, err := crypto.GenerateEd25519Key(nil)
		return key, err
	}
	return LoadIdentity(n.cfg.RepoDir)
}

func (n *Node) openDatastore() (datastore.Batching, error) {
	if n.cfg.RepoDir == "" || n.cfg.Datastore.Type == "memory" {
		return content.NewMemoryDatastore(), nil
	}
	ds, err := content.OpenDatastore(filepath.Join(n.cfg.RepoDir, DatastoreDir), n.cfg.Datastore.Sync)
	if err != nil {
		return nil, fmt.Errorf("open datastore: %w", err)
	}
	return ds, nil
}

// startShell listens first and publishes the api file only then, so a
// client that finds the file can always connect.
func (n *Node) startShell() error {
	cfg := n.cfg.Shell.Config
	cfg.Version = Version
	cfg.RepoVersion = RepoVersion
	cfg.GatewayURL = n.GatewayURL()
	cfg.Metrics = n.metrics.gatherer()
	handler, err := shell.New(cfg, &backend{n: n})
	if err != nil {
		return fmt.Errorf("start shell: %w", err)
	}
	if n.shell, err = listen("shell", n.cfg.Shell.Address); err != nil {
		return err
	}
	n.shell.serve(handler)
	if n.cfg.RepoDir != "" {
		return n.shell.publish(filepath.Join(n.cfg.RepoDir, APIFile), n.shell.addr.String())
	}
	return nil
}

// Host is the node's libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Content is the node's block store, importer and exchange.
func (n *Node) Content() *content.Content { return n.content }

// Routing is the node's DHT.
func (n *Node) Routing() *dht.DHT { return n.routing }

// ShellAddr is the multiaddr the HTTP shell listens on.
func (n *Node) ShellAddr() ma.Multiaddr { return n.shell.addr }

// Close stops everything in reverse order of start and flushes the
// datastore. It is safe to call twice and on a half-built node.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Node) close() error {
	var errs []error
	for _, l := range []*httpListener{n.shell, n.gateway} {
		if l != nil {
			errs = append(errs, l.close(shutdownGrace))
		}
	}
	if n.stop != nil {
		n.stop()
		n.wg.Wait()
	}
	closeOne := func(name string, c io.Closer) {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", name, err))
		}
	}
	if n.files != nil {
		closeOne("files socket", n.files)
	}
	if n.discovery != nil {
		closeOne("discovery", n.discovery)
	}
	if n.repl != nil {
		closeOne("replication", n.repl)
	}
	if n.content != nil {
		closeOne("content", n.content)
	}
	if n.routing != nil {
		closeOne("dht", n.routing)
	}
	if n.host != nil {
		closeOne("host", n.host)
	}
	if n.ds != nil {
		if err := n.ds.Sync(context.Background(), datastore.NewKey("/")); err != nil {
			errs = append(errs, fmt.Errorf("flush datastore: %w", err))
		}
		if err := n.ds.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close datastore: %w", err))
		}
	}
	return errors.Join(errs...)
}
