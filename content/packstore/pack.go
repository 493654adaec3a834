package packstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

// align is the unit of direct I/O: buffer addresses, file offsets and
// lengths are multiples of it. 4 KiB covers every device's logical block.
const align = 4096

// packSuffix names pack files: 00000001.pack, 00000002.pack, …
const packSuffix = ".pack"

// loc is where a value lives: bytes [off, off+n) of pack.
type loc struct {
	pack uint32
	off  int64
	n    uint32
}

// locSize is the length of an encoded loc in the index.
const locSize = 16

func (l loc) encode() []byte {
	b := make([]byte, locSize)
	binary.BigEndian.PutUint32(b[0:], l.pack)
	binary.BigEndian.PutUint64(b[4:], uint64(l.off))
	binary.BigEndian.PutUint32(b[12:], l.n)
	return b
}

func decodeLoc(b []byte) (loc, error) {
	if len(b) != locSize {
		return loc{}, fmt.Errorf("index entry of %d bytes, want %d", len(b), locSize)
	}
	l := loc{
		pack: binary.BigEndian.Uint32(b[0:]),
		off:  int64(binary.BigEndian.Uint64(b[4:])),
		n:    binary.BigEndian.Uint32(b[12:]),
	}
	if l.off < 0 || l.off > 1<<62 { // damaged: no pack reaches there
		return loc{}, fmt.Errorf("index entry names offset %d, outside any pack", l.off)
	}
	return l, nil
}

func (l loc) end() int64 { return l.off + int64(l.n) }

func packName(id uint32) string { return fmt.Sprintf("%08d%s", id, packSuffix) }

// packIDs lists the packs in dir with their sizes on disk.
func packIDs(dir string) (map[uint32]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ids := make(map[uint32]int64)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), packSuffix)
		if !ok || e.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by a compaction since the listing
		}
		if err != nil {
			return nil, err
		}
		ids[uint32(id)] = info.Size()
	}
	return ids, nil
}

// alignedBuf returns n bytes (n a multiple of align) whose address is a
// multiple of align, as direct I/O requires.
func alignedBuf(n int) []byte {
	b := make([]byte, n+align)
	skip := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) & (align - 1)); r != 0 {
		skip = align - r
	}
	return b[skip : skip+n : skip+n]
}

func roundUp(n int64) int64 { return (n + align - 1) &^ (align - 1) }

// readAt reads the n bytes at off in f. With direct I/O it reads the
// aligned span around them and returns a slice of it, so the bytes are
// copied once, by the device.
func readAt(f *os.File, direct bool, off int64, n int) ([]byte, error) {
	if !direct {
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
			return nil, err
		}
		return b, nil
	}
	start := off &^ (align - 1)
	buf := alignedBuf(int(roundUp(off+int64(n)) - start))
	got, err := f.ReadAt(buf, start)
	if skip := int(off - start); got < skip+n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	skip := off - start
	return buf[skip : skip+int64(n)], nil
}

// openPack opens pack id in dir for reading or, with write, for appending
// to a new file.
func openPack(dir string, id uint32, direct, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	if direct {
		flag |= directFlag
	}
	return os.OpenFile(filepath.Join(dir, packName(id)), flag, 0o600)
}

// directWorks reports whether dir's filesystem takes direct I/O (tmpfs,
// for one, refuses it), by writing and reading back one aligned page.
func directWorks(dir string) bool {
	if directFlag == 0 {
		return false
	}
	name := filepath.Join(dir, "probe.tmp")
	defer os.Remove(name)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC|directFlag, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := alignedBuf(align)
	if _, err := f.WriteAt(buf, 0); err != nil {
		return false
	}
	_, err = f.ReadAt(buf, 0)
	return err == nil
}
