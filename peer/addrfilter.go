package peer

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/p2p/net/conngater"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// parseAddrFilters reads swarm.addr_filters: /ip4/<addr>/ipcidr/<bits>
// or /ip6/<addr>/ipcidr/<bits>, as Kubo's Swarm.AddrFilters.
func parseAddrFilters(filters []string) ([]*net.IPNet, error) {
	nets := make([]*net.IPNet, 0, len(filters))
	for i, s := range filters {
		n, err := parseAddrFilter(s)
		if err != nil {
			return nil, fmt.Errorf("swarm.addr_filters[%d]: %q: %w", i, s, err)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

func parseAddrFilter(s string) (*net.IPNet, error) {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, err
	}
	if len(m) != 2 || m[1].Code() != ma.P_IPCIDR {
		return nil, fmt.Errorf("want /ip4/<addr>/ipcidr/<bits> or /ip6/<addr>/ipcidr/<bits>")
	}
	ip, err := manet.ToIP(m[:1])
	if err != nil {
		return nil, err
	}
	size := 128
	if m[0].Code() == ma.P_IP4 {
		size, ip = 32, ip.To4()
	}
	bits, err := strconv.Atoi(m[1].Value())
	if err != nil || bits < 0 || bits > size {
		return nil, fmt.Errorf("ipcidr must be 0 to %d", size)
	}
	mask := net.CIDRMask(bits, size)
	return &net.IPNet{IP: ip.Mask(mask), Mask: mask}, nil
}

// addrFilterOptions makes the host refuse to dial or accept connections
// from addresses in the filtered ranges, and leave its own addresses in
// them out of what it announces (identify, the DHT).
func addrFilterOptions(filters []string) ([]libp2p.Option, error) {
	if len(filters) == 0 {
		return nil, nil
	}
	nets, err := parseAddrFilters(filters)
	if err != nil {
		return nil, err
	}
	gater, err := conngater.NewBasicConnectionGater(nil)
	if err != nil {
		return nil, fmt.Errorf("swarm.addr_filters: %w", err)
	}
	for _, n := range nets {
		if err := gater.BlockSubnet(n); err != nil {
			return nil, fmt.Errorf("swarm.addr_filters: %w", err)
		}
	}
	announce := func(addrs []ma.Multiaddr) []ma.Multiaddr {
		return slices.DeleteFunc(addrs, func(a ma.Multiaddr) bool { return filtered(nets, a) })
	}
	return []libp2p.Option{libp2p.ConnectionGater(gater), libp2p.AddrsFactory(announce)}, nil
}

// filtered reports whether a's IP falls in one of nets.
func filtered(nets []*net.IPNet, a ma.Multiaddr) bool {
	ip, err := manet.ToIP(a)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(nets, func(n *net.IPNet) bool { return n.Contains(ip) })
}
