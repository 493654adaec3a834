package shelltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairnnet/cairn/shell"
)

// AddNode implements shell.Backend. A file gets the CID of its bytes as
// one raw block, a symlink or directory a made-up dag-pb CID over its
// contents; all of them can be read back with Node, directories listed
// with List. Files are read in small steps so progress shows.
func (b *Backend) AddNode(ctx context.Context, nd files.Node, opts shell.AddOptions, events shell.AddEvents) (shell.AddResult, error) {
	b.mu.Lock()
	b.lastAdd = opts
	b.mu.Unlock()
	res, _, err := b.addNode(ctx, "", nd, opts, events)
	return res, err
}

// addNode adds nd and returns its result and a maker of a fresh copy.
func (b *Backend) addNode(ctx context.Context, p string, nd files.Node, opts shell.AddOptions, events shell.AddEvents) (shell.AddResult, func() files.Node, error) {
	var (
		res shell.AddResult
		mk  func() files.Node
		err error
		dir bool
	)
	switch nd := nd.(type) {
	case *files.Symlink:
		target := nd.Target
		res = shell.AddResult{Cid: fakeCid("symlink:" + target), Size: uint64(len(target))}
		mk = func() files.Node { return files.NewLinkFile(target, nil) }
	case files.File:
		var data []byte
		if data, err = b.readAll(ctx, p, nd, events.Progress); err != nil {
			return res, nil, err
		}
		res = shell.AddResult{Cid: RawCid(data), Size: uint64(len(data))}
		mk = func() files.Node { return files.NewBytesFile(data) }
	case files.Directory:
		dir = true
		if res, mk, err = b.addDir(ctx, p, nd, opts, events); err != nil {
			return res, nil, err
		}
	default:
		return res, nil, fmt.Errorf("%s: unsupported node %T", p, nd)
	}
	if !opts.OnlyHash {
		b.put(res.Cid, mk)
	}
	if events.Added != nil {
		if err := events.Added(p, res, dir); err != nil {
			return res, nil, err
		}
	}
	return res, mk, nil
}

func (b *Backend) addDir(ctx context.Context, p string, d files.Directory, opts shell.AddOptions, events shell.AddEvents) (shell.AddResult, func() files.Node, error) {
	h := sha256.New()
	var entries []shell.DirEntry
	var names []string
	makers := map[string]func() files.Node{}
	it := d.Entries()
	for it.Next() {
		child := it.Node()
		res, mk, err := b.addNode(ctx, path.Join(p, it.Name()), child, opts, shell.AddEvents{Added: events.Added, Progress: events.Progress})
		child.Close()
		if err != nil {
			return shell.AddResult{}, nil, err
		}
		fmt.Fprintf(h, "%s\x00%s\x00", it.Name(), res.Cid)
		e := shell.DirEntry{Name: it.Name(), Cid: res.Cid, Type: entryType(child)}
		if e.Type == shell.TypeFile {
			e.Size = res.Size // ls gives only a file's size
		}
		entries = append(entries, e)
		names = append(names, it.Name())
		makers[it.Name()] = mk
	}
	if err := it.Err(); err != nil {
		return shell.AddResult{}, nil, err
	}
	sum, _ := mh.Encode(h.Sum(nil), mh.SHA2_256)
	c := cid.NewCidV1(cid.DagProtobuf, sum)
	if !opts.OnlyHash {
		b.mu.Lock()
		b.dirs[c] = entries
		b.mu.Unlock()
	}
	mk := func() files.Node {
		list := make([]files.DirEntry, len(names))
		for i, n := range names {
			list[i] = files.FileEntry(n, makers[n]())
		}
		return files.NewSliceDirectory(list)
	}
	return shell.AddResult{Cid: c, Size: uint64(len(entries))}, mk, nil
}

func entryType(nd files.Node) shell.EntryType {
	switch nd.(type) {
	case *files.Symlink:
		return shell.TypeSymlink
	case files.File:
		return shell.TypeFile
	case files.Directory:
		return shell.TypeDirectory
	}
	return shell.TypeRaw
}

// progressStep is how often the fake reports progress: every 64 KiB.
const progressStep = 64 << 10

// readAll reads f in 4 KiB steps, reporting each to AddProgress, and to
// progress every progressStep bytes and at the end.
func (b *Backend) readAll(ctx context.Context, p string, f io.Reader, progress func(string, int64)) ([]byte, error) {
	var buf bytes.Buffer
	chunk := make([]byte, 4096)
	for {
		n, err := f.Read(chunk)
		before := buf.Len()
		buf.Write(chunk[:n])
		if progress != nil && before/progressStep != buf.Len()/progressStep {
			progress(p, int64(buf.Len()))
		}
		if n > 0 && b.AddProgress != nil {
			select {
			case b.AddProgress <- int64(buf.Len()):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if errors.Is(err, io.EOF) {
			if progress != nil && (buf.Len()%progressStep != 0 || buf.Len() == 0) {
				progress(p, int64(buf.Len()))
			}
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
	}
}

func fakeCid(s string) cid.Cid {
	sum, _ := mh.Sum([]byte(s), mh.SHA2_256, -1)
	return cid.NewCidV1(cid.DagProtobuf, sum)
}

// List implements shell.Backend for directories added with AddNode.
func (b *Backend) List(ctx context.Context, c cid.Cid) ([]shell.DirEntry, bool, error) {
	b.mu.Lock()
	entries, isDir := b.dirs[c]
	_, known := b.nodes[c]
	b.mu.Unlock()
	if isDir || known {
		return entries, isDir, nil
	}
	<-ctx.Done()
	return nil, false, fmt.Errorf("fetching %s: %w", c, ctx.Err())
}
