package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/ipfs/go-cid"
	"golang.org/x/sys/unix"
)

// FilesSocket is the name, in a daemon's repo, of the Unix socket through
// which a local client hands the daemon a file to write content into.
const FilesSocket = "files.sock"

// MaxFileRequest bounds a request on the files socket, in bytes.
const MaxFileRequest = 4 << 10

// Operations on the files socket.
const (
	// OpGet writes a whole file at its offsets (from several peers at
	// once) into a regular file, and sets the file's size.
	OpGet = "get"
	// OpCat writes a file in order from where the descriptor stands: a
	// file, a pipe or a device.
	OpCat = "cat"
)

// FileRequest is what a client sends on the files socket, with the
// descriptor to write to.
type FileRequest struct {
	Op      string        `json:"op"`
	Cid     string        `json:"cid"`
	Timeout time.Duration `json:"timeout,omitempty"` // 0: none
}

// FileReply is one line of the daemon's answer: progress (bytes written
// so far), then either Done with the size or Error.
type FileReply struct {
	Progress int64  `json:"progress,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Done     bool   `json:"done,omitempty"`
	Error    string `json:"error,omitempty"`
	// NotFile marks the error of a CID that is a directory (or another
	// DAG that is not one file): get it through the shell instead.
	NotFile bool `json:"not_file,omitempty"`
}

// ErrNotFile is GetToFile's and CatToFile's error for a CID that is not a
// file; nothing was written.
var ErrNotFile = errors.New("not a file")

// GetToFile has the daemon whose files socket is at socket write the
// UnixFS file c into f, an open regular file (not in append mode), and
// set f's size; it returns the size. The daemon writes the verified bytes
// itself as they arrive, so nothing passes through this process. progress
// (may be nil) gets the bytes written so far. Closing ctx asks the daemon
// to stop. A daemon on another machine, or one without the socket, gives
// an error: use the HTTP shell then.
func GetToFile(ctx context.Context, socket string, c cid.Cid, f *os.File, timeout time.Duration, progress func(int64)) (int64, error) {
	return fileOp(ctx, socket, FileRequest{Op: OpGet, Cid: c.String(), Timeout: timeout}, f, progress)
}

// CatToFile is GetToFile writing the file in order from f's position, for
// a descriptor that may be a pipe (a shell's redirection of stdout).
func CatToFile(ctx context.Context, socket string, c cid.Cid, f *os.File, timeout time.Duration, progress func(int64)) (int64, error) {
	return fileOp(ctx, socket, FileRequest{Op: OpCat, Cid: c.String(), Timeout: timeout}, f, progress)
}

// fileOp sends req with f's descriptor and reads the replies.
func fileOp(ctx context.Context, socket string, req FileRequest, f *os.File, progress func(int64)) (int64, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return 0, fmt.Errorf("files socket: %w", err)
	}
	conn := nc.(*net.UnixConn)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	msg, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	_, _, sendErr := conn.WriteMsgUnix(msg, unix.UnixRights(int(f.Fd())), nil)
	dec := json.NewDecoder(bufio.NewReader(conn))
	for {
		var r FileReply
		if err := dec.Decode(&r); err != nil {
			switch {
			case ctx.Err() != nil:
				return 0, ctx.Err()
			case sendErr != nil:
				// Refused before the request was read.
				return 0, fmt.Errorf("files socket: %w", sendErr)
			}
			return 0, fmt.Errorf("files socket: %w", err)
		}
		switch {
		case r.NotFile:
			return 0, fmt.Errorf("%s: %w", r.Error, ErrNotFile)
		case r.Error != "":
			return 0, errors.New(r.Error)
		case r.Done:
			return r.Size, nil
		case progress != nil:
			progress(r.Progress)
		}
	}
}
