package journal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wardhealth/ward/internal/audit/journal"
)

// Every journal lives in t.TempDir(). Segments of smallSeg bytes hold
// five frames of a recLen-byte record (5*48 = 240; a sixth would make
// 288), so twelve such records make the segments 0, 240 and 480, and the
// last holds two records, at 480 and 528.
const (
	smallSeg = 256
	recLen   = 40
	frameLen = journal.FrameOverhead + recLen
)

// rec is a record as the test expects to find it in the journal.
type rec struct {
	pos  uint64 // the position Append reported for it
	data []byte
}

func (r rec) next() uint64 { return r.pos + uint64(journal.FrameOverhead+len(r.data)) }

// payload returns n bytes that differ from record to record.
func payload(i, n int) []byte {
	b := make([]byte, n)
	for k := range b {
		b[k] = byte(i*131 + k*7 + 1)
	}
	return b
}

func open(t *testing.T, dir string, from uint64, segSize int64) *journal.Journal {
	t.Helper()
	j, err := journal.Open(dir, from, journal.Options{SegmentSize: segSize})
	if err != nil {
		t.Fatalf("Open(from %d): %v", from, err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func closeJournal(t *testing.T, j *journal.Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// appendBatch appends the records with one Append and checks that they
// start at End() and advance it by their frames.
func appendBatch(t *testing.T, j *journal.Journal, batch ...[]byte) []rec {
	t.Helper()
	before := j.End()
	pos, err := j.Append(batch)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if pos != before {
		t.Fatalf("Append returned %d, want the End() before it, %d", pos, before)
	}
	recs := make([]rec, len(batch))
	for i, d := range batch {
		recs[i] = rec{pos, d}
		pos = recs[i].next()
	}
	if got := j.End(); got != pos {
		t.Fatalf("End() after Append = %d, want %d", got, pos)
	}
	return recs
}

// appendEach appends n records of size bytes one Append at a time; the
// payloads are numbered from first.
func appendEach(t *testing.T, j *journal.Journal, first, n, size int) []rec {
	t.Helper()
	var recs []rec
	for i := first; i < first+n; i++ {
		recs = append(recs, appendBatch(t, j, payload(i, size))...)
	}
	return recs
}

type entry struct {
	next uint64
	data []byte
}

func replay(t *testing.T, j *journal.Journal, from uint64) []entry {
	t.Helper()
	var got []entry
	err := j.Replay(from, func(next uint64, data []byte) error {
		got = append(got, entry{next, bytes.Clone(data)})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay(%d): %v", from, err)
	}
	return got
}

// checkReplay checks that Replay(from) gives exactly the records of all
// at or after from, in order, each with the position after it.
func checkReplay(t *testing.T, j *journal.Journal, from uint64, all []rec) {
	t.Helper()
	var want []rec
	for _, r := range all {
		if r.pos >= from {
			want = append(want, r)
		}
	}
	got := replay(t, j, from)
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Fatalf("Replay(%d) stopped after %d records, want %d; first missing at %d", from, len(got), len(want), want[i].pos)
		case i >= len(want):
			t.Fatalf("Replay(%d) gave %d records, want %d; extra record ending at %d (%d bytes)", from, len(got), len(want), got[i].next, len(got[i].data))
		case got[i].next != want[i].next() || !bytes.Equal(got[i].data, want[i].data):
			t.Fatalf("Replay(%d) record %d: next %d, %d bytes; want next %d, %d bytes (equal data: %v)",
				from, i, got[i].next, len(got[i].data), want[i].next(), len(want[i].data), bytes.Equal(got[i].data, want[i].data))
		}
	}
}

// segFiles maps the start position in each segment file's name to the
// file's path.
func segFiles(t *testing.T, dir string) map[uint64]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	segs := map[uint64]string{}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".journal")
		if !ok {
			continue
		}
		start, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			t.Fatalf("segment file %q is not named by a position", e.Name())
		}
		segs[start] = filepath.Join(dir, e.Name())
	}
	return segs
}

