package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"time"
)

// dataFile is a file of random bytes and its SHA-256.
type dataFile struct {
	path string
	size int64
	sum  string
}

// writeRandom writes size random bytes to path. ChaCha8 seeded from the
// OS is as unpredictable as needed here (nothing compresses or dedups it)
// and several times faster than reading the OS source for a gigabyte.
func writeRandom(path string, size int64) (dataFile, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return dataFile{}, err
	}
	f, err := os.Create(path)
	if err != nil {
		return dataFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, mrand.NewChaCha8(seed), size); err != nil {
		return dataFile{}, fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return dataFile{}, fmt.Errorf("write %s: %w", path, err)
	}
	// Written back now, not by the kernel in the middle of the first
	// run's add, which writes to the same disk (an add stores with
	// direct I/O, so it waits on the device).
	if err := f.Sync(); err != nil {
		return dataFile{}, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return dataFile{}, fmt.Errorf("write %s: %w", path, err)
	}
	return dataFile{path: path, size: size, sum: hex.EncodeToString(h.Sum(nil))}, nil
}

// hashFile times one SHA-256 pass over the file on a single core: the
// ceiling an add that hashes every byte once could reach.
func hashFile(d dataFile) (time.Duration, error) {
	f, err := os.Open(d.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	t, err := timedRead(f, start)
	if err != nil {
		return 0, fmt.Errorf("hash %s: %w", d.path, err)
	}
	if err := t.check("sha-256 pass", d.size, d.sum); err != nil {
		return 0, err
	}
	return t.total, nil
}
