//go:build race

package main

// smokePeers is smaller under the race detector, which slows every
// goroutine of a hundred peers several times over.
const smokePeers = 30