func segStarts(t *testing.T, dir string) []uint64 {
	t.Helper()
	starts := make([]uint64, 0)
	for s := range segFiles(t, dir) {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	return starts
}

func checkSegs(t *testing.T, dir string, want ...uint64) {
	t.Helper()
	if want == nil {
		want = []uint64{}
	}
	if got := segStarts(t, dir); !slices.Equal(got, want) {
		t.Fatalf("segments start at %v, want %v", got, want)
	}
}

func segPath(t *testing.T, dir string, start uint64) string {
	t.Helper()
	p, ok := segFiles(t, dir)[start]
	if !ok {
		t.Fatalf("no segment file starts at %d (have %v)", start, segStarts(t, dir))
	}
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads every segment file, to show that a failed Open changed
// none.
func snapshot(t *testing.T, dir string) map[uint64][]byte {
	t.Helper()
	files := map[uint64][]byte{}
	for s, p := range segFiles(t, dir) {
		files[s] = readFile(t, p)
	}
	return files
}

func checkUnchanged(t *testing.T, dir string, before map[uint64][]byte) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Fatalf("segments changed from %d files to %d", len(before), len(after))
	}
	for s, b := range before {
		if !bytes.Equal(after[s], b) {
			t.Fatalf("segment %d changed", s)
		}
	}
}

// frame encodes a record as the package documentation describes it:
// length and CRC-32C of length and data, both big-endian, then the data.
func frame(data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	crc := crc32.Checksum(append(slices.Clone(b), data...), crc32.MakeTable(crc32.Castagnoli))
	b = binary.BigEndian.AppendUint32(b, crc)
	return append(b, data...)
}

// twelve makes a journal of twelve recLen-byte records in segments of
// smallSeg bytes (0, 240 and 480) and closes it.
func twelve(t *testing.T) (string, []rec) {
	t.Helper()
	dir := t.TempDir()
	j := open(t, dir, 0, smallSeg)
	recs := appendEach(t, j, 0, 12, recLen)
	closeJournal(t, j)
	checkSegs(t, dir, 0, 240, 480)
	return dir, recs
}

func TestAppendReplay(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0, 0)
	if got := j.End(); got != 0 {
		t.Fatalf("End() of a new journal = %d, want 0", got)
	}
	checkReplay(t, j, 0, nil)

	// Positions worked out by hand: each frame adds 8 bytes to its data.
	if journal.FrameOverhead != 8 {
		t.Fatalf("FrameOverhead = %d, want 8 (4 bytes of length, 4 of CRC)", journal.FrameOverhead)
	}
	steps := []struct {
		batch [][]byte
		pos   uint64
		end   uint64
	}{
		{[][]byte{payload(0, 1)}, 0, 9},
		{[][]byte{payload(1, 10)}, 9, 27},
		{[][]byte{payload(2, 100), payload(3, 2), payload(4, 3)}, 27, 156},
		{[][]byte{make([]byte, 5)}, 156, 169}, // zeros in a record are data, not the end marker
		{[][]byte{payload(5, 4000)}, 169, 4177},
	}
	var all []rec
	for _, s := range steps {
		pos, err := j.Append(s.batch)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if pos != s.pos {
			t.Fatalf("Append returned %d, want %d", pos, s.pos)
		}
		if got := j.End(); got != s.end {
			t.Fatalf("End() = %d, want %d", got, s.end)
		}
		for _, d := range s.batch {
			all = append(all, rec{pos, d})
			pos = all[len(all)-1].next()
		}
	}
	checkReplay(t, j, 0, all)
	for _, r := range all {
		checkReplay(t, j, r.pos, all) // from every record boundary
	}
	checkReplay(t, j, j.End(), all) // nothing after the last

	t.Run("error from fn stops Replay", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := j.Replay(0, func(uint64, []byte) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Fatalf("Replay = %v, want the error from fn", err)
		}
		if calls != 3 {
			t.Fatalf("fn called %d times, want 3", calls)
		}
	})

	t.Run("largest record", func(t *testing.T) {
		big := payload(6, journal.MaxRecord)
		recs := appendBatch(t, j, big)
		checkReplay(t, j, recs[0].pos, recs)
	})
}

