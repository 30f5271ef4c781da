package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/wardhealth/ward/internal/audit"
)

// Leaf encoding, version 1. Every event is stored as
//
//	leaf   = 0x01 index field*
//	index  = the leaf's ledger index, 8 bytes big-endian
//	field  = tag length value     (tag: 1 byte; length: uvarint)
//
// with fields in increasing tag order, a field present exactly when its
// value is not the zero value, strings as their bytes, and integers (the
// time as Unix milliseconds, UTC) as zigzag varints (encoding/binary
// AppendVarint). So one event has exactly one encoding, and the index is
// part of the hashed data: a leaf moved to another position, or a row
// inserted or deleted without re-encoding its successors, no longer
// matches its position. New Event fields get new tags; old leaves stay
// readable.

// leafVersion is the first byte of every leaf.
const leafVersion = 0x01

// leafHeader is the length of the version byte and the index.
const leafHeader = 9

// Field tags. Never reuse or renumber one.
const (
	tagTime       = 1
	tagTenant     = 2
	tagActor      = 3
	tagActorKind  = 4
	tagRole       = 5
	tagAction     = 6
	tagSubtype    = 7
	tagEntityType = 8
	tagEntityID   = 9
	tagVersion    = 10
	tagQuery      = 11
	tagOutcome    = 12
	tagSourceIP   = 13
	tagUserAgent  = 14
	tagEntryPoint = 15
	tagRequestID  = 16
	tagSessionID  = 17
	tagPatientID  = 18
	tagPurpose    = 19
)

// ErrMalformedLeaf means stored bytes are not a canonical leaf encoding.
var ErrMalformedLeaf = errors.New("ledger: malformed leaf")

// EncodeLeaf returns the canonical encoding of e as the leaf at index.
// The time is kept to the millisecond.
func EncodeLeaf(index uint64, e audit.Event) []byte {
	return appendLeaf(make([]byte, 0, 160), index, encodeFields(e))
}

// appendLeaf appends the header for index and the encoded fields.
func appendLeaf(dst []byte, index uint64, fields []byte) []byte {
	dst = append(dst, leafVersion)
	dst = binary.BigEndian.AppendUint64(dst, index)
	return append(dst, fields...)
}

// encodeFields is the part of the leaf that does not depend on the index,
// so it can be computed before the write transaction assigns one.
func encodeFields(e audit.Event) []byte {
	b := make([]byte, 0, 160)
	if !e.Time.Truncate(time.Millisecond).IsZero() {
		b = appendIntField(b, tagTime, e.Time.UnixMilli())
	}
	b = appendStringField(b, tagTenant, e.Tenant)
	b = appendStringField(b, tagActor, e.ActorID)
	b = appendStringField(b, tagActorKind, e.ActorKind)
	b = appendStringField(b, tagRole, e.Role)
	b = appendStringField(b, tagAction, e.Action)
	b = appendStringField(b, tagSubtype, e.Subtype)
	b = appendStringField(b, tagEntityType, e.EntityType)
	b = appendStringField(b, tagEntityID, e.EntityID)
	if e.Version != 0 {
		b = appendIntField(b, tagVersion, e.Version)
	}
	b = appendStringField(b, tagQuery, e.Query)
	if e.Outcome != 0 {
		b = appendIntField(b, tagOutcome, int64(e.Outcome))
	}
	b = appendStringField(b, tagSourceIP, e.SourceIP)
	b = appendStringField(b, tagUserAgent, e.UserAgent)
	b = appendStringField(b, tagEntryPoint, e.EntryPoint)
	b = appendStringField(b, tagRequestID, e.RequestID)
	b = appendStringField(b, tagSessionID, e.SessionID)
	b = appendStringField(b, tagPatientID, e.PatientID)
	b = appendStringField(b, tagPurpose, e.Purpose)
	return b
}

func appendStringField(b []byte, tag byte, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, tag)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendIntField(b []byte, tag byte, v int64) []byte {
	var buf [binary.MaxVarintLen64]byte
	n := binary.PutVarint(buf[:], v)
	b = append(b, tag, byte(n))
	return append(b, buf[:n]...)
}

// LeafIndex returns the index a leaf encoding claims, reading only its
// header.
func LeafIndex(data []byte) (uint64, error) {
	if len(data) < leafHeader || data[0] != leafVersion {
		return 0, ErrMalformedLeaf
	}
	return binary.BigEndian.Uint64(data[1:leafHeader]), nil
}

