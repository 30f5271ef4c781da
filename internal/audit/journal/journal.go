// Package journal is an append-only log of records in plain files, made
// durable with one fdatasync per append. The audit ledger writes the
// events of requests that change no data here first, because a journal
// append costs a fraction of a database commit, and then moves them into
// the database in large batches (see internal/audit/ledger).
//
// A record's position is the byte offset of its frame in the journal,
// counted from the journal's start across all segment files, so
// positions only grow and never repeat. Each segment file is named by the
// position of its first byte and holds frames
//
//	frame = length crc data
//	length = len(data), 4 bytes big-endian, 1..MaxRecord
//	crc    = CRC-32C of length and data, 4 bytes big-endian
//
// Segment files are extended with zeros ahead of the frames, a chunk at a
// time, so most appends rewrite blocks the file already has and their
// fdatasync need not commit file-system metadata; a zero length marks the
// end of the written frames. After a
// crash the last segment may end in a torn frame (an append that never
// returned): Open cuts it off. A bad frame anywhere else is corruption,
// and Open refuses the journal.
//
// One process at a time may use a journal directory; Open takes an
// exclusive lock on it and fails with ErrBusy if another holds it.
package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

const (
	// MaxRecord bounds a record's length.
	MaxRecord = 1 << 20
	// FrameOverhead is the bytes a record's frame adds to it: a record
	// of n bytes advances the position by FrameOverhead+n.
	FrameOverhead = frameHeader
	// frameHeader is the length and the CRC.
	frameHeader = 8
	// DefaultSegmentSize is the size after which a new segment starts.
	DefaultSegmentSize = 64 << 20
	// allocChunk is how far ahead of the frames a segment is zero-filled.
	allocChunk    = 1 << 20
	segmentSuffix = ".journal"
	lockName      = "lock"
)

var (
	// ErrBusy means another process holds the journal directory.
	ErrBusy = errors.New("journal: directory in use by another process")
	// ErrCorrupt means a frame before the end of the journal is damaged,
	// or records the caller has not moved are missing.
	ErrCorrupt = errors.New("journal: corrupt")

	errClosed = errors.New("journal: closed")

	crcTable = crc32.MakeTable(crc32.Castagnoli)
)

// Options tunes a Journal; the zero value is the production setting.
type Options struct {
	// SegmentSize is the size after which a new segment starts. Default
	// DefaultSegmentSize.
	SegmentSize int64
}

// Journal is an open journal directory. Append must not be called
// concurrently with itself; Release may be called from another goroutine.
type Journal struct {
	dir     string
	lock    *os.File
	segSize int64

	mu    sync.Mutex
	segs  []segment // in position order; the last is being appended to
	f     *os.File  // the last segment, nil before the first append
	alloc int64     // size of f: zeros from end-start up to here
	end   uint64    // position after the last frame
	buf   []byte
}

// segment is one file: its first position and the position after its
// last frame.
type segment struct {
	start, end uint64
}

func (s segment) name() string { return fmt.Sprintf("%020d%s", s.start, segmentSuffix) }

// Open opens (creating it if needed) the journal in dir, whose records
// before position from have been consumed and may be discarded. It
// checks every frame of every segment, cuts off a torn append at the end
// of the last segment, and fails with ErrCorrupt if a frame is damaged
// elsewhere, or if records at from are missing (the first segment starts
// after from); then it deletes the segments that hold nothing at or
// after from.
// Records from from on are read with Replay; Append continues after the
// last.
func Open(dir string, from uint64, opts Options) (*Journal, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.SegmentSize < frameHeader+1 {
		return nil, errors.New("journal: segment size too small")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, err
	}
	j := &Journal{dir: dir, lock: lock, segSize: opts.SegmentSize, end: from}
	if err := j.load(from); err != nil {
		lock.Close()
		return nil, err
	}
	return j, nil
}