// TestOnDiskFormat checks the frame layout the package documentation
// gives, in both directions: what Append writes, and what Open reads.
func TestOnDiskFormat(t *testing.T) {
	t.Run("Append writes documented frames", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, 0, 0)
		recs := appendBatch(t, j, []byte("hello"), []byte("audit"))
		closeJournal(t, j)
		b := readFile(t, segPath(t, dir, 0))
		want := append(frame([]byte("hello")), frame([]byte("audit"))...)
		if !bytes.HasPrefix(b, want) {
			t.Fatalf("segment begins %x, want %x", b[:min(len(b), len(want))], want)
		}
		if end := recs[1].next(); len(b) >= int(end)+8 && !bytes.Equal(b[end:end+8], make([]byte, 8)) {
			t.Fatalf("frames are followed by %x, want a zero length", b[end:end+8])
		}
	})

	t.Run("Open reads hand-written frames", func(t *testing.T) {
		dir := t.TempDir()
		const start = 1000
		a, b := []byte("first record"), []byte("second")
		// A segment without zeros after its frames: the end of the file
		// also ends the frames.
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%020d.journal", start)), append(frame(a), frame(b)...))
		j := open(t, dir, start, 0)
		want := []rec{{start, a}, {start + 8 + 12, b}}
		checkReplay(t, j, start, want)
		if got := j.End(); got != want[1].next() {
			t.Fatalf("End() = %d, want %d", got, want[1].next())
		}
		want = append(want, appendBatch(t, j, []byte("third"))...)
		closeJournal(t, j)
		j = open(t, dir, start, 0)
		checkReplay(t, j, start, want)
		checkSegs(t, dir, start)
	})
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0, 0)
	recs := appendEach(t, j, 0, 10, 30)
	recs = append(recs, appendBatch(t, j, make([]byte, 17), payload(10, 1))...)
	end := j.End()
	closeJournal(t, j)

	for _, from := range []uint64{0, recs[4].pos, recs[10].pos, end} {
		t.Run(fmt.Sprint("from ", from), func(t *testing.T) {
			j := open(t, dir, from, 0)
			if got := j.End(); got != end {
				t.Fatalf("End() after Open = %d, want %d", got, end)
			}
			checkReplay(t, j, from, recs)
			closeJournal(t, j)
		})
	}

	// Appends continue after the last record, across more reopens.
	mid := recs[6].pos
	for round := range 3 {
		j := open(t, dir, mid, 0)
		checkReplay(t, j, mid, recs)
		recs = append(recs, appendEach(t, j, 100+10*round, 2, 50+round)...)
		checkReplay(t, j, mid, recs)
		closeJournal(t, j)
	}
	j = open(t, dir, 0, 0)
	checkReplay(t, j, 0, recs)
	if got, want := j.End(), recs[len(recs)-1].next(); got != want {
		t.Fatalf("End() = %d, want %d", got, want)
	}
}

func TestSegmentLayout(t *testing.T) {
	// Segment starts worked out by hand for segments of smallSeg bytes:
	// a new segment starts when the next Append would not fit in a
	// segment that is not empty; a batch is never split.
	tests := []struct {
		name    string
		batches [][]int // record lengths of each Append
		starts  []uint64
	}{
		{"single records fill segments", slices.Repeat([][]int{{recLen}}, 23), []uint64{0, 240, 480, 720, 960}},
		{"a batch that does not fit starts a segment", [][]int{{40}, {40}, {40}, {40, 40, 40}}, []uint64{0, 144}},
		{"a segment filled exactly", [][]int{{40, 40, 40, 40, 40}, {8}, {1}}, []uint64{0, 256}},
		{"a record larger than a segment", [][]int{{40}, {300}, {40}}, []uint64{0, 48, 356}},
		{"a batch larger than a segment", [][]int{{40}, {200, 200}, {40}}, []uint64{0, 48, 464}},
		{"first record larger than a segment", [][]int{{300}, {1}}, []uint64{0, 308}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir, 0, smallSeg)
			var recs []rec
			for i, lens := range tt.batches {
				var batch [][]byte
				for k, n := range lens {
					batch = append(batch, payload(10*i+k, n))
				}
				recs = append(recs, appendBatch(t, j, batch...)...)
			}
			checkSegs(t, dir, tt.starts...)
			checkReplay(t, j, 0, recs)
			for _, s := range tt.starts {
				checkReplay(t, j, s, recs)
			}
			closeJournal(t, j)

			j = open(t, dir, 0, smallSeg)
			checkReplay(t, j, 0, recs)
			checkSegs(t, dir, tt.starts...)
		})
	}
}

