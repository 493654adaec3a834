package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/cairnnet/cairn/content/trustless"
	"github.com/cairnnet/cairn/internal/daemonproc"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	ma "github.com/multiformats/go-multiaddr"
)

// gatewayOverLibp2p turns on Kubo's trustless gateway over libp2p
// (/http/1.1 streams, "/ipfs/gateway" in its well-known resource), the
// protocol Cairn's fast path asks peers for.
func gatewayOverLibp2p(cfg map[string]any) {
	daemonproc.KuboSection(cfg, "Experimental")["GatewayOverLibp2p"] = true
}

// cairnDebugConfig is cairnConfig with debug logging, so that the fast
// path says on stderr how each fetch ended.
const cairnDebugConfig = cairnConfig + `log:
  level: debug
`

// fastPathFileSize is the size of the files of these checks: 12 MiB and a
// bit, so that no layout ends on a leaf boundary.
const fastPathFileSize = 12<<20 + 4321

// kuboLayout is one way Kubo can import a file: the DAG shapes Cairn's
// verifier must accept in the order Kubo's gateway (boxo's) sends them.
type kuboLayout struct {
	name string
	args []string // ipfs add flags on top of the repo's unixfs-v1-2025 profile
	leaf string   // prefix of the root's first child CID
}

var kuboLayouts = []kuboLayout{
	// The repo's profile: CIDv1, 1 MiB raw leaves, balanced.
	{"unixfs_v1_2025", nil, "bafkrei"},
	// Kubo's default import without a profile: CIDv0, 256 KiB dag-pb
	// leaves, 174 links per node.
	{"cidv0_256KiB_dag_pb_leaves", []string{"--cid-version=0", "--raw-leaves=false", "--chunker=size-262144", "--max-file-links=174"}, "Qm"},
	{"cidv1_raw_leaves_1MiB", []string{"--cid-version=1", "--raw-leaves", "--chunker=size-1048576"}, "bafkrei"},
	// Two levels of dag-pb nodes above the leaves (49 leaves, 7 per
	// node), so that ranges start and end inside inner nodes.
	{"cidv0_256KiB_two_levels", []string{"--cid-version=0", "--raw-leaves=false", "--chunker=size-262144", "--max-file-links=7"}, "Qm"},
}

// Cairn reads files from a Kubo that serves the trustless gateway over
// libp2p through its fast path: CAR streams with entity-bytes ranges,
// which Cairn verifies block by block against its own DFS walk. Kubo
// sends no block over Bitswap, and its libp2p gateway answers every
// request with 200. For each import layout, a whole-file cat, a cat of a
// range in the middle, and the CARs themselves, fetched over libp2p and
// checked with Cairn's verifier.
func TestFastPathFromKubo(t *testing.T) {
	t.Parallel()
	k := startKubo(t, gatewayOverLibp2p)
	c := startCairnConfig(t, cairnDebugConfig)
	k.ok(t, 30*time.Second, "swarm", "connect", c.swarm[0])

	for _, l := range kuboLayouts {
		t.Run(l.name, func(t *testing.T) {
			t.Run("cat", func(t *testing.T) {
				data, root := kuboAdd(t, k, l)
				before := k.counters(t)
				got := c.ok(t, 2*time.Minute, "cat", "--timeout", "90s", root)
				if s := sha([]byte(got)); s != sha(data) {
					t.Fatalf("cairn cat %s: %d bytes, SHA-256 %.12s, want %d bytes, %.12s", root, len(got), s, len(data), sha(data))
				}
				k.counters(t).noBitswap(t, before, "cairn cat "+root)
				c.fastPathOver(t, root)
				// The probe for the root block and at least one CAR.
				after := k.waitGatewayRequests(t, before, 2)
				after.noBitswap(t, before, "cairn cat "+root)
			})

			t.Run("cat_range", func(t *testing.T) {
				data, root := kuboAdd(t, k, l)
				off, n := int64(5<<20+12345), int64(3<<20+777)
				before := k.counters(t)
				got := c.ok(t, 2*time.Minute, "cat", "--timeout", "90s", "--offset", fmt.Sprint(off), "--length", fmt.Sprint(n), root)
				want := data[off : off+n]
				if got != string(want) {
					t.Fatalf("cairn cat --offset %d --length %d %s: %d bytes, SHA-256 %.12s, want %d bytes, %.12s",
						off, n, root, len(got), sha([]byte(got)), len(want), sha(want))
				}
				after := k.counters(t)
				t.Logf("range read: Kubo sent %d blocks over Bitswap, answered %d gateway requests over libp2p; Cairn: %s",
					after.BlocksSent-before.BlocksSent, after.gateway200-before.gateway200,
					strings.Join(fastPathLines(c.proc.Stderr(), root), " | "))
			})

			t.Run("car_over_libp2p", func(t *testing.T) {
				data, root := kuboAdd(t, k, l)
				gw := dialKuboGateway(t, k)
				size := int64(len(data))
				ranges := []struct{ from, to int64 }{
					{0, size - 1},
					{5<<20 + 12345, 8<<20 + 13121},
					{256<<10 - 1, 256 << 10}, // across a 256 KiB leaf boundary
					{1<<20 - 1, 1 << 20},     // across a 1 MiB leaf boundary
					{size - 1, size - 1},
					{7 << 20, size - 1},
				}
				for _, r := range ranges {
					gw.checkRange(t, root, data, r.from, r.to)
				}
			})
		})
	}
}