// DecodeLeaf parses a leaf encoding. It accepts only the canonical
// encoding (the one EncodeLeaf produces), so equal events have equal
// leaves.
func DecodeLeaf(data []byte) (uint64, audit.Event, error) {
	index, err := LeafIndex(data)
	if err != nil {
		return 0, audit.Event{}, err
	}
	var e audit.Event
	rest := data[leafHeader:]
	for len(rest) > 0 {
		tag := rest[0]
		n, k := binary.Uvarint(rest[1:])
		if k <= 0 || n > uint64(len(rest)-1-k) {
			return 0, audit.Event{}, fmt.Errorf("%w: field %d: bad length", ErrMalformedLeaf, tag)
		}
		val := rest[1+k : 1+k+int(n)]
		rest = rest[1+k+int(n):]
		if err := setField(&e, tag, val); err != nil {
			return 0, audit.Event{}, err
		}
	}
	// Tags out of order, duplicates, empty values and non-minimal varints
	// all re-encode differently.
	if !bytes.Equal(data[leafHeader:], encodeFields(e)) {
		return 0, audit.Event{}, fmt.Errorf("%w: not in canonical form", ErrMalformedLeaf)
	}
	return index, e, nil
}

func setField(e *audit.Event, tag byte, val []byte) error {
	s := string(val)
	switch tag {
	case tagTime:
		ms, err := varint(val)
		if err != nil {
			return err
		}
		e.Time = time.UnixMilli(ms).UTC()
	case tagTenant:
		e.Tenant = s
	case tagActor:
		e.ActorID = s
	case tagActorKind:
		e.ActorKind = s
	case tagRole:
		e.Role = s
	case tagAction:
		e.Action = s
	case tagSubtype:
		e.Subtype = s
	case tagEntityType:
		e.EntityType = s
	case tagEntityID:
		e.EntityID = s
	case tagVersion:
		v, err := varint(val)
		if err != nil {
			return err
		}
		e.Version = v
	case tagQuery:
		e.Query = s
	case tagOutcome:
		v, err := varint(val)
		if err != nil {
			return err
		}
		e.Outcome = int(v)
	case tagSourceIP:
		e.SourceIP = s
	case tagUserAgent:
		e.UserAgent = s
	case tagEntryPoint:
		e.EntryPoint = s
	case tagRequestID:
		e.RequestID = s
	case tagSessionID:
		e.SessionID = s
	case tagPatientID:
		e.PatientID = s
	case tagPurpose:
		e.Purpose = s
	default:
		return fmt.Errorf("%w: unknown field %d", ErrMalformedLeaf, tag)
	}
	return nil
}

func varint(b []byte) (int64, error) {
	v, n := binary.Varint(b)
	if n != len(b) {
		return 0, fmt.Errorf("%w: bad integer", ErrMalformedLeaf)
	}
	return v, nil
}

// HashLeaf is the RFC 6962 leaf hash of a leaf encoding:
// SHA-256(0x00 || data).
func HashLeaf(data []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(data) }

// hashChildren is the RFC 6962 interior node hash: SHA-256(0x01 || l || r).
func hashChildren(l, r []byte) []byte { return rfc6962.DefaultHasher.HashChildren(l, r) }

// leafBuilder returns the build function a Store's AppendLeaves calls
// inside the write transaction: the fields are encoded now, outside it,
// and only the header and the hash wait for the index.
func leafBuilder(events []audit.Event) func(first uint64) ([][]byte, [][]byte, error) {
	fields := make([][]byte, len(events))
	for i, e := range events {
		fields[i] = encodeFields(e)
	}
	return fieldsBuilder(fields)
}

// fieldsBuilder is leafBuilder for events already encoded by encodeFields.
func fieldsBuilder(fields [][]byte) func(first uint64) ([][]byte, [][]byte, error) {
	return func(first uint64) ([][]byte, [][]byte, error) {
		data := make([][]byte, len(fields))
		hashes := make([][]byte, len(fields))
		for i, f := range fields {
			data[i] = appendLeaf(make([]byte, 0, leafHeader+len(f)), first+uint64(i), f)
			hashes[i] = HashLeaf(data[i])
		}
		return data, hashes, nil
	}
}
