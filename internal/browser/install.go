package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Chromium is where Debian's chromium package puts the browser.
const Chromium = "/usr/bin/chromium"

// installTimeout bounds apt-get update and install together; the install
// takes about a minute on a fresh machine.
const installTimeout = 10 * time.Minute

// lockFile serialises installs across test binaries: go test runs
// packages in parallel, and two apt-gets at once would fight over dpkg's
// lock.
var lockFile = filepath.Join(os.TempDir(), "cairn-chromium-install.lock")

// Path returns the Chromium binary, installing Debian's chromium package
// with apt-get when it is missing. Concurrent callers, in this process or
// others, install it once.
func Path() (string, error) {
	if installed() {
		return Chromium, nil
	}
	unlock, err := lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	if installed() { // another test binary installed it while we waited
		return Chromium, nil
	}
	if err := install(); err != nil {
		return "", fmt.Errorf("chromium is not installed at %s and installing it failed: %w", Chromium, err)
	}
	if !installed() {
		return "", fmt.Errorf("apt-get installed chromium but %s is still missing", Chromium)
	}
	return Chromium, nil
}

func installed() bool {
	fi, err := os.Stat(Chromium)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// lock takes the install lock, waiting for another holder; the kernel
// drops it if the holder dies.
func lock() (unlock func(), err error) {
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("chromium install lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("chromium install lock %s: %w", lockFile, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// install runs apt-get non-interactively: update for a fresh machine's
// empty lists, then the package without its recommends (fonts and the
// like, which a headless test does not need).
func install() error {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	// Wait for dpkg's own lock rather than fail, should apt be busy.
	wait := []string{"-o", "DPkg::Lock::Timeout=300"}
	if err := apt(ctx, append(wait, "-q", "update")...); err != nil {
		return err
	}
	return apt(ctx, append(wait, "-q", "-y", "--no-install-recommends", "install", "chromium")...)
}

func apt(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", installTimeout)
	}
	return fmt.Errorf("apt-get %s: %w: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
}

// lastLines keeps the end of apt's output, where it says what went wrong.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