// With a Kubo that does not serve the gateway over libp2p (the default),
// Cairn's reads fall back to Bitswap: the bytes are right and Kubo's
// Bitswap counts the blocks it sent.
func TestFastPathFallbackToBitswap(t *testing.T) {
	t.Parallel()
	k := startKubo(t)
	c := startCairnConfig(t, cairnDebugConfig)
	k.ok(t, 30*time.Second, "swarm", "connect", c.swarm[0])
	data, root := kuboAdd(t, k, kuboLayouts[1]) // 49 blocks and the root
	before := k.counters(t)
	got := c.ok(t, 2*time.Minute, "cat", "--timeout", "90s", root)
	if s := sha([]byte(got)); s != sha(data) {
		t.Fatalf("cairn cat %s: %d bytes, SHA-256 %.12s, want %d bytes, %.12s", root, len(got), s, len(data), sha(data))
	}
	after := k.counters(t)
	if sent := after.BlocksSent - before.BlocksSent; sent < 50 {
		t.Fatalf("Kubo's Bitswap sent %d blocks (%d bytes) during cairn cat %s, want the file's 50: where did the bytes come from?",
			sent, after.DataSent-before.DataSent, root)
	}
	if after.DataSent-before.DataSent < uint64(len(data)) {
		t.Fatalf("Kubo's Bitswap sent %d bytes, less than the file's %d", after.DataSent-before.DataSent, len(data))
	}
	if lines := fastPathLines(c.proc.Stderr(), root); len(lines) > 0 {
		t.Errorf("Kubo serves no gateway over libp2p, yet Cairn's fast path ran: %s", strings.Join(lines, " | "))
	}
}

// kuboAdd adds a new random file to k with l's layout and returns its
// bytes and root CID, checking that the layout is the one l names.
func kuboAdd(t *testing.T, k *kuboNode, l kuboLayout) ([]byte, string) {
	t.Helper()
	path, _ := randomFile(t, fastPathFileSize)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"add", "-Q"}, l.args...), path)
	root := lastLine(k.ok(t, time.Minute, args...))
	refs := strings.Fields(k.ok(t, time.Minute, "refs", root))
	if len(refs) == 0 || !strings.HasPrefix(refs[0], l.leaf) {
		t.Fatalf("ipfs %s: root %s has children %.3q, want a first child %s…", strings.Join(args, " "), root, refs, l.leaf)
	}
	return data, root
}

// kuboCounters are what Kubo says it served: Bitswap's totals and its
// libp2p gateway's requests by status.
type kuboCounters struct {
	BlocksSent, DataSent uint64
	gateway200           uint64
	gatewayOther         map[string]uint64 // status code → requests
}

