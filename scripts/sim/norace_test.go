//go:build !race

package main

// smokePeers is the smoke size.
const smokePeers = 100
