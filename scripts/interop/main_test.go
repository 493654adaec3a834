package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	// cairnBin is the cairn binary, built once for the package.
	cairnBin string
	// kuboBin is Kubo's ipfs binary; kuboErr says why there is none.
	kuboBin string
	kuboErr error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds cairn (unless $CAIRN_BIN names a prebuilt binary, for
// iterating on these tests), finds or builds Kubo, and runs the tests. A
// missing Kubo does not stop the run: every test that needs it fails with
// the reason.
func run(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cairnBin = os.Getenv("CAIRN_BIN"); cairnBin == "" {
		dir, err := os.MkdirTemp("", "cairn-interop-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cairnBin = filepath.Join(dir, "cairn")
		build := exec.Command("go", "build", "-o", cairnBin, ".")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build cairn: %v\n%s", err, out)
			return 1
		}
	}
	kuboBin, kuboErr = findKubo(filepath.Join(root, "scripts", "kubo.sh"))
	return m.Run()
}

// findKubo returns $CAIRN_KUBO if set, else the binary scripts/kubo.sh
// builds (or finds in its cache). Building takes about two minutes cold.
func findKubo(script string) (string, error) {
	if p := os.Getenv("CAIRN_KUBO"); p != "" {
		if err := exec.Command(p, "version").Run(); err != nil {
			return "", fmt.Errorf("CAIRN_KUBO=%s does not run: %v", p, err)
		}
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/kubo.sh: %v: %s", err, lastLines(stderr.String(), 5))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	bin := lines[len(lines)-1]
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("scripts/kubo.sh printed %q, which is not a file: %v", bin, err)
	}
	return bin, nil
}

// needKubo fails the test, with the reason, when Kubo could not be had.
func needKubo(t *testing.T) {
	t.Helper()
	if kuboErr != nil {
		t.Fatalf("cannot run without Kubo: %v", kuboErr)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
