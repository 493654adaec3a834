package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"golang.org/x/sys/unix"
)

// FilesSocket is the Unix socket in the repo, mode 0600, through which a
// local CLI hands the daemon a file it opened itself for `get -o` and
// `cat` (see fileServer).
const FilesSocket = client.FilesSocket

// Bounds of the files socket.
const (
	maxFileRequests   = 8                      // answered at once; more wait in the backlog
	fileRequestWait   = 10 * time.Second       // for a request to arrive once connected
	fileProgressEvery = 200 * time.Millisecond // between progress lines
)

// fileServer answers requests on the files socket: a CLI of the same user
// sends one JSON request (client.FileRequest) with exactly one descriptor
// (SCM_RIGHTS), a file it opened for writing, and the daemon writes the
// content into it: verified bytes straight from the fetch, without the
// shell's HTTP response and the CLI's copy of it. The file keeps the
// permissions the user gave it, and the daemon never opens a path it was
// given. Replies are JSON lines (client.FileReply): progress, then the
// size or an error.
type fileServer struct {
	ln      *net.UnixListener
	path    string
	content *content.Content
	uid     int
	life    context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	slots   chan struct{}
}

// startFileServer listens on dir/FilesSocket, replacing a stale socket a
// killed daemon left.
func startFileServer(dir string, c *content.Content) (*fileServer, error) {
	return startFileServerFor(dir, c, os.Getuid())
}

// startFileServerFor is startFileServer for the peers of user uid.
func startFileServerFor(dir string, c *content.Content, uid int) (*fileServer, error) {
	path := filepath.Join(dir, FilesSocket)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("files socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("files socket: %w", err)
	}
	// The peer's uid is checked on every connection too; the mode keeps
	// other users from connecting at all.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("files socket: %w", err)
	}
	s := &fileServer{ln: ln, path: path, content: c, uid: uid, slots: make(chan struct{}, maxFileRequests)}
	s.life, s.stop = context.WithCancel(context.Background())
	s.wg.Go(s.serve)
	return s, nil
}

// Close stops accepting, ends the requests in flight and removes the
// socket.
func (s *fileServer) Close() error {
	s.stop()
	err := s.ln.Close()
	s.wg.Wait()
	if rmErr := os.Remove(s.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}

func (s *fileServer) serve() {
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if s.life.Err() == nil {
				slog.Error("files socket stopped", "err", err)
			}
			return
		}
		select {
		case s.slots <- struct{}{}:
		case <-s.life.Done():
			conn.Close()
			return
		}
		s.wg.Go(func() {
			defer func() { <-s.slots }()
			defer conn.Close()
			s.handle(conn)
		})
	}
}

// handle answers one connection: one request, one descriptor.
func (s *fileServer) handle(conn *net.UnixConn) {
	reply := json.NewEncoder(conn)
	fail := func(err error) { _ = reply.Encode(client.FileReply{Error: err.Error()}) }
	if err := s.checkPeer(conn); err != nil {
		fail(err)
		return
	}
	req, f, err := readFileRequest(conn)
	if err != nil {
		fail(err)
		return
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(s.life)
	defer cancel()
	if req.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	// The client hanging up (Ctrl-C) ends the request.
	go func() {
		_, _ = conn.Read(make([]byte, 1))
		cancel()
	}()
	n, err := s.run(ctx, req, f, reply)
	if err != nil {
		if req.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = notFoundWithin(req, err)
		}
		_ = reply.Encode(client.FileReply{Error: err.Error(), NotFile: errors.Is(err, content.ErrNotFile)})
		return
	}
	_ = reply.Encode(client.FileReply{Size: n, Done: true})
}

// notFoundWithin says what the shell says of a read that ran out of time:
// which content, or which block of it, was not found within the timeout.
func notFoundWithin(req client.FileRequest, err error) error {
	what := fmt.Sprintf("content %s not found", req.Cid)
	var mb *content.MissingBlockError
	if errors.As(err, &mb) && mb.Cid.String() != req.Cid {
		what = fmt.Sprintf("block %s of content %s not found", mb.Cid, req.Cid)
	}
	return fmt.Errorf("%s within %s", what, req.Timeout)
}

// checkPeer refuses a peer whose uid is not the daemon's.
func (s *fileServer) checkPeer(conn *net.UnixConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("peer credentials: %w", credErr)
	}
	if int(cred.Uid) != s.uid {
		return fmt.Errorf("uid %d may not use this daemon's files socket", cred.Uid)
	}
	return nil
}

