// Package lattice builds hostile DAGs for tests: a lattice, in which each
// node links twice to the one below, so that a DAG of depth+1 distinct
// blocks (a few KB) has 2^depth paths to its bottom. A walk that visits a
// block once per path never ends; one that visits each block once is
// done at once. It is test support, not part of Cairn's API.
package lattice

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-bitfield"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Dir adds a lattice of UnixFS directories to dag: depth directories, each
// with entries "a" and "b" naming the directory below, over a one-byte
// file. It returns the top directory; the DAG has depth+1 blocks.
func Dir(ctx context.Context, dag ipld.DAGService, depth int) (cid.Cid, error) {
	return build(ctx, dag, depth, func(below *ipld.Link, _ int) (*merkledag.ProtoNode, error) {
		nd := merkledag.NodeWithData(unixfs.FolderPBData())
		for _, name := range []string{"a", "b"} {
			if err := nd.AddRawLink(name, below); err != nil {
				return nil, err
			}
		}
		return nd, nil
	})
}

// File adds a lattice UnixFS file to dag: depth file nodes, each with two
// links to the node below, over a one-byte raw leaf, so that the file
// holds 2^depth bytes in depth+1 blocks. Its sizes are consistent, as in
// a file an importer made.
func File(ctx context.Context, dag ipld.DAGService, depth int) (cid.Cid, error) {
	return build(ctx, dag, depth, func(below *ipld.Link, level int) (*merkledag.ProtoNode, error) {
		fs := unixfs.NewFSNode(unixfs.TFile)
		size := uint64(1) << (level - 1)
		fs.AddBlockSize(size)
		fs.AddBlockSize(size)
		data, err := fs.GetBytes()
		if err != nil {
			return nil, err
		}
		nd := merkledag.NodeWithData(data)
		for range 2 {
			if err := nd.AddRawLink("", below); err != nil {
				return nil, err
			}
		}
		return nd, nil
	})
}

// HAMT adds a lattice HAMT-sharded directory to dag: depth shards, each
// with two shard links ("00", "01") to the shard below, over a shard
// holding one entry "x", a one-byte file. No HAMT an importer makes has
// the same shard twice (its entries' hashes could not lead to both
// places), so this is a hostile directory of 2^depth entries named "x".
func HAMT(ctx context.Context, dag ipld.DAGService, depth int) (cid.Cid, error) {
	return build(ctx, dag, depth, func(below *ipld.Link, level int) (*merkledag.ProtoNode, error) {
		names := []string{"00", "01"}
		if level == 1 {
			names = []string{"00x"} // the entry itself, at bucket 0
		}
		bf, err := bitfield.NewBitfield(hamtFanout)
		if err != nil {
			return nil, err
		}
		for i := range names {
			bf.SetBit(i)
		}
		data, err := unixfs.HAMTShardData(bf.Bytes(), hamtFanout, hamtMurmur3)
		if err != nil {
			return nil, err
		}
		nd := merkledag.NodeWithData(data)
		for _, name := range names {
			if err := nd.AddRawLink(name, below); err != nil {
				return nil, err
			}
		}
		return nd, nil
	})
}

// The HAMT parameters Kubo uses: 256 buckets, murmur3-x64-64 names.
const (
	hamtFanout  = 256
	hamtMurmur3 = 0x22
)

// build adds a one-byte raw leaf, then depth nodes made by level, each
// over the one below.
func build(ctx context.Context, dag ipld.DAGService, depth int, level func(below *ipld.Link, level int) (*merkledag.ProtoNode, error)) (cid.Cid, error) {
	if depth < 1 || depth > 50 {
		return cid.Undef, fmt.Errorf("lattice: depth %d out of 1..50", depth)
	}
	var below ipld.Node = merkledag.NewRawNode([]byte{'x'})
	if err := dag.Add(ctx, below); err != nil {
		return cid.Undef, err
	}
	for i := 1; i <= depth; i++ {
		l, err := ipld.MakeLink(below)
		if err != nil {
			return cid.Undef, err
		}
		nd, err := level(l, i)
		if err != nil {
			return cid.Undef, err
		}
		if err := nd.SetCidBuilder(merkledag.V1CidPrefix()); err != nil {
			return cid.Undef, err
		}
		if err := dag.Add(ctx, nd); err != nil {
			return cid.Undef, err
		}
		below = nd
	}
	return below.Cid(), nil
}
