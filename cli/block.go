package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newBlockCmd() *cobra.Command {
	return newGroupCmd("block", "Raw blocks: get, put, stat, rm",
		`Raw IPFS blocks, addressed by CID: read one, store bytes as one, show
its size, or remove it from the local store.`,
		newBlockGetCmd(), newBlockPutCmd(), newBlockStatCmd(), newBlockRmCmd())
}

func newBlockGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get CID",
		Short: "Write a block's raw bytes to stdout",
		Long:  `Write a block's raw bytes to stdout, fetching it from peers if it is not held; its bytes are checked against the CID.`,
		Args:  exactArgs(1, "one CID"),
	}
	o := clientFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		data, err := c.BlockGet(ctx, id)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	})
	return cmd
}

// maxBlockFile bounds what block put reads of a file: the largest block
// the shell accepts (64 MiB, with --allow-big-block), and one byte more
// so that the shell can say it is too big.
const maxBlockFile = 64<<20 + 1

func newBlockPutCmd() *cobra.Command {
	var opts client.BlockPutOptions
	cmd := &cobra.Command{
		Use:   "put [FILE...]",
		Short: "Store each file's bytes as one block",
		Long: `Store each file's bytes (standard input when none is named) as one
block and print its CID. The CID is CIDv1 of --cid-codec and --mhtype,
as in Kubo; a block over 1 MiB needs --allow-big-block.`,
		Example: `  echo -n hello | cairn block put
  cairn block put --cid-codec dag-cbor node.cbor`,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	f := cmd.Flags()
	f.StringVar(&opts.Codec, "cid-codec", "raw", "multicodec of the CID: raw, dag-pb, dag-cbor, dag-json...")
	f.StringVar(&opts.MhType, "mhtype", "sha2-256", "multihash function")
	f.IntVar(&opts.MhLen, "mhlen", -1, "digest length in bytes; -1 for the function's default")
	f.BoolVar(&opts.Pin, "pin", false, "pin the block directly")
	f.BoolVar(&opts.AllowBig, "allow-big-block", false, "accept a block over 1 MiB (up to 64 MiB); peers may refuse it")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		if len(args) == 0 {
			args = []string{"-"}
		}
		asJSON, _ := o.json()
		for _, path := range args {
			st, err := putBlockFile(ctx, c, path, opts)
			if err != nil {
				return err
			}
			line := st.Cid.String()
			if asJSON {
				line = fmt.Sprintf(`{"Key":%q,"Size":%d}`, st.Cid, st.Size)
			}
			if _, err := fmt.Fprintln(out, line); err != nil {
				return err
			}
		}
		return nil
	})
	return cmd
}

func putBlockFile(ctx context.Context, c *client.Client, path string, opts client.BlockPutOptions) (client.BlockStat, error) {
	in := io.ReadCloser(os.Stdin)
	if path != "-" {
		var err error
		if in, err = os.Open(path); err != nil {
			return client.BlockStat{}, err
		}
	}
	defer in.Close()
	data, err := io.ReadAll(io.LimitReader(in, maxBlockFile))
	if err != nil {
		return client.BlockStat{}, fmt.Errorf("%s: %w", path, err)
	}
	return c.BlockPut(ctx, data, opts)
}

func newBlockStatCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stat CID",
		Short: "Show a block's CID and size",
		Args:  exactArgs(1, "one CID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "block/stat", argValues(id.String()), out)
		}
		st, err := c.BlockStat(ctx, id)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "Key: %s\nSize: %d\n", st.Cid, st.Size)
		return err
	})
	return cmd
}

func newBlockRmCmd() *cobra.Command {
	var force, quiet bool
	cmd := &cobra.Command{
		Use:   "rm CID...",
		Short: "Remove blocks from the local store",
		Long: `Remove blocks from the local store: "removed <cid>" per block. A
pinned block is refused (unpin it first), and so is one the store does
not hold, unless --force.`,
		Args: minArgs(1, "at least one CID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "ignore blocks the store does not hold")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on success")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			q := argValues(args...)
			q.Set("force", fmt.Sprint(force))
			return printJSON(ctx, c, "block/rm", q, out)
		}
		failed := 0
		err = c.BlockRm(ctx, ids, force, func(r client.BlockRmResult) error {
			if r.Error != "" {
				failed++
				_, err := fmt.Fprintf(out, "cannot remove %s: %s\n", r.Cid, r.Error)
				return err
			}
			if quiet {
				return nil
			}
			_, err := fmt.Fprintf(out, "removed %s\n", r.Cid)
			return err
		})
		if err == nil && failed > 0 {
			err = fmt.Errorf("block rm: %d of %d blocks not removed", failed, len(ids))
		}
		return err
	})
	return cmd
}
