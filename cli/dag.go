package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newDagCmd() *cobra.Command {
	return newGroupCmd("dag", "IPLD DAGs: CAR export and import, get, stat",
		`IPLD DAGs of any codec (dag-pb, raw, dag-cbor, dag-json): export one
as a CAR file, import CAR files, print one node, or count a DAG's blocks
and bytes.`,
		newDagExportCmd(), newDagImportCmd(), newDagGetCmd(), newDagStatCmd())
}

func newDagExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export CID",
		Short: "Write a DAG as a CARv1 to stdout",
		Long:  `Write the DAG under CID, every block, as a CARv1 stream to stdout, fetching what the node lacks.` + fetchTimeoutHelp,
		Args:  exactArgs(1, "one CID"),
	}
	o := clientFlags(cmd, 0)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		rc, err := o.fetch(cmd.Context(), id, func(ctx context.Context, c *client.Client) (io.ReadCloser, error) {
			return c.DAGExport(ctx, id)
		})
		if err != nil {
			return explain(err)
		}
		defer rc.Close()
		_, err = io.Copy(cmd.OutOrStdout(), rc)
		return err
	}
	return cmd
}

func newDagImportCmd() *cobra.Command {
	pinRoots := true
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import CAR files; pin their roots",
		Long: `Import each CAR file (- for stdin): every block is verified against
its CID, and a CAR with one bad block stores nothing. The roots are
pinned unless --pin-roots=false; one "Pinned root" line per root.`,
		Args: minArgs(1, "at least one CAR file (- for stdin)"),
	}
	o := clientFlags(cmd, 0)
	cmd.Flags().BoolVar(&pinRoots, "pin-roots", true, "pin the CAR's roots")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		for _, path := range args {
			if err := importCAR(ctx, c, path, pinRoots, out); err != nil {
				return err
			}
		}
		return nil
	})
	return cmd
}

func importCAR(ctx context.Context, c *client.Client, path string, pinRoots bool, stdout io.Writer) error {
	in := io.ReadCloser(os.Stdin)
	if path != "-" {
		var err error
		if in, err = os.Open(path); err != nil {
			return err
		}
	}
	defer in.Close()
	roots, err := c.DAGImport(ctx, in, pinRoots)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range roots {
		status := "success"
		if r.PinErrorMsg != "" {
			status = "FAILED: " + r.PinErrorMsg
		} else if !pinRoots {
			status = "imported, not pinned"
		}
		if _, err := fmt.Fprintf(stdout, "Pinned root\t%s\t%s\n", r.Cid, status); err != nil {
			return err
		}
	}
	return nil
}

func newDagGetCmd() *cobra.Command {
	var codec string
	cmd := &cobra.Command{
		Use:   "get CID",
		Short: "Print one IPLD node, as dag-json by default",
		Long: `Print the IPLD node CID names, decoded with its codec and encoded
with --output-codec (dag-json by default; dag-cbor, json, cbor, raw).`,
		Args: exactArgs(1, "one CID"),
	}
	o := clientFlags(cmd, defaultClientTimeout)
	cmd.Flags().StringVar(&codec, "output-codec", "dag-json", "codec the node is printed in")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		return printJSON(ctx, c, "dag/get", url.Values{"arg": {id.String()}, "output-codec": {codec}}, out)
	})
	return cmd
}

func newDagStatCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stat CID...",
		Short: "Count a DAG's blocks and bytes",
		Long: `Walk each DAG, fetching what the node lacks, and print its blocks and
bytes, each block counted once, then a summary over all of them, as
Kubo's dag stat prints it.`,
		Args: minArgs(1, "at least one CID"),
	}
	o := printingFlags(cmd, 0)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			q := argValues(args...)
			q.Set("progress", "false")
			return printJSON(ctx, c, "dag/stat", q, out)
		}
		st, err := c.DAGStat(ctx, ids...)
		if err != nil {
			return err
		}
		return printDagStat(out, st)
	})
	return cmd
}

// printDagStat prints Kubo's text: a table of the DAGs, then the summary.
func printDagStat(out io.Writer, st client.DAGStat) error {
	w := &errWriter{w: out}
	width := 3
	for _, d := range st.DAGs {
		width = max(width, len(d.Cid.String()))
	}
	w.printf("\n%-*s\t%-15s\tSize\n", width, "CID", "Blocks")
	for _, d := range st.DAGs {
		w.printf("%-*s\t%-15s\t%d\n", width, d.Cid, strconv.FormatInt(d.NumBlocks, 10), d.Size)
	}
	w.printf("\nSummary\nTotal Size: %d\nUnique Blocks: %d\nShared Size: %d\nRatio: %f\n\n\n",
		st.TotalSize, st.UniqueBlocks, st.SharedSize, st.Ratio)
	return w.err
}
