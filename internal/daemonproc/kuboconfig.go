package daemonproc

// KuboLocal edits a Kubo config (its repo's config file, decoded from
// JSON) for a daemon that must stay on this machine: every address on
// loopback port 0, no bootstrap peers, no mDNS, no AutoConf or AutoTLS
// lookups, and a plain DHT that keeps loopback addresses in LAN records so
// that daemons on one machine can dial each other from them.
func KuboLocal(cfg map[string]any) {
	KuboSection(cfg, "Routing")["Type"] = "dht"
	KuboSection(cfg, "Routing")["LoopbackAddressesOnLanDHT"] = true
	cfg["Bootstrap"] = []string{}
	addrs := KuboSection(cfg, "Addresses")
	addrs["Swarm"] = []string{"/ip4/127.0.0.1/tcp/0"}
	addrs["API"] = "/ip4/127.0.0.1/tcp/0"
	addrs["Gateway"] = "/ip4/127.0.0.1/tcp/0"
	addrs["Announce"] = []string{}
	addrs["AppendAnnounce"] = []string{}
	KuboSection(KuboSection(cfg, "Discovery"), "MDNS")["Enabled"] = false
	KuboSection(cfg, "AutoConf")["Enabled"] = false
	KuboSection(cfg, "AutoTLS")["Enabled"] = false
}

// KuboSection returns the object under key in a decoded Kubo config,
// creating it when missing.
func KuboSection(cfg map[string]any, key string) map[string]any {
	s, ok := cfg[key].(map[string]any)
	if !ok {
		s = map[string]any{}
		cfg[key] = s
	}
	return s
}
