package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/internal/browser"
	"github.com/cairnnet/cairn/internal/syncbuf"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	manet "github.com/multiformats/go-multiaddr/net"
	multibase "github.com/multiformats/go-multibase"
)

// hostilePage is a web page that tries every way a page has to drive the
// shell's API from a browser: fetch in cors and no-cors mode (and with
// keepalive, which is what navigator.sendBeacon sends), XMLHttpRequest,
// and auto-submitted forms of each encoding a form has. It unpins the
// victim first, adds a file, and runs GC last, so that GC would take the
// victim if the unpin got through. It waits for every attempt to end
// before it sets window.cairnDone to what each attempt saw.
var hostilePage = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>hostile</title>
<body><script>
const apis = {{.APIs}};
const victim = {{.Victim}};
const payload = {{.Payload}};
const log = [];

function form(api, cmd, enctype, field) {
  return new Promise(resolve => {
    const name = "f" + log.length + Math.random().toString(36).slice(2);
    const frame = document.createElement("iframe");
    frame.name = name;
    document.body.appendChild(frame);
    frame.onload = () => { log.push("form " + enctype + " " + api + cmd + ": loaded"); resolve(); };
    const f = document.createElement("form");
    f.method = "POST"; f.action = api + cmd; f.enctype = enctype; f.target = name;
    if (field === "file") {
      const input = document.createElement("input");
      input.type = "file"; input.name = "file";
      const dt = new DataTransfer();
      dt.items.add(new File([payload], "payload.txt", {type: "text/plain"}));
      input.files = dt.files;
      f.appendChild(input);
    } else {
      const input = document.createElement("input");
      input.name = "arg"; input.value = victim;
      f.appendChild(input);
    }
    document.body.appendChild(f);
    f.submit();
  });
}

function body(kind) {
  if (kind !== "add") return undefined;
  const fd = new FormData();
  fd.append("file", new Blob([payload], {type: "text/plain"}), "payload.txt");
  return fd;
}

async function tryFetch(url, kind, init) {
  try {
    const r = await fetch(url, Object.assign({method: "POST", body: body(kind)}, init));
    log.push("fetch " + JSON.stringify(init) + " " + url + ": " + (r.type === "opaque" ? "opaque" : r.status));
  } catch (e) {
    log.push("fetch " + JSON.stringify(init) + " " + url + ": " + e);
  }
}

function tryXHR(url, kind) {
  return new Promise(resolve => {
    const x = new XMLHttpRequest();
    x.open("POST", url);
    x.onloadend = () => { log.push("xhr " + url + ": " + x.status); resolve(); };
    x.send(body(kind) || null);
  });
}

async function attack(kind, cmd) {
  for (const api of apis) {
    const url = api + cmd;
    await tryFetch(url, kind, {});
    await tryFetch(url, kind, {mode: "no-cors"});
    await tryFetch(url, kind, {mode: "no-cors", keepalive: true, credentials: "include"});
    await tryXHR(url, kind);
    if (kind === "add") {
      await form(api, cmd, "multipart/form-data", "file");
    } else {
      await form(api, cmd, "text/plain", "arg");
      await form(api, cmd, "application/x-www-form-urlencoded", "arg");
      await form(api, cmd, "multipart/form-data", "arg");
    }
  }
}

