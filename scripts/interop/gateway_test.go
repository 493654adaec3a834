package interop

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// Kubo's gateway and Cairn's answer trustless-gateway requests
// (IPIP-402/IPIP-412) with the same bytes: a raw block, and CARs of a
// whole DAG in the same block order.
func TestTrustlessGateway(t *testing.T) {
	t.Parallel()
	k := startKubo(t)
	c := startCairn(t)
	path, _ := randomFile(t, 3<<20+9)
	root := lastLine(c.ok(t, time.Minute, "add", "-q", path))
	if kr := lastLine(k.ok(t, time.Minute, "add", "-Q", path)); kr != root {
		t.Fatalf("Cairn and Kubo disagree on the CID: %s vs %s", root, kr)
	}
	requests := []struct {
		name, query, accept string
	}{
		{"raw_block", "", "application/vnd.ipld.raw"},
		{"raw_block_format_param", "?format=raw", ""},
		{"car_dag_scope_all", "?dag-scope=all", "application/vnd.ipld.car; version=1; order=dfs; dups=n"},
		{"car_dag_scope_block", "?dag-scope=block", "application/vnd.ipld.car; version=1; order=dfs; dups=n"},
		{"car_dag_scope_entity", "?dag-scope=entity", "application/vnd.ipld.car; version=1; order=dfs; dups=n"},
	}
	for _, rq := range requests {
		t.Run(rq.name, func(t *testing.T) {
			kuboBody, kuboType := gatewayGet(t, "Kubo's gateway", k.gatewayURL(t)+"/ipfs/"+root+rq.query, rq.accept)
			cairnBody, cairnType := gatewayGet(t, "Cairn's gateway", c.gatewayURL(t)+"/ipfs/"+root+rq.query, rq.accept)
			if cairnBody != kuboBody {
				t.Fatalf("Cairn sent %d bytes (%.12s, %s), Kubo %d bytes (%.12s, %s)",
					len(cairnBody), sha([]byte(cairnBody)), cairnType, len(kuboBody), sha([]byte(kuboBody)), kuboType)
			}
			if cairnType != kuboType {
				t.Errorf("Content-Type: Cairn %q, Kubo %q", cairnType, kuboType)
			}
		})
	}
}

// gatewayGet fetches url with Accept set, failing the test unless it is a
// 200, and returns the body and the Content-Type.
func gatewayGet(t *testing.T, who, url, accept string) (string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		t.Fatalf("%s does not serve the trustless gateway at /ipfs/: GET %s (Accept %q): %s: %.200s", who, url, accept, resp.Status, body)
	default:
		t.Fatalf("%s: GET %s (Accept %q): %s: %.200s", who, url, accept, resp.Status, body)
	}
	return string(body), resp.Header.Get("Content-Type")
}
