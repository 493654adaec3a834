// Command cairn runs a Cairn peer and talks to a running one; the command
// line lives in package cli.
package main

import (
	_ "embed"
	"os"

	"github.com/cairnnet/cairn/cli"
)

// defaultConfig is the documented config.yaml, copied into each new repo.
// It is embedded here because go:embed cannot reach a parent directory.
//
//go:embed config.yaml
var defaultConfig []byte

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr, defaultConfig))
}
