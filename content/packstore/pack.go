package packstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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

// loc is where a value lives, bytes [off, off+n) of pack, and the
// CRC-32C of those bytes, taken when the value was verified (by its
// writer, or by hash on the first read of an entry from before checksums).
type loc struct {
	pack uint32
	off  int64
	n    uint32
	sum  uint32
	// summed says sum is set; entries written before checksums have none.
	summed bool
	// damaged marks a value found damaged: its bytes are gone for good
	// and the entry stays only so that it is listed, and reported, until
	// the value is put again or deleted. pack is then 0, no pack.
	damaged bool
}

// Index entries: pack, offset and length (16 bytes, as written before
// checksums), then the checksum and a state byte.
const (
	legacyLocSize = 16
	locSize       = 21
	stateOK       = 0
	stateDamaged  = 1
)

func (l loc) encode() []byte {
	b := make([]byte, locSize)
	binary.BigEndian.PutUint32(b[0:], l.pack)
	binary.BigEndian.PutUint64(b[4:], uint64(l.off))
	binary.BigEndian.PutUint32(b[12:], l.n)
	binary.BigEndian.PutUint32(b[16:], l.sum)
	if l.damaged {
		b[20] = stateDamaged
	}
	return b
}

func decodeLoc(b []byte) (loc, error) {
	if len(b) != locSize && len(b) != legacyLocSize {
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
	if len(b) == locSize {
		l.sum, l.summed = binary.BigEndian.Uint32(b[16:]), true
		switch b[20] {
		case stateOK:
		case stateDamaged:
			l.damaged = true
		default:
			return loc{}, fmt.Errorf("index entry in unknown state %d", b[20])
		}
	}
	return l, nil
}

func (l loc) end() int64 { return l.off + int64(l.n) }

// tombstone is the entry left for a value found damaged.
func (l loc) tombstone() loc { return loc{n: l.n, summed: true, damaged: true} }

// castagnoli is CRC-32C, which amd64 and arm64 compute in hardware: about
// 0.1 CPU-s per GiB on the development machine, where re-hashing every
// block read with SHA-256 took 0.7 (go test ./content -bench ServeBlocks:
// 1.4-1.6 CPU-s per GiB served before, 0.8-0.9 after).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func packName(id uint32) string { return fmt.Sprintf("%08d%s", id, packSuffix) }

// packIDs lists the packs in dir with their sizes on disk.
func packIDs(fsys FS, dir string) (map[uint32]int64, error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, err
	}
	ids := make(map[uint32]int64)
	for name, size := range names {
		name, ok := strings.CutSuffix(name, packSuffix)
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			continue
		}
		ids[uint32(id)] = size
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
// copied once, by the device. A pack too short for them (truncated)
// gives io.ErrUnexpectedEOF.
func readAt(f File, direct bool, off int64, n int) ([]byte, error) {
	if !direct {
		b := make([]byte, n)
		got, err := f.ReadAt(b, off)
		if got == n {
			return b, nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
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

// packPath is pack id's file in dir.
func packPath(dir string, id uint32) string { return filepath.Join(dir, packName(id)) }
