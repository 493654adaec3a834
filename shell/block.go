package shell

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	"github.com/multiformats/go-multicodec"
	"github.com/multiformats/go-multihash"
)

// maxBigBlockBytes bounds a block put with allow-big-block=true: 64 MiB.
// The shell holds a block in memory to hash it, so even big blocks need a
// ceiling well below the body limit.
const maxBigBlockBytes = 64 << 20

// blockStat is block/put's and block/stat's output, in Kubo's shape.
type blockStat struct {
	Key  string
	Size int
}

// blockGet sends one block's raw bytes.
func (s *shell) blockGet(w http.ResponseWriter, r *http.Request) error {
	c, err := oneCIDArg(r.URL.Query())
	if err != nil {
		return err
	}
	b, err := s.backend.GetBlock(r.Context(), c)
	if err != nil {
		return fetchError(r.Context(), c, err)
	}
	startStream(w, int64(len(b.RawData())))
	_, err = w.Write(b.RawData())
	return err
}

// blockStat reports a block's CID and size, fetching it if need be.
func (s *shell) blockStat(w http.ResponseWriter, r *http.Request) error {
	c, err := oneCIDArg(r.URL.Query())
	if err != nil {
		return err
	}
	b, err := s.backend.GetBlock(r.Context(), c)
	if err != nil {
		return fetchError(r.Context(), c, err)
	}
	return writeJSON(w, blockStat{Key: c.String(), Size: len(b.RawData())})
}

// blockPut stores each uploaded part as one block, reporting each as it is
// stored, as Kubo does.
func (s *shell) blockPut(w http.ResponseWriter, r *http.Request) error {
	opts, limit, err := blockPutOptions(r.URL.Query())
	if err != nil {
		return err
	}
	dir, err := s.multipartFiles(w, r)
	if err != nil {
		return err
	}
	finish := fullDuplex(w, r)
	defer finish()
	out := &jsonStream{w: w}
	stored := 0
	it := dir.Entries()
	for it.Next() {
		st, err := s.putOne(r.Context(), it.Name(), it.Node(), opts, limit)
		if err != nil {
			return err
		}
		if err := out.emit(st); err != nil {
			return err
		}
		stored++
	}
	return endOfParts(it, stored)
}

func (s *shell) putOne(ctx context.Context, name string, nd files.Node, opts BlockPutOptions, limit int) (blockStat, error) {
	f, err := regularFile(name, nd)
	if err != nil {
		return blockStat{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return blockStat{}, errorf(kindBadRequest, "reading block %q: %w", name, err)
	}
	if len(data) > limit {
		return blockStat{}, errorf(kindBadRequest,
			"block %q is over %d bytes: peers will not exchange it; add the data as a file instead, or pass allow-big-block=true", name, limit)
	}
	c, err := s.backend.PutBlock(ctx, data, opts)
	if err != nil {
		return blockStat{}, fmt.Errorf("storing block %q: %w", name, err)
	}
	return blockStat{Key: c.String(), Size: len(data)}, nil
}

// blockPutOptions reads Kubo's block/put options and the size limit they
// imply. Names are checked here so that a typo is a 400 naming it.
func blockPutOptions(q url.Values) (BlockPutOptions, int, error) {
	opts := BlockPutOptions{Codec: blockCodec(q), MhType: q.Get("mhtype")}
	if opts.MhType == "" {
		opts.MhType = "sha2-256"
	}
	var code multicodec.Code
	if err := code.Set(opts.Codec); err != nil {
		return opts, 0, errorf(kindBadRequest, "unknown cid-codec %q", opts.Codec)
	}
	if _, ok := multihash.Names[opts.MhType]; !ok {
		return opts, 0, errorf(kindBadRequest, "unknown mhtype %q", opts.MhType)
	}
	mhlen, _, err := intParam(q, "mhlen", -1)
	if err != nil {
		return opts, 0, err
	}
	opts.MhLen = int(mhlen)
	if opts.Pin, err = boolParam(q, "pin", false); err != nil {
		return opts, 0, err
	}
	big, err := boolParam(q, "allow-big-block", false)
	if big {
		return opts, maxBigBlockBytes, err
	}
	return opts, chunk.BlockSizeLimit, err
}

// blockCodec reads cid-codec, falling back on Kubo's deprecated "format"
// option, which go-ipfs-api still sends.
func blockCodec(q url.Values) string {
	if c := q.Get("cid-codec"); c != "" {
		return c
	}
	switch f := q.Get("format"); f {
	case "":
		return "raw"
	case "v0", "protobuf":
		return "dag-pb"
	case "cbor":
		return "dag-cbor"
	default:
		return f
	}
}