func (k *kuboNode) counters(t *testing.T) kuboCounters {
	t.Helper()
	var c kuboCounters
	rpcJSON(t, k.api, "stats/bitswap", nil, &c)
	c.gateway200, c.gatewayOther = k.gatewayRequests(t)
	return c
}

// noBitswap fails the test if Kubo sent a block over Bitswap between
// before and c.
func (c kuboCounters) noBitswap(t *testing.T, before kuboCounters, during string) {
	t.Helper()
	if c.BlocksSent != before.BlocksSent || c.DataSent != before.DataSent {
		t.Fatalf("Kubo sent %d blocks (%d bytes) over Bitswap during %s: the fast path did not carry the file",
			c.BlocksSent-before.BlocksSent, c.DataSent-before.DataSent, during)
	}
}

// waitGatewayRequests waits until Kubo's libp2p gateway has answered at
// least n more requests with 200 than in before (Kubo counts a request
// once its handler returns, which may be after Cairn read the last byte),
// and fails if it answered any with another status.
func (k *kuboNode) waitGatewayRequests(t *testing.T, before kuboCounters, n uint64) kuboCounters {
	t.Helper()
	var c kuboCounters
	eventually(t, 10*time.Second, 50*time.Millisecond, "Kubo's libp2p gateway requests", func() (bool, string) {
		c = k.counters(t)
		return c.gateway200 >= before.gateway200+n, fmt.Sprintf("%d requests answered 200, want at least %d", c.gateway200-before.gateway200, n)
	})
	for code, v := range c.gatewayOther {
		if v != before.gatewayOther[code] {
			t.Errorf("Kubo's libp2p gateway answered %d requests with %s", v-before.gatewayOther[code], code)
		}
	}
	return c
}

var (
	requestsTotal = regexp.MustCompile(`^ipfs_http_requests_total\{([^}]*)\} (\S+)$`)
	codeLabel     = regexp.MustCompile(`code="([^"]*)"`)
)