func TestSegmentSizeOption(t *testing.T) {
	for _, size := range []int64{1, 8} {
		if j, err := journal.Open(t.TempDir(), 0, journal.Options{SegmentSize: size}); err == nil {
			j.Close()
			t.Errorf("Open with SegmentSize %d succeeded, want an error (smaller than a frame)", size)
		}
	}

	t.Run("one smallest frame per segment", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, 0, journal.FrameOverhead+1)
		recs := appendEach(t, j, 0, 3, 1)
		checkSegs(t, dir, 0, 9, 18)
		checkReplay(t, j, 0, recs)
	})

	for _, size := range []int64{0, -5} {
		t.Run(fmt.Sprint("default for ", size), func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir, 0, size)
			recs := appendEach(t, j, 0, 20, 1000)
			checkSegs(t, dir, 0)
			checkReplay(t, j, 0, recs)
		})
	}
}

func TestRelease(t *testing.T) {
	// 23 records: segments 0, 240, 480, 720 and 960; the end is 1104.
	tests := []struct {
		name string
		pos  uint64
		keep []uint64
	}{
		{"nothing consumed", 0, []uint64{0, 240, 480, 720, 960}},
		{"inside the first segment", 192, []uint64{0, 240, 480, 720, 960}},
		{"end of the first segment", 240, []uint64{240, 480, 720, 960}},
		{"inside the third segment", 528, []uint64{480, 720, 960}},
		{"start of the last segment", 960, []uint64{960}},
		{"the end", 1104, []uint64{960}},
		{"beyond the end", math.MaxUint64, []uint64{960}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir, 0, smallSeg)
			recs := appendEach(t, j, 0, 23, recLen)
			checkSegs(t, dir, 0, 240, 480, 720, 960)
			for range 2 { // a second Release changes nothing
				if err := j.Release(tt.pos); err != nil {
					t.Fatalf("Release(%d): %v", tt.pos, err)
				}
				checkSegs(t, dir, tt.keep...)
			}
			first := tt.keep[0]
			checkReplay(t, j, first, recs)
			if first > 0 {
				// The released records are gone; Replay says so rather
				// than skip them.
				err := j.Replay(0, func(uint64, []byte) error { return nil })
				if !errors.Is(err, journal.ErrCorrupt) {
					t.Fatalf("Replay(0) after Release = %v, want ErrCorrupt", err)
				}
			}
			recs = append(recs, appendEach(t, j, 23, 3, recLen)...)
			checkReplay(t, j, first, recs)
			closeJournal(t, j)

			j = open(t, dir, first, smallSeg)
			checkReplay(t, j, first, recs)
		})
	}
}

// TestReleaseWhileAppending releases from another goroutine, as the
// ledger's mover does; run with -race.
func TestReleaseWhileAppending(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0, smallSeg)
	moved := make(chan uint64)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		var err error
		for pos := range moved {
			if err == nil {
				err = j.Release(pos)
			}
		}
		errs <- err
	})
	var recs []rec
	func() {
		defer close(moved) // also when appendBatch fails the test
		for i := range 60 {
			recs = append(recs, appendBatch(t, j, payload(i, recLen))...)
			moved <- recs[i].next()
		}
	}()
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatalf("Release: %v", err)
	}
	// 60 records of 48 bytes, five to a segment: the last segment is 2640.
	checkSegs(t, dir, 2640)
	checkReplay(t, j, 2640, recs)
}

func TestOpenDeletesConsumed(t *testing.T) {
	tests := []struct {
		name string
		from uint64
		keep []uint64
	}{
		{"nothing consumed", 0, []uint64{0, 240, 480, 720, 960}},
		{"first segment consumed", 240, []uint64{240, 480, 720, 960}},
		{"inside the third segment", 528, []uint64{480, 720, 960}},
		{"start of the last segment", 960, []uint64{960}},
		{"everything consumed", 1104, []uint64{960}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir, 0, smallSeg)
			recs := appendEach(t, j, 0, 23, recLen)
			closeJournal(t, j)

			j = open(t, dir, tt.from, smallSeg)
			checkSegs(t, dir, tt.keep...)
			if got := j.End(); got != 1104 {
				t.Fatalf("End() = %d, want 1104", got)
			}
			checkReplay(t, j, tt.from, recs)
			recs = append(recs, appendEach(t, j, 23, 1, recLen)...)
			if recs[23].pos != 1104 {
				t.Fatalf("Append after Open returned %d, want 1104", recs[23].pos)
			}
			checkReplay(t, j, tt.from, recs)
		})
	}
}

