package shelltest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"gopkg.in/yaml.v3"

	"github.com/cairnnet/cairn/shell"
)

// Admin is a Backend that also serves the shell's optional commands
// (config, bootstrap, shutdown, swarm disconnect, findpeer, provide,
// block rm, pin verify) over in-memory state.
type Admin struct {
	*Backend

	mu sync.Mutex
	// Config is the fake's config file: sections of values, keyed by
	// config.yaml's names.
	Config map[string]any
	// Known is what FindPeer answers; a peer not in it is not found.
	Known map[peer.ID]peer.AddrInfo
	// Checks is what VerifyPins reports, one a pin.
	Checks []shell.PinCheck
	// Provided and Disconnected record the calls; Stopped closes on
	// Shutdown.
	Provided     []cid.Cid
	Disconnected []ma.Multiaddr
	Stopped      chan struct{}
	stopOnce     sync.Once
}

var (
	_ shell.ConfigBackend      = (*Admin)(nil)
	_ shell.BootstrapBackend   = (*Admin)(nil)
	_ shell.ShutdownBackend    = (*Admin)(nil)
	_ shell.DisconnectBackend  = (*Admin)(nil)
	_ shell.PeerRoutingBackend = (*Admin)(nil)
	_ shell.BlockRmBackend     = (*Admin)(nil)
	_ shell.PinVerifyBackend   = (*Admin)(nil)
)

// NewAdmin returns an Admin over a fresh Backend, its config holding
// discovery.bootstrap, discovery.mdns and shell.access_token.
func NewAdmin() *Admin {
	return &Admin{
		Backend: New(),
		Config: map[string]any{
			"discovery": map[string]any{"bootstrap": []any{}, "mdns": true},
			"shell":     map[string]any{"access_token": "secret", "address": "127.0.0.1:5201"},
		},
		Known:   map[peer.ID]peer.AddrInfo{},
		Stopped: make(chan struct{}),
	}
}

// ConfigValues implements shell.ConfigBackend; it returns a deep copy.
func (a *Admin) ConfigValues(context.Context) (map[string]any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return copyValues(a.Config), nil
}

func copyValues(m map[string]any) map[string]any {
	data, _ := yaml.Marshal(m)
	var out map[string]any
	_ = yaml.Unmarshal(data, &out)
	return out
}

// SetConfig implements shell.ConfigBackend: Text is read as YAML, and a
// key must name an existing section.
func (a *Admin) SetConfig(_ context.Context, settings ...shell.ConfigSetting) (map[string]any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range settings {
		v := s.Value
		if s.Text != "" {
			if err := yaml.Unmarshal([]byte(s.Text), &v); err != nil {
				return nil, err
			}
		}
		section, key, ok := strings.Cut(s.Key, ".")
		m, isMap := a.Config[section].(map[string]any)
		if !ok || !isMap {
			return nil, errors.New("unknown key " + s.Key)
		}
		m[key] = v
	}
	return copyValues(a.Config), nil
}

// ApplyProfiles implements shell.ConfigBackend: every profile switches
// mDNS off.
func (a *Admin) ApplyProfiles(ctx context.Context, names []string, dryRun bool) (map[string]any, map[string]any, error) {
	before, _ := a.ConfigValues(ctx)
	after := copyValues(before)
	after["discovery"].(map[string]any)["mdns"] = false
	if !dryRun {
		a.mu.Lock()
		a.Config = copyValues(after)
		a.mu.Unlock()
	}
	return before, after, nil
}

// BootstrapPeers implements shell.BootstrapBackend.
func (a *Admin) BootstrapPeers(ctx context.Context) ([]string, error) {
	values, _ := a.ConfigValues(ctx)
	var out []string
	for _, p := range values["discovery"].(map[string]any)["bootstrap"].([]any) {
		out = append(out, p.(string))
	}
	return out, nil
}

