package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// The wire limit is one bare go-libp2p stream between two processes over
// loopback TCP, with go-libp2p's default security and muxer (as Cairn's
// host has): the harness re-executes itself as the sender, dials it, asks
// for a file by path and SHA-256s every byte it receives.

// wireEnv names the variable that makes this program the wire sender.
const wireEnv = "CAIRN_BENCH_WIRE"

// wireProto is the sender's protocol: the receiver writes a file path and
// a newline, the sender answers with the file's bytes and closes.
const wireProto = "/cairn-bench/wire/1"

func isWireChild() bool { return os.Getenv(wireEnv) == "send" }

// runWireChild is the sender: it listens on loopback TCP, prints its
// address, serves wireProto until stdin closes (the harness going away).
func runWireChild() error {
	h, err := libp2p.New(
		libp2p.NoTransports, libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
	)
	if err != nil {
		return fmt.Errorf("libp2p host: %w", err)
	}
	defer h.Close()
	h.SetStreamHandler(wireProto, sendFile)
	for _, a := range h.Addrs() {
		fmt.Printf("wire listening on %s/p2p/%s\n", a, h.ID())
	}
	fmt.Println("wire is ready")
	// Serve until the harness closes stdin or signals: either way a clean
	// exit, so Close can tell a crash from a stop. The handler stays
	// installed until return, so a SIGTERM during shutdown is caught too.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	return nil
}

// sendFile answers one request with the named file's bytes.
func sendFile(s network.Stream) {
	defer s.Close()
	path, err := bufio.NewReader(s).ReadString('\n')
	if err != nil {
		s.Reset()
		return
	}
	f, err := os.Open(strings.TrimSpace(path))
	if err != nil {
		s.Reset()
		return
	}
	defer f.Close()
	// 1 MiB writes, as a block-sized sender would make: io.Copy would
	// take *os.File's WriteTo path and write 32 KiB at a time, each one a
	// yamux frame and a security record of its own.
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(s, struct{ io.Reader }{f}, buf); err != nil {
		s.Reset()
	}
}

// wireBench is the receiving side: a host in the harness process and the
// sender child it dialled.
type wireBench struct {
	child *proc
	stdin io.Closer
	h     host.Host
	peer  peer.ID
}

// startWire re-executes this program as the sender and connects to it.
func startWire(ctx context.Context) (*wireBench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), wireEnv+"=send")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	var addr string
	child, err := startProc(ctx, "wire sender", cmd, 30*time.Second, func(line string) bool {
		if a, ok := strings.CutPrefix(line, "wire listening on "); ok {
			addr = a
		}
		return line == "wire is ready"
	})
	if err != nil {
		return nil, err
	}
	w := &wireBench{child: child, stdin: stdin}
	if err := w.dial(ctx, addr); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *wireBench) dial(ctx context.Context, addr string) error {
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return fmt.Errorf("wire sender address %q: %w", addr, err)
	}
	w.h, err = libp2p.New(libp2p.NoTransports, libp2p.Transport(tcp.NewTCPTransport), libp2p.NoListenAddrs)
	if err != nil {
		return fmt.Errorf("wire receiver: %w", err)
	}
	w.peer = info.ID
	if err := w.h.Connect(ctx, *info); err != nil {
		return fmt.Errorf("wire connect: %w", err)
	}
	return nil
}

// fetch times one file over a new stream on the open connection, as the
// daemons' fetches run over a connection made beforehand.
func (w *wireBench) fetch(ctx context.Context, d dataFile) (transfer, error) {
	start := time.Now()
	s, err := w.h.NewStream(ctx, w.peer, wireProto)
	if err != nil {
		return transfer{}, fmt.Errorf("wire stream: %w", err)
	}
	defer s.Close()
	if _, err := fmt.Fprintln(s, d.path); err != nil {
		return transfer{}, fmt.Errorf("wire request: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		return transfer{}, fmt.Errorf("wire request: %w", err)
	}
	t, err := timedRead(s, start)
	if err != nil {
		return transfer{}, fmt.Errorf("wire read: %w", err)
	}
	return t, t.check("wire", d.size, d.sum)
}

// Close stops the receiver host, then the child: closing its stdin tells
// it to exit, and a SIGTERM follows only if it has not within 10 s (one
// sent at once could land while it shuts down, after its handler is gone).
func (w *wireBench) Close() error {
	if w.h != nil {
		w.h.Close()
	}
	w.stdin.Close()
	return w.child.closeAfter(10 * time.Second)
}