func TestTornTail(t *testing.T) {
	// The last segment (480) holds records 10 and 11 at file offsets 0
	// and 48; its frames end at 96, followed by zeros.
	const last, lastFrame, framesEnd = 480, frameLen, 2 * frameLen
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		keep   int // records left
	}{
		{"flipped data byte", func(b []byte) []byte { b[lastFrame+8+10] ^= 0x40; return b }, 11},
		{"flipped CRC byte", func(b []byte) []byte { b[lastFrame+5] ^= 1; return b }, 11},
		{"length too long", func(b []byte) []byte { b[lastFrame+2] ^= 1; return b }, 11},
		{"length beyond MaxRecord", func(b []byte) []byte { b[lastFrame] = 0xff; return b }, 11},
		{"file ends inside the data", func(b []byte) []byte { return b[:lastFrame+8+20] }, 11},
		{"file ends inside the header", func(b []byte) []byte { return b[:lastFrame+5] }, 11},
		{"partial header after the last frame", func(b []byte) []byte { copy(b[framesEnd:], []byte{0, 0, 0, 9}); return b }, 12},
		{"zero length with a CRC after the last frame", func(b []byte) []byte { b[framesEnd+6] = 0x7f; return b }, 12},
		{"whole frame of garbage after the last frame", func(b []byte) []byte {
			copy(b[framesEnd:], bytes.Repeat([]byte{0xab}, 40))
			return b
		}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, recs := twelve(t)
			path := segPath(t, dir, last)
			orig := readFile(t, path)
			writeFile(t, path, tt.damage(slices.Clone(orig)))

			j := open(t, dir, 0, smallSeg)
			kept := recs[:tt.keep]
			cut := kept[len(kept)-1].next()
			if got := j.End(); got != cut {
				t.Fatalf("End() = %d, want %d", got, cut)
			}
			checkReplay(t, j, 0, kept)

			b := readFile(t, path)
			off := int(cut - last)
			if !bytes.Equal(b[:off], orig[:off]) {
				t.Fatal("the intact frames changed on disk")
			}
			if i := slices.IndexFunc(b[off:], func(c byte) bool { return c != 0 }); i >= 0 {
				t.Fatalf("byte %d of the segment is %#x after Open, want the torn region zeroed", off+i, b[off+i])
			}

			// The next record takes the torn frame's place.
			added := appendBatch(t, j, payload(99, 30))
			if added[0].pos != cut {
				t.Fatalf("Append after the cut returned %d, want %d", added[0].pos, cut)
			}
			checkSegs(t, dir, 0, 240, 480)
			closeJournal(t, j)

			j = open(t, dir, 0, smallSeg)
			checkReplay(t, j, 0, append(slices.Clone(kept), added...))
		})
	}

	t.Run("only frame of the last segment", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, 0, smallSeg)
		recs := appendEach(t, j, 0, 11, recLen) // record 10 alone in segment 480
		closeJournal(t, j)
		path := segPath(t, dir, last)
		b := readFile(t, path)
		b[8] ^= 0xff
		writeFile(t, path, b)

		j = open(t, dir, 0, smallSeg)
		if got := j.End(); got != last {
			t.Fatalf("End() = %d, want %d", got, last)
		}
		checkReplay(t, j, 0, recs[:10])
		if i := slices.IndexFunc(readFile(t, path), func(c byte) bool { return c != 0 }); i >= 0 {
			t.Fatalf("byte %d of the emptied segment is not zero", i)
		}
		// Larger than a segment, and still appended to the emptied
		// segment rather than a new one.
		added := appendBatch(t, j, payload(99, 300))
		checkSegs(t, dir, 0, 240, 480)
		closeJournal(t, j)
		j = open(t, dir, 0, smallSeg)
		checkReplay(t, j, 0, append(recs[:10], added...))
	})
}

