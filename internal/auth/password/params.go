package password

import (
	"errors"
	"fmt"
)

// Params are the argon2id cost parameters of one hash.
type Params struct {
	Time      uint32 // passes over memory (argon2 t)
	MemoryKiB uint32 // memory in KiB (argon2 m)
	Threads   uint8  // lanes (argon2 p)
	KeyLen    uint32 // derived key length in bytes
	SaltLen   uint32 // random salt length in bytes
}

// Bounds on parameters, applied both when hashing and to parameters read
// back from a stored encoding, so that a hostile or corrupted stored hash
// cannot make Verify allocate gigabytes or run for minutes.
const (
	MaxMemoryKiB = 1 << 20 // 1 GiB
	MaxTime      = 16
	MaxThreads   = 16
	MinKeyLen    = 16
	MaxKeyLen    = 64
	MinSaltLen   = 8
	MaxSaltLen   = 64
	// maxWork caps Time×MemoryKiB, the memory traffic of one hash, at
	// 8 GiB (1 GiB × 8 passes or 512 MiB × 16): the largest memory cannot
	// be combined with the largest time.
	maxWork = 8 * MaxMemoryKiB
)

// ErrParams reports parameters outside the accepted bounds.
var ErrParams = errors.New("argon2id parameters out of range")

// DefaultParams returns the parameters for new hashes: 46 MiB, 3 passes,
// 2 lanes. On the 2-core reference machine, idle, BenchmarkHash measured
// 81–86 ms per hash and BenchmarkVerify 60–72 ms; the target is 50–100 ms.
// It sits above the OWASP minimum (46 MiB, t=1, p=1) and bounds memory at
// 46 MiB per concurrent hash.
func DefaultParams() Params {
	return Params{Time: 3, MemoryKiB: 46 * 1024, Threads: 2, KeyLen: 32, SaltLen: 16}
}

// Validate reports whether p lies within the accepted bounds.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("%w: t=%d not in 1..%d", ErrParams, p.Time, MaxTime)
	case p.Threads < 1 || p.Threads > MaxThreads:
		return fmt.Errorf("%w: p=%d not in 1..%d", ErrParams, p.Threads, MaxThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > MaxMemoryKiB:
		return fmt.Errorf("%w: m=%d not in %d..%d", ErrParams, p.MemoryKiB, 8*uint32(p.Threads), MaxMemoryKiB)
	case uint64(p.Time)*uint64(p.MemoryKiB) > maxWork:
		return fmt.Errorf("%w: t×m=%d over %d", ErrParams, uint64(p.Time)*uint64(p.MemoryKiB), maxWork)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("%w: key length %d not in %d..%d", ErrParams, p.KeyLen, MinKeyLen, MaxKeyLen)
	case p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Errorf("%w: salt length %d not in %d..%d", ErrParams, p.SaltLen, MinSaltLen, MaxSaltLen)
	}
	return nil
}

// NeedsRehash reports whether a hash made with p (the parameters Verify
// returns) should be replaced by one made with want, after a successful
// login. Any difference counts, so lowering the cost also takes effect.
func (p Params) NeedsRehash(want Params) bool {
	return p != want
}