// load lists, checks and trims the segments.
func (j *Journal) load(from uint64) error {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	var starts []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		start, err := strconv.ParseUint(name, 10, 64)
		if err != nil || len(name) != 20 {
			return fmt.Errorf("%w: unexpected file %s", ErrCorrupt, e.Name())
		}
		starts = append(starts, start)
	}
	slices.Sort(starts)
	for i, start := range starts {
		last := i == len(starts)-1
		end, err := j.scan(start, last)
		if err != nil {
			return err
		}
		if i > 0 && start != j.segs[len(j.segs)-1].end {
			return fmt.Errorf("%w: segments %d and %d are not contiguous", ErrCorrupt, j.segs[len(j.segs)-1].start, start)
		}
		j.segs = append(j.segs, segment{start, end})
	}
	// Drop what was consumed; keep the last segment, appended to next.
	for len(j.segs) > 1 && j.segs[0].end <= from {
		if err := os.Remove(filepath.Join(j.dir, j.segs[0].name())); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		j.segs = j.segs[1:]
	}
	if len(j.segs) == 0 {
		return nil // the first Append creates a segment at from
	}
	first, last := j.segs[0], j.segs[len(j.segs)-1]
	switch {
	case first.start > from:
		return fmt.Errorf("%w: records %d to %d are missing", ErrCorrupt, from, first.start)
	case last.end < from:
		// Everything here was consumed; start afresh at from.
		if err := os.Remove(filepath.Join(j.dir, last.name())); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		j.segs = nil
		return nil
	}
	j.end = last.end
	f, err := os.OpenFile(filepath.Join(j.dir, last.name()), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	j.f, j.alloc = f, fi.Size()
	return nil
}

// scan reads the frames of the segment starting at start and returns the
// position after the last good one. In the last segment a bad frame is a
// torn append: it and everything after it are zeroed, so the file again
// ends in zeros. Elsewhere it is corruption.
func (j *Journal) scan(start uint64, last bool) (uint64, error) {
	path := filepath.Join(j.dir, segment{start: start}.name())
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	off := 0
	for {
		n, err := frameAt(b, off)
		if err == nil && n == 0 {
			if allZero(b[off:]) {
				break // the zeros after the last frame
			}
			// A torn append whose first block never reached the disk
			// while a later one did.
			err = errors.New("data after the end of the frames")
		}
		if err != nil {
			if !last {
				return 0, fmt.Errorf("%w: segment %d at offset %d: %v", ErrCorrupt, start, off, err)
			}
			if err := zeroFrom(path, int64(off), int64(len(b))); err != nil {
				return 0, err
			}
			break
		}
		off += n
	}
	return start + uint64(off), nil
}

// frameAt checks the frame at off in b and returns its length including
// the header, or 0 at the end of the frames (end of b, or a zero length).
func frameAt(b []byte, off int) (int, error) {
	if off == len(b) {
		return 0, nil
	}
	if len(b)-off < frameHeader {
		if allZero(b[off:]) {
			return 0, nil
		}
		return 0, errors.New("truncated frame header")
	}
	n := binary.BigEndian.Uint32(b[off:])
	if n == 0 {
		if !allZero(b[off:min(len(b), off+frameHeader)]) {
			return 0, errors.New("bad frame header")
		}
		return 0, nil
	}
	if n > MaxRecord || uint64(n) > uint64(len(b)-off-frameHeader) {
		return 0, errors.New("frame length out of range")
	}
	sum := binary.BigEndian.Uint32(b[off+4:])
	crc := crc32.Update(crc32.Checksum(b[off:off+4], crcTable), crcTable, b[off+frameHeader:off+frameHeader+int(n)])
	if crc != sum {
		return 0, errors.New("checksum mismatch")
	}
	return frameHeader + int(n), nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// zeroFrom overwrites [off, size) of the file with zeros and syncs it.
func zeroFrom(path string, off, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, size-off), off); err != nil {
		return fmt.Errorf("journal: cut torn frame: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal: cut torn frame: %w", err)
	}
	return nil
}

// End is the position after the last record.
func (j *Journal) End() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.end
}