// TestTornAppendStaleBytes is a crash in which the page holding the
// header of an append's first frame did not reach the disk but a later
// page of the same append did: the frames' end reads as a zero length
// with stale bytes after it. Open must leave the segment ending in zeros
// (the package documentation: "so the file again ends in zeros");
// otherwise later appends land in front of the stale bytes.
//
// BUG: both subtests fail. Open only zeroes from a frame it finds bad,
// and a zero length is taken as the end without checking what follows.
func TestTornAppendStaleBytes(t *testing.T) {
	t.Run("a frame never acknowledged comes back", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, 0, 0)
		recs := appendBatch(t, j, payload(0, 100))
		end := j.End()
		closeJournal(t, j)

		// The torn append was [a, b] with len(a) = 100: only b's frame
		// reached the disk.
		path := segPath(t, dir, 0)
		stale := readFile(t, path)
		copy(stale[end+8+100:], frame(payload(2, 60)))
		writeFile(t, path, stale)

		j = open(t, dir, 0, 0)
		if got := j.End(); got != end {
			t.Fatalf("End() = %d, want %d (the torn append is gone)", got, end)
		}
		checkReplay(t, j, 0, recs)
		// A record as long as a ends where b's stale frame begins.
		recs = append(recs, appendBatch(t, j, payload(1, 100))...)
		closeJournal(t, j)

		j = open(t, dir, 0, 0)
		if got := j.End(); got != recs[1].next() {
			t.Errorf("End() after reopening = %d, want %d", got, recs[1].next())
		}
		checkReplay(t, j, 0, recs)
	})

	t.Run("stale bytes make a full segment corrupt", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, 0, smallSeg)
		recs := appendEach(t, j, 0, 2, recLen)
		end := j.End() // 96
		closeJournal(t, j)

		// The torn append was one record; its header is lost, its data
		// is on disk.
		path := segPath(t, dir, 0)
		stale := readFile(t, path)
		copy(stale[end+8:], bytes.Repeat([]byte{0xab}, recLen))
		writeFile(t, path, stale)

		j = open(t, dir, 0, smallSeg)
		if got := j.End(); got != end {
			t.Fatalf("End() = %d, want %d", got, end)
		}
		checkReplay(t, j, 0, recs)
		if i := slices.IndexFunc(readFile(t, path)[end:], func(c byte) bool { return c != 0 }); i >= 0 {
			t.Errorf("byte %d of the segment is not zero after Open; the segment should end in zeros after its frames", int(end)+i)
		}
		// A one-byte record (its frame ends inside the stale bytes), then
		// one that starts a new segment, so the first is no longer last.
		recs = append(recs, appendBatch(t, j, []byte{1})...)
		recs = append(recs, appendBatch(t, j, payload(5, 200))...)
		checkSegs(t, dir, 0, 105)
		closeJournal(t, j)

		j, err := journal.Open(dir, 0, journal.Options{SegmentSize: smallSeg})
		if err != nil {
			t.Fatalf("Open of a journal written only by Append: %v", err)
		}
		defer j.Close()
		checkReplay(t, j, 0, recs)
	})
}

func TestCorruptEarlierSegment(t *testing.T) {
	// Segments 0 and 240 hold five records each, frames ending at 240.
	tests := []struct {
		name   string
		seg    uint64
		damage func(b []byte) []byte
	}{
		{"data byte of a middle frame", 0, func(b []byte) []byte { b[2*frameLen+8+3] ^= 1; return b }},
		{"CRC of the last frame", 240, func(b []byte) []byte { b[4*frameLen+4] ^= 0x80; return b }},
		{"length of the first frame", 240, func(b []byte) []byte { b[3] ^= 2; return b }},
		{"last frame zeroed", 0, func(b []byte) []byte { clear(b[4*frameLen : 5*frameLen]); return b }},
		{"file ends inside the last frame", 0, func(b []byte) []byte { return b[:4*frameLen+20] }},
		{"file ends after the fourth frame", 240, func(b []byte) []byte { return b[:4*frameLen] }},
		{"garbage after the frames", 240, func(b []byte) []byte { copy(b[5*frameLen:], []byte{0xab, 0xab, 0xab, 0xab}); return b }},
		{"nonzero CRC after the frames", 0, func(b []byte) []byte { b[5*frameLen+5] = 1; return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := twelve(t)
			path := segPath(t, dir, tt.seg)
			writeFile(t, path, tt.damage(readFile(t, path)))
			before := snapshot(t, dir)
			for range 2 { // the failed Open let go of the directory
				j, err := journal.Open(dir, 0, journal.Options{SegmentSize: smallSeg})
				if err == nil {
					j.Close()
					t.Fatal("Open succeeded, want ErrCorrupt")
				}
				if !errors.Is(err, journal.ErrCorrupt) {
					t.Fatalf("Open = %v, want ErrCorrupt", err)
				}
			}
			checkUnchanged(t, dir, before)
		})
	}
}