// readFileRequest reads the request and the one descriptor sent with it;
// any other descriptors are closed, and the request refused.
func readFileRequest(conn *net.UnixConn) (client.FileRequest, *os.File, error) {
	var req client.FileRequest
	_ = conn.SetReadDeadline(time.Now().Add(fileRequestWait))
	defer conn.SetReadDeadline(time.Time{})
	buf := make([]byte, client.MaxFileRequest+1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return req, nil, fmt.Errorf("read request: %w", err)
	}
	fds, err := receivedFDs(oob[:oobn])
	if err != nil {
		return req, nil, err
	}
	if len(fds) != 1 || flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n > client.MaxFileRequest {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return req, nil, fmt.Errorf("a request carries one descriptor and at most %d bytes", client.MaxFileRequest)
	}
	f := os.NewFile(uintptr(fds[0]), "passed file")
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		f.Close()
		return req, nil, fmt.Errorf("bad request: %w", err)
	}
	return req, f, nil
}

// receivedFDs are the descriptors in a message's control data.
func receivedFDs(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// run carries out req into f, sending progress lines as bytes land.
func (s *fileServer) run(ctx context.Context, req client.FileRequest, f *os.File, reply *json.Encoder) (int64, error) {
	c, err := cid.Decode(req.Cid)
	if err != nil {
		return 0, fmt.Errorf("invalid CID %q: %w", req.Cid, err)
	}
	var written atomic.Int64
	done := make(chan struct{})
	var progress sync.WaitGroup
	defer func() {
		close(done)
		progress.Wait() // the final line must not interleave with one
	}()
	progress.Go(func() {
		t := time.NewTicker(fileProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = reply.Encode(client.FileReply{Progress: written.Load()})
			case <-done:
				return
			}
		}
	})
	switch req.Op {
	case client.OpGet:
		return s.get(ctx, c, f, &written)
	case client.OpCat:
		return s.cat(ctx, c, f, &written)
	}
	return 0, fmt.Errorf("unknown operation %q", req.Op)
}

// get writes the file c into f at its offsets and sets f's size.
func (s *fileServer) get(ctx context.Context, c cid.Cid, f *os.File, written *atomic.Int64) (int64, error) {
	if err := checkFile(f, true); err != nil {
		return 0, err
	}
	df := newDirectFile(f)
	n, err := s.content.WriteFileTo(ctx, c, countingWriterAt{df, written})
	if ferr := df.Finish(); err == nil && ferr != nil {
		err = fmt.Errorf("write file: %w", ferr)
	}
	if err != nil {
		return 0, err
	}
	if err := f.Truncate(n); err != nil {
		return 0, fmt.Errorf("set file size: %w", err)
	}
	return n, nil
}

// cat writes the file c into f in order, from where f stands: f may be a
// pipe.
func (s *fileServer) cat(ctx context.Context, c cid.Cid, f *os.File, written *atomic.Int64) (int64, error) {
	if err := checkFile(f, false); err != nil {
		return 0, err
	}
	nd, err := s.content.Node(ctx, c)
	if err != nil {
		return 0, err
	}
	defer nd.Close()
	file, ok := nd.(files.File)
	if _, link := nd.(*files.Symlink); link || !ok {
		return 0, fmt.Errorf("%s: %w", c, content.ErrNotFile)
	}
	// Only the writer's methods: os.File's ReadFrom would try
	// copy_file_range and splice on a reader that is no file.
	return io.Copy(struct{ io.Writer }{countingWriter{f, written}}, file)
}

// checkFile refuses a descriptor not open for writing, one of a kind the
// operation cannot write (a directory, or for get anything but a regular
// file), and for get one in append mode, where Linux ignores pwrite's
// offset.
func checkFile(f *os.File, get bool) error {
	fd := int(f.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("passed file: %w", err)
	}
	if mode := flags & unix.O_ACCMODE; mode != unix.O_WRONLY && mode != unix.O_RDWR {
		return errors.New("the passed file is not open for writing")
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("passed file: %w", err)
	}
	kind := st.Mode & unix.S_IFMT
	switch {
	case get && kind != unix.S_IFREG:
		return errors.New("get writes only to a regular file")
	case get && flags&unix.O_APPEND != 0:
		return errors.New("get cannot write to a file open for appending")
	case kind != unix.S_IFREG && kind != unix.S_IFIFO && kind != unix.S_IFCHR && kind != unix.S_IFSOCK:
		return errors.New("cat writes only to a file, a pipe, a socket or a device")
	}
	return nil
}

// countingWriterAt adds what it writes to n.
type countingWriterAt struct {
	w io.WriterAt
	n *atomic.Int64
}

// WriteAt writes p at off and counts what was written.
func (c countingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.w.WriteAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// countingWriter adds what it writes to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

// Write writes p and counts what was written.
func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