// Replay calls fn for every record at or after position from, in order,
// with the position after it. from must be a record boundary: the from
// given to Open or a next passed to fn. The data is valid only during the
// call. An error from fn stops Replay and is returned.
func (j *Journal) Replay(from uint64, fn func(next uint64, data []byte) error) error {
	j.mu.Lock()
	segs := slices.Clone(j.segs)
	j.mu.Unlock()
	for _, s := range segs {
		if s.end <= from {
			continue
		}
		if s.start > from {
			return fmt.Errorf("%w: records %d to %d are missing", ErrCorrupt, from, s.start)
		}
		b, err := os.ReadFile(filepath.Join(j.dir, s.name()))
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		b = b[:s.end-s.start]
		for off := int(from - s.start); off < len(b); {
			n, err := frameAt(b, off)
			if err != nil || n == 0 {
				return fmt.Errorf("%w: segment %d at offset %d changed since Open", ErrCorrupt, s.start, off)
			}
			from = s.start + uint64(off+n)
			if err := fn(from, b[off+frameHeader:off+n]); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
}

// Append writes the records as consecutive frames with one write and one
// fdatasync, and returns the position of the first. When it returns nil
// the records are durable. After an error the journal must be closed:
// what was written is unknown until the next Open checks it.
func (j *Journal) Append(recs [][]byte) (uint64, error) {
	size := 0
	for _, r := range recs {
		if len(r) == 0 || len(r) > MaxRecord {
			return 0, fmt.Errorf("journal: record length %d out of range", len(r))
		}
		size += frameHeader + len(r)
	}
	if size == 0 {
		return 0, errors.New("journal: nothing to append")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lock == nil {
		return 0, errClosed
	}
	if j.f == nil || j.full(size) {
		if err := j.newSegment(); err != nil {
			return 0, err
		}
	}
	cur := &j.segs[len(j.segs)-1]
	off := int64(j.end - cur.start)
	if off+int64(size) > j.alloc {
		// Zero-fill the next chunk; the fdatasync below covers it.
		n := max(allocChunk, off+int64(size)-j.alloc)
		if _, err := j.f.WriteAt(make([]byte, n), j.alloc); err != nil {
			return 0, fmt.Errorf("journal: append: %w", err)
		}
		j.alloc += n
	}
	b := j.buf[:0]
	for _, r := range recs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(r)))
		b = binary.BigEndian.AppendUint32(b, 0)
		crc := crc32.Update(crc32.Checksum(b[len(b)-frameHeader:len(b)-4], crcTable), crcTable, r)
		binary.BigEndian.PutUint32(b[len(b)-4:], crc)
		b = append(b, r...)
	}
	j.buf = b[:0]
	if _, err := j.f.WriteAt(b, off); err != nil {
		return 0, fmt.Errorf("journal: append: %w", err)
	}
	if err := datasync(j.f); err != nil {
		return 0, fmt.Errorf("journal: append: %w", err)
	}
	start := j.end
	j.end += uint64(size)
	cur.end = j.end
	return start, nil
}

// full reports whether the current segment, not empty, has no room for
// size more bytes.
func (j *Journal) full(size int) bool {
	used := j.end - j.segs[len(j.segs)-1].start
	return used > 0 && int64(used)+int64(size) > j.segSize
}

// newSegment starts an empty segment at the end and makes its name
// durable.
func (j *Journal) newSegment() error {
	s := segment{start: j.end, end: j.end}
	f, err := os.OpenFile(filepath.Join(j.dir, s.name()), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("journal: new segment: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.alloc = f, 0
	j.segs = append(j.segs, s)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: sync directory: %w", err)
	}
	return nil
}

// Release discards the segments that hold only records before position
// pos, which the caller has consumed. The segment being appended to is
// kept.
func (j *Journal) Release(pos uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for len(j.segs) > 1 && j.segs[0].end <= pos {
		if err := os.Remove(filepath.Join(j.dir, j.segs[0].name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("journal: release: %w", err)
		}
		j.segs = j.segs[1:]
	}
	return nil
}

// Close closes the files and releases the directory lock.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	if j.f != nil {
		errs = append(errs, j.f.Close())
		j.f = nil
	}
	if j.lock != nil {
		errs = append(errs, j.lock.Close()) // closing drops the lock
		j.lock = nil
	}
	return errors.Join(errs...)
}