func TestMissingRecords(t *testing.T) {
	tests := []struct {
		name   string
		remove []uint64 // segment files deleted
		from   uint64
	}{
		{"first segment deleted", []uint64{0}, 0},
		{"first segment deleted, from inside it", []uint64{0}, 96},
		{"middle segment deleted", []uint64{240}, 0},
		{"middle segment deleted, from inside the first", []uint64{240}, 96},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := twelve(t)
			for _, s := range tt.remove {
				if err := os.Remove(segPath(t, dir, s)); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, dir)
			j, err := journal.Open(dir, tt.from, journal.Options{SegmentSize: smallSeg})
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded, want ErrCorrupt")
			}
			if !errors.Is(err, journal.ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			checkUnchanged(t, dir, before)
		})
	}

	t.Run("first segment deleted, from at the next", func(t *testing.T) {
		dir, recs := twelve(t)
		if err := os.Remove(segPath(t, dir, 0)); err != nil {
			t.Fatal(err)
		}
		j := open(t, dir, 240, smallSeg)
		checkReplay(t, j, 240, recs)
	})

	t.Run("released records asked for again", func(t *testing.T) {
		dir, _ := twelve(t)
		j := open(t, dir, 0, smallSeg)
		if err := j.Release(480); err != nil {
			t.Fatal(err)
		}
		closeJournal(t, j)
		if j, err := journal.Open(dir, 0, journal.Options{SegmentSize: smallSeg}); !errors.Is(err, journal.ErrCorrupt) {
			if err == nil {
				j.Close()
			}
			t.Fatalf("Open(0) after Release(480) = %v, want ErrCorrupt", err)
		}
	})
}

func TestFromBeyondEnd(t *testing.T) {
	t.Run("after all segments", func(t *testing.T) {
		dir, _ := twelve(t) // end 576
		const from = 1000
		j := open(t, dir, from, smallSeg)
		if got := j.End(); got != from {
			t.Fatalf("End() = %d, want %d", got, from)
		}
		checkSegs(t, dir) // all consumed
		checkReplay(t, j, from, nil)
		recs := appendBatch(t, j, payload(50, 10))
		if recs[0].pos != from {
			t.Fatalf("Append returned %d, want %d", recs[0].pos, from)
		}
		checkSegs(t, dir, from)
		checkReplay(t, j, from, recs)
		closeJournal(t, j)

		j = open(t, dir, from, smallSeg)
		checkReplay(t, j, from, recs)
		closeJournal(t, j)
		if j, err := journal.Open(dir, 0, journal.Options{SegmentSize: smallSeg}); !errors.Is(err, journal.ErrCorrupt) {
			if err == nil {
				j.Close()
			}
			t.Fatalf("Open(0) = %v, want ErrCorrupt: records before %d are gone", err, from)
		}
	})

	t.Run("empty directory", func(t *testing.T) {
		dir := t.TempDir()
		const from = 12345
		j := open(t, dir, from, 0)
		if got := j.End(); got != from {
			t.Fatalf("End() = %d, want %d", got, from)
		}
		recs := appendEach(t, j, 0, 3, 7)
		if recs[0].pos != from {
			t.Fatalf("first Append returned %d, want %d", recs[0].pos, from)
		}
		checkSegs(t, dir, from)
		checkReplay(t, j, from, recs)
	})

	t.Run("exactly at the end", func(t *testing.T) {
		dir, _ := twelve(t)
		j := open(t, dir, 576, smallSeg)
		if got := j.End(); got != 576 {
			t.Fatalf("End() = %d, want 576", got)
		}
		checkSegs(t, dir, 480)
		checkReplay(t, j, 576, nil)
		recs := appendBatch(t, j, payload(50, 10))
		if recs[0].pos != 576 {
			t.Fatalf("Append returned %d, want 576", recs[0].pos)
		}
	})
}

