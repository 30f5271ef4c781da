package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// fullEvent sets every field of audit.Event to a non-zero value, by
// reflection, so a field added to Event without a leaf tag fails the
// round trip below.
func fullEvent(t *testing.T) audit.Event {
	t.Helper()
	var e audit.Event
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("v-" + strings.ToLower(sf.Name))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(-1000 * (i + 1)))
		default:
			if sf.Type != reflect.TypeOf(time.Time{}) {
				t.Fatalf("audit.Event.%s has type %s: teach the leaf encoding about it", sf.Name, sf.Type)
			}
			f.Set(reflect.ValueOf(time.Date(2026, 11, 23, 10, 2, 11, 123e6, time.UTC)))
		}
	}
	return e
}

func TestLeafRoundTrip(t *testing.T) {
	for name, e := range map[string]audit.Event{"every field": fullEvent(t), "no field": {}, "realistic": event(5)} {
		t.Run(name, func(t *testing.T) {
			data := ledger.EncodeLeaf(42, e)
			i, got, err := ledger.DecodeLeaf(data)
			if err != nil {
				t.Fatal(err)
			}
			if i != 42 || !reflect.DeepEqual(got, e) {
				t.Errorf("DecodeLeaf(EncodeLeaf(42, e)) = %d, %+v; want 42, %+v", i, got, e)
			}
			if i, err := ledger.LeafIndex(data); i != 42 || err != nil {
				t.Errorf("LeafIndex = %d, %v", i, err)
			}
		})
	}
}

func TestLeafTimeIsMilliseconds(t *testing.T) {
	e := audit.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 3600))}
	_, got, err := ledger.DecodeLeaf(ledger.EncodeLeaf(0, e))
	if err != nil {
		t.Fatal(err)
	}
	if want := e.Time.Truncate(time.Millisecond).UTC(); !got.Time.Equal(want) || got.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v", got.Time, want)
	}
}

func TestLeafGolden(t *testing.T) {
	// The encoding is a stored format: it must never change by accident.
	got := hex.EncodeToString(ledger.EncodeLeaf(7, event(1)))
	path := filepath.Join("testdata", "leaf.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimSpace(string(want)) {
		t.Errorf("leaf encoding changed:\n got %s\nwant %s", got, want)
	}
}

func TestLeafRejectsNonCanonical(t *testing.T) {
	header := ledger.EncodeLeaf(3, audit.Event{})
	leaf := func(fields ...byte) []byte { return append(bytes.Clone(header), fields...) }
	tests := map[string][]byte{
		"empty":               nil,
		"short header":        header[:8],
		"unknown version":     append([]byte{2}, header[1:]...),
		"tags out of order":   leaf(3, 1, 'a', 2, 1, 'b'),
		"duplicate tag":       leaf(2, 1, 'a', 2, 1, 'b'),
		"empty value":         leaf(2, 0),
		"zero int present":    leaf(12, 1, 0),
		"non-minimal varint":  leaf(12, 2, 0x80, 0x00),
		"int with extra byte": leaf(12, 2, 0x02, 0x00),
		"unknown tag":         leaf(99, 1, 'x'),
		"length past end":     leaf(2, 5, 'a'),
		"missing length":      leaf(2),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ledger.DecodeLeaf(data); !errors.Is(err, ledger.ErrMalformedLeaf) {
				t.Errorf("DecodeLeaf(%x) = %v, want ErrMalformedLeaf", data, err)
			}
		})
	}
}

func TestLeafHash(t *testing.T) {
	a, b := ledger.EncodeLeaf(1, event(1)), ledger.EncodeLeaf(2, event(1))
	if bytes.Equal(ledger.HashLeaf(a), ledger.HashLeaf(b)) {
		t.Error("the same event at two indices has one leaf hash: the index is not committed to")
	}
	want := sha256.Sum256(append([]byte{0}, a...)) // RFC 6962: SHA-256(0x00 || leaf)
	if !bytes.Equal(ledger.HashLeaf(a), want[:]) {
		t.Error("HashLeaf is not the RFC 6962 leaf hash")
	}
}

func FuzzDecodeLeaf(f *testing.F) {
	f.Add(ledger.EncodeLeaf(0, audit.Event{}))
	f.Add(ledger.EncodeLeaf(1<<40, event(3)))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 12, 2, 0x80, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		i, e, err := ledger.DecodeLeaf(data)
		if err != nil {
			return
		}
		if again := ledger.EncodeLeaf(i, e); !bytes.Equal(again, data) {
			t.Errorf("accepted a non-canonical leaf %x (canonical %x)", data, again)
		}
	})
}