(async () => {
  await attack("pin", "/api/v0/pin/rm?arg=" + victim);
  await attack("add", "/api/v0/add");
  await attack("gc", "/api/v0/repo/gc");
  window.cairnDone = log;
})();
</script>
`))

// hostileSite renders the page against n's shell, for both names of the
// loopback address.
func hostileSite(t *testing.T, n *Node, victim cid.Cid, payload string) []byte {
	t.Helper()
	addr, err := manet.ToNetAddr(n.ShellAddr())
	if err != nil {
		t.Fatal(err)
	}
	port := addr.String()[strings.LastIndex(addr.String(), ":"):]
	var buf bytes.Buffer
	err = hostilePage.Execute(&buf, map[string]any{
		"APIs":    []string{"http://127.0.0.1" + port, "http://localhost" + port},
		"Victim":  victim.String(),
		"Payload": payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A web page cannot drive the node's API: not one that arrived as content
// and is opened through the gateway (by path on 127.0.0.1, or on its own
// subdomain origin), nor one from an unrelated local origin. Each tries to
// unpin a file, add one and run GC; the node is left as it was. Each case
// has a node of its own, so that one case's damage cannot hide another's.
func TestHostilePagesCannotDriveTheShell(t *testing.T) {
	cases := []struct {
		name string
		url  func(v *victimNode) string
	}{
		{"gateway path on 127.0.0.1", func(v *victimNode) string {
			return v.n.GatewayURL() + "/ipfs/" + v.site.String() + "/"
		}},
		{"gateway subdomain", func(v *victimNode) string {
			return subdomainURL(t, v.n, v.site)
		}},
		{"unrelated local origin", func(v *victimNode) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(v.page)
			}))
			t.Cleanup(srv.Close)
			return srv.URL + "/"
		}},
	}
	bctx := browser.New(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVictimNode(t)
			url := tc.url(v)
			start := time.Now()
			log, at := runHostilePage(t, bctx, url)
			t.Logf("%s, run at %s: %d attempts in %s", url, at, len(log), time.Since(start).Round(time.Millisecond))
			if strings.HasPrefix(url, v.n.GatewayURL()) && at != subdomainURL(t, v.n, v.site) {
				t.Errorf("the gateway served the page at %s, not on the site's own origin", at)
			}
			for _, l := range log {
				t.Log(l)
			}
			v.wantRefused(t)
			v.wantUnchanged(t)
		})
	}
}

// victimNode is a node holding a pinned file (the victim), an unpinned
// block (which GC would remove) and a hostile site, pinned so that it is
// served from the node itself, as content that came from the network is.
type victimNode struct {
	n                    *Node
	shellLog             *syncbuf.Buffer // the shell's log, a line per request
	victim, loose, added cid.Cid         // added: the CID of the file the page tries to add
	page                 []byte          // the hostile page
	site                 cid.Cid         // a directory holding the page as index.html
}

func newVictimNode(t *testing.T) *victimNode {
	t.Helper()
	ctx := t.Context()
	v := &victimNode{shellLog: &syncbuf.Buffer{}}
	cfg := testConfig()
	cfg.Shell.Logger = slog.New(slog.NewTextHandler(v.shellLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v.n = newTestNode(t, cfg)
	v.victim = importPinned(t, v.n, files.NewBytesFile(randomBytes(t, 300<<10)))
	var err error
	if v.loose, err = v.n.Content().PutBlock(ctx, randomBytes(t, 1024), "raw", "sha2-256", -1, false); err != nil {
		t.Fatal(err)
	}
	payload := "added by a hostile page " + hex.EncodeToString(randomBytes(t, 16))
	added, err := v.n.Content().Import(ctx, strings.NewReader(payload), content.ImportOptions{CIDVersion: -1, OnlyHash: true})
	if err != nil {
		t.Fatal(err)
	}
	v.added = added.Cid
	v.page = hostileSite(t, v.n, v.victim, payload)
	v.site = importPinned(t, v.n, files.NewMapDirectory(map[string]files.Node{"index.html": files.NewBytesFile(v.page)}))
	return v
}

// runHostilePage opens url and waits for its script to finish every
// attempt, returning what each saw and where the page ran.
func runHostilePage(t *testing.T, bctx context.Context, url string) ([]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	log, err := chromedp.Run(ctx, chromedp.Poll[[]string]("window.cairnDone", chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		loc, _ := chromedp.Run(bctx, chromedp.Location())
		t.Fatalf("page %s (now at %s) did not finish its attempts: %v", url, loc, err)
	}
	at, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return log, at
}

// subdomainURL is root's own origin on n's gateway.
func subdomainURL(t *testing.T, n *Node, root cid.Cid) string {
	t.Helper()
	b32, err := root.StringOfBase(multibase.Base32)
	if err != nil || root.Version() != 1 {
		t.Fatalf("%s is not a CIDv1 (%v)", root, err)
	}
	gw := n.GatewayURL()
	return "http://" + b32 + ".ipfs.localhost" + gw[strings.LastIndex(gw, ":"):] + "/"
}

// apiRequest is a line of the shell's log for one API request.
var apiRequest = regexp.MustCompile(`msg="shell: request" method=(\w+) path=(/api/v0/\S+) status=(\d+)`)

// wantRefused checks that the page's requests reached the shell, for every
// command it tried, and that the shell refused each one.
func (v *victimNode) wantRefused(t *testing.T) {
	t.Helper()
	reached := map[string]int{}
	for _, m := range apiRequest.FindAllStringSubmatch(v.shellLog.String(), -1) {
		reached[m[2]]++
		if m[3] != "403" {
			t.Errorf("%s %s: status %s, want 403", m[1], m[2], m[3])
		}
	}
	t.Logf("requests the shell refused: %v", reached)
	for _, cmd := range []string{"/api/v0/pin/rm", "/api/v0/add", "/api/v0/repo/gc"} {
		if reached[cmd] == 0 {
			t.Errorf("no request for %s reached the shell: the test proves nothing", cmd)
		}
	}
}

// wantUnchanged checks that the victim is still pinned, the page's file
// was not added, and GC did not run (the loose block is still there).
func (v *victimNode) wantUnchanged(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	st, err := v.n.Content().CheckPins(ctx, v.victim)
	if err != nil || len(st) != 1 || st[0].Type != content.PinRecursive {
		t.Errorf("victim %s is no longer pinned: %v %v", v.victim, st, err)
	}
	bs := v.n.Content().BlockService().Blockstore()
	if has, err := bs.Has(ctx, v.added); err != nil || has {
		t.Errorf("the page's file %s was added (has %v, err %v)", v.added, has, err)
	}
	if has, err := bs.Has(ctx, v.loose); err != nil || !has {
		t.Errorf("GC ran: the unpinned block %s is gone (err %v)", v.loose, err)
	}
}

func importPinned(t *testing.T, n *Node, nd files.Node) cid.Cid {
	t.Helper()
	res, err := n.Content().ImportNode(t.Context(), nd, content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Cid
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