// AddBootstrapPeers implements shell.BootstrapBackend.
func (a *Admin) AddBootstrapPeers(ctx context.Context, addrs []ma.Multiaddr) ([]string, error) {
	peers, _ := a.BootstrapPeers(ctx)
	var added []string
	for _, m := range addrs {
		if !slices.Contains(peers, m.String()) {
			peers = append(peers, m.String())
			added = append(added, m.String())
		}
	}
	_, err := a.SetConfig(ctx, shell.ConfigSetting{Key: "discovery.bootstrap", Value: peers})
	return added, err
}

// RemoveBootstrapPeers implements shell.BootstrapBackend.
func (a *Admin) RemoveBootstrapPeers(ctx context.Context, addrs []ma.Multiaddr, all bool) ([]string, error) {
	peers, _ := a.BootstrapPeers(ctx)
	var removed, kept []string
	for _, p := range peers {
		if all || slices.ContainsFunc(addrs, func(m ma.Multiaddr) bool { return m.String() == p }) {
			removed = append(removed, p)
		} else {
			kept = append(kept, p)
		}
	}
	_, err := a.SetConfig(ctx, shell.ConfigSetting{Key: "discovery.bootstrap", Value: append([]string{}, kept...)})
	return removed, err
}

// Shutdown implements shell.ShutdownBackend.
func (a *Admin) Shutdown() error {
	a.stopOnce.Do(func() { close(a.Stopped) })
	return nil
}

// Disconnect implements shell.DisconnectBackend: a peer in PeerList is
// connected.
func (a *Admin) Disconnect(_ context.Context, addr ma.Multiaddr) error {
	_, id := peer.SplitAddr(addr)
	if !slices.ContainsFunc(a.PeerList, func(p shell.PeerInfo) bool { return p.ID == id }) {
		return errors.New("not connected")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Disconnected = append(a.Disconnected, addr)
	return nil
}

// FindPeer implements shell.PeerRoutingBackend from Known; an unknown
// peer is searched for until ctx ends.
func (a *Admin) FindPeer(ctx context.Context, id peer.ID) (peer.AddrInfo, error) {
	a.mu.Lock()
	info, ok := a.Known[id]
	a.mu.Unlock()
	if ok {
		return info, nil
	}
	<-ctx.Done()
	return peer.AddrInfo{}, ctx.Err()
}

// Provide implements shell.PeerRoutingBackend: blocks the fake holds are
// recorded as provided, others refused.
func (a *Admin) Provide(_ context.Context, c cid.Cid, _ bool) error {
	if !a.HasBlock(c) {
		return errors.New("block " + c.String() + " not found locally, cannot provide")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Provided = append(a.Provided, c)
	return nil
}

// RemoveBlocks implements shell.BlockRmBackend over the fake's blocks and
// pins.
func (a *Admin) RemoveBlocks(_ context.Context, cids []cid.Cid, each func(cid.Cid, error) error) error {
	for _, c := range cids {
		if err := each(c, a.removeBlock(c)); err != nil {
			return err
		}
	}
	return nil
}

func (a *Admin) removeBlock(c cid.Cid) error {
	b := a.Backend
	b.mu.Lock()
	defer b.mu.Unlock()
	if typ, ok := b.repo.pins[c]; ok {
		return errors.New("pinned: " + typ)
	}
	if _, ok := b.blocks[c]; !ok {
		return ipld.ErrNotFound{Cid: c}
	}
	delete(b.blocks, c)
	return nil
}

// VerifyPins implements shell.PinVerifyBackend from Checks.
func (a *Admin) VerifyPins(_ context.Context, each func(shell.PinCheck) error) error {
	for _, p := range a.Checks {
		if err := each(p); err != nil {
			return err
		}
	}
	return nil
}

// AddrInfo is id at the given multiaddrs, for Known.
func AddrInfo(id peer.ID, addrs ...string) peer.AddrInfo {
	info := peer.AddrInfo{ID: id}
	for _, s := range addrs {
		info.Addrs = append(info.Addrs, ma.StringCast(s))
	}
	return info
}