func TestBusy(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir, 0, 0)
	recs := appendEach(t, j, 0, 2, 10)

	for range 2 {
		other, err := journal.Open(dir, 0, journal.Options{})
		if err == nil {
			other.Close()
			t.Fatal("second Open succeeded while the first is open")
		}
		if !errors.Is(err, journal.ErrBusy) {
			t.Fatalf("second Open = %v, want ErrBusy", err)
		}
	}
	// The refused Open disturbed nothing.
	recs = append(recs, appendEach(t, j, 2, 1, 10)...)
	checkReplay(t, j, 0, recs)
	closeJournal(t, j)

	j = open(t, dir, 0, 0)
	checkReplay(t, j, 0, recs)
}

func TestBadAppend(t *testing.T) {
	tests := []struct {
		name string
		recs [][]byte
	}{
		{"nil", nil},
		{"no records", [][]byte{}},
		{"empty record", [][]byte{{}}},
		{"nil record", [][]byte{nil}},
		{"empty record after a good one", [][]byte{payload(0, 5), {}}},
		{"record too long", [][]byte{payload(0, journal.MaxRecord+1)}},
		{"record too long after a good one", [][]byte{payload(0, 5), payload(1, journal.MaxRecord+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("new journal", func(t *testing.T) {
				dir := t.TempDir()
				j := open(t, dir, 0, 0)
				if _, err := j.Append(tt.recs); err == nil {
					t.Fatal("Append succeeded, want an error")
				}
				if got := j.End(); got != 0 {
					t.Fatalf("End() = %d, want 0", got)
				}
				checkSegs(t, dir)
				checkReplay(t, j, 0, nil)
			})
			t.Run("journal with records", func(t *testing.T) {
				dir := t.TempDir()
				j := open(t, dir, 0, smallSeg)
				recs := appendEach(t, j, 0, 7, recLen)
				end := j.End()
				before := snapshot(t, dir)
				if _, err := j.Append(tt.recs); err == nil {
					t.Fatal("Append succeeded, want an error")
				}
				if got := j.End(); got != end {
					t.Fatalf("End() = %d, want %d", got, end)
				}
				checkUnchanged(t, dir, before)
				checkReplay(t, j, 0, recs)
				// The journal goes on as if nothing happened.
				recs = append(recs, appendEach(t, j, 7, 1, recLen)...)
				closeJournal(t, j)
				j = open(t, dir, 0, smallSeg)
				checkReplay(t, j, 0, recs)
			})
		})
	}
}

func TestUnexpectedFiles(t *testing.T) {
	for _, name := range []string{
		"notes.journal",
		"1.journal",
		".journal",
		"0000000000000000000x.journal",
		"000000000000000000000.journal", // 21 digits
		"-0000000000000000001.journal",
		"+0000000000000000001.journal",
	} {
		t.Run(name, func(t *testing.T) {
			dir, recs := twelve(t)
			before := snapshot(t, dir)
			stray := filepath.Join(dir, name)
			writeFile(t, stray, nil)
			j, err := journal.Open(dir, 576, journal.Options{SegmentSize: smallSeg})
			if err == nil {
				j.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if errors.Is(err, journal.ErrBusy) || !strings.Contains(err.Error(), name) {
				t.Fatalf("Open = %v, want an error naming %s", err, name)
			}
			if _, err := os.Stat(stray); err != nil {
				t.Fatalf("the stray file: %v", err)
			}
			// Open deleted nothing, though from made every segment but
			// the last consumed.
			if err := os.Remove(stray); err != nil {
				t.Fatal(err)
			}
			checkUnchanged(t, dir, before)
			j = open(t, dir, 0, smallSeg)
			checkReplay(t, j, 0, recs)
		})
	}

	t.Run("other names are left alone", func(t *testing.T) {
		dir, recs := twelve(t)
		others := []string{"notes.txt", "00000000000000000000.journal.tmp", "journal"}
		for _, name := range others {
			writeFile(t, filepath.Join(dir, name), []byte("x"))
		}
		j := open(t, dir, 0, smallSeg)
		checkReplay(t, j, 0, recs)
		for _, name := range others {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	})
}