// gatewayRequests reads Kubo's Prometheus counter of requests to its
// libp2p gateway (handler="libp2p-gateway"): those answered 200, and the
// others by status code.
func (k *kuboNode) gatewayRequests(t *testing.T) (uint64, map[string]uint64) {
	t.Helper()
	u := "http://" + hostPort(t, k.api) + "/debug/metrics/prometheus"
	resp, err := httpClient.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	ok, other := uint64(0), map[string]uint64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := requestsTotal.FindStringSubmatch(sc.Text())
		if m == nil || !strings.Contains(m[1], `handler="libp2p-gateway"`) {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", u, sc.Text(), err)
		}
		code := codeLabel.FindStringSubmatch(m[1])
		if code != nil && code[1] == "200" {
			ok += uint64(v)
		} else if code != nil {
			other[code[1]] += uint64(v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return ok, other
}

// fastPathLines are the fast path's debug lines about root in a Cairn
// daemon's stderr.
func fastPathLines(stderr, root string) []string {
	var out []string
	for line := range strings.SplitSeq(stderr, "\n") {
		if strings.Contains(line, `msg="fast path`) && strings.Contains(line, root) {
			out = append(out, line)
		}
	}
	return out
}

// fastPathOver waits for Cairn to log that the fast-path fetch of root
// ended, and fails if it dropped Kubo or ended for any reason but the
// file fetched or the read over. The read may end first: the last block
// reaches the reader as soon as it is verified, and the read's end
// cancels the job before the stream has seen the CAR's end. Cairn then
// logs Kubo as dropped with "context canceled" or a local stream reset,
// and the fetch as over with "context canceled"; the bytes and Kubo's
// Bitswap counters, checked by the caller, say whether the read was whole.
func (c *cairnNode) fastPathOver(t *testing.T, root string) {
	t.Helper()
	var lines []string
	eventually(t, 10*time.Second, 20*time.Millisecond, "Cairn's fast path fetch of "+root, func() (bool, string) {
		lines = fastPathLines(c.proc.Stderr(), root)
		for _, l := range lines {
			if strings.Contains(l, `msg="fast path: fetch over"`) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no \"fast path: fetch over\" line for root=%s; fast path lines: %q", root, lines)
	})
	for _, l := range lines {
		clean := strings.Contains(l, "err=<nil>") || strings.Contains(l, `: context canceled"`) ||
			strings.Contains(l, "stream reset (local)")
		if strings.Contains(l, "not used") || !clean {
			t.Fatalf("Cairn's fast path did not fetch %s cleanly from Kubo: %s", root, strings.Join(lines, " | "))
		}
		if !strings.Contains(l, "err=<nil>") {
			t.Logf("the read ended before the fast path saw the CAR's end: %s", l)
		}
	}
}

// kuboGateway is an HTTP client for Kubo's trustless gateway over libp2p,
// from a libp2p host of the test's own.
type kuboGateway struct {
	client http.Client
}

func dialKuboGateway(t *testing.T, k *kuboNode) *kuboGateway {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	info, err := peer.AddrInfoFromP2pAddr(ma.StringCast(k.swarm[0]))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := h.Connect(ctx, *info); err != nil {
		t.Fatalf("connect to Kubo %s: %v", k.swarm[0], err)
	}
	hh := &libp2phttp.Host{StreamHost: h}
	t.Cleanup(func() { hh.Close() })
	client, err := hh.NamespacedClient(fastpath.ProtocolID, *info)
	if err != nil {
		t.Fatalf("Kubo's well-known resource lists no %s (or cannot be read): %v", fastpath.ProtocolID, err)
	}
	client.Timeout = time.Minute
	return &kuboGateway{client: client}
}

// checkRange fetches root's entity-bytes from:to as a CAR, exactly as
// Cairn's fast path asks, verifies it with Cairn's reader, and checks that
// the file bytes the blocks carry cover the range with data's bytes.
func (g *kuboGateway) checkRange(t *testing.T, root string, data []byte, from, to int64) {
	t.Helper()
	rc, err := cid.Decode(root)
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/ipfs/%s?format=car&dag-scope=entity&entity-bytes=%d:%d", root, from, to)
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.ipld.car;version=1;order=dfs;dups=n")
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s over libp2p: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s over libp2p: body: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s over libp2p: %s: %.300s", path, resp.Status, body)
	}
	var listed []string
	var file bytes.Buffer
	first, end := int64(-1), int64(-1)
	params := trustless.Params{Scope: "entity", From: from, To: to, HasTo: true}
	err = trustless.ReadCAR(bytes.NewReader(body), rc, params, func(b trustless.Block) error {
		listed = append(listed, fmt.Sprintf("%s@%d+%d", b.CID, b.Off, b.Len))
		if b.Len == 0 {
			return nil
		}
		if end >= 0 && b.Off != end {
			return fmt.Errorf("block %s carries bytes at %d, after a block ending at %d", b.CID, b.Off, end)
		}
		if first < 0 {
			first = b.Off
		}
		end = b.Off + b.Len
		bs, err := fileBytesOf(b)
		if err != nil {
			return err
		}
		file.Write(bs)
		return nil
	})
	if err != nil {
		t.Fatalf("Cairn's verifier rejects Kubo's CAR for %s (Content-Type %q, %d bytes): %v\nblocks verified before: %s",
			path, resp.Header.Get("Content-Type"), len(body), err, strings.Join(listed, " "))
	}
	if first > from || end <= to {
		t.Fatalf("%s: Kubo's blocks carry bytes [%d, %d), not all of [%d, %d]: %s", path, first, end, from, to, strings.Join(listed, " "))
	}
	if !bytes.Equal(file.Bytes(), data[first:end]) {
		t.Fatalf("%s: the blocks' %d file bytes at %d differ from the file's", path, file.Len(), first)
	}
}

// fileBytesOf is the file bytes a verified block carries: a raw leaf's
// data, or a dag-pb node's UnixFS data.
func fileBytesOf(b trustless.Block) ([]byte, error) {
	if b.CID.Type() == cid.Raw {
		return b.Data, nil
	}
	nd, err := merkledag.DecodeProtobuf(b.Data)
	if err != nil {
		return nil, err
	}
	fs, err := unixfs.FSNodeFromBytes(nd.Data())
	if err != nil {
		return nil, err
	}
	return fs.Data(), nil
}
