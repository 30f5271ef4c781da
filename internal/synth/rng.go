package synth

import "math/bits"

// Randomness is a SplitMix64 stream per patient and per section, written
// here rather than taken from math/rand/v2 because the byte-for-byte
// output is a promise: our own arithmetic cannot change under a Go
// release. All draws are integer, so no platform's floating point (or
// fused multiply-add) can change a value either.

// golden is 2^64 divided by the golden ratio, the SplitMix64 increment.
const golden = 0x9e3779b97f4a7c15

// mix64 is the SplitMix64 finaliser: a bijective, well-mixing 64-bit hash.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Sections of a patient's data, each drawn from its own stream so that
// changing one count (say observations) leaves the others unchanged.
const (
	streamDemographics = iota + 1
	streamEncounters
	streamConditions
	streamObservations
	streamMedications
	streamNotes
)

// rng is a SplitMix64 generator. The zero value is usable but every
// stream here is seeded by newRNG.
type rng struct{ s uint64 }

// newRNG returns the stream for one section of one patient.
func newRNG(patientSeed uint64, stream int) rng {
	return rng{s: mix64(patientSeed ^ uint64(stream)*golden)}
}

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// intn returns a value in [0, n) by multiply-shift (Lemire); the bias,
// at most n/2^64, is far below anything a benchmark data set can show.
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi], both included.
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance is true with probability pct/100.
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

// normal approximates a normal distribution of mean and standard
// deviation sd with the sum of three uniform draws on [-sd, sd]
// (variance sd², bounded to mean ± 3sd), in integers.
func (r *rng) normal(mean, sd int) int {
	if sd <= 0 {
		return mean
	}
	return mean + r.between(-sd, sd) + r.between(-sd, sd) + r.between(-sd, sd)
}

// pick returns a uniformly chosen element of s, which must not be empty.
func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// weighted returns an index in [0, n) chosen with probability
// proportional to weight(i), or -1 when every weight is 0.
func (r *rng) weighted(n int, weight func(i int) int) int {
	total := 0
	for i := range n {
		total += weight(i)
	}
	if total <= 0 {
		return -1
	}
	x := r.intn(total)
	for i := range n {
		w := weight(i)
		if x < w {
			return i
		}
		x -= w
	}
	return n - 1 // unreachable
}

// uuid is a version 4 (random) UUID whose bits come from a hash, not a
// random source, so the same patient, type and index always give it.
type uuid [16]byte

// newUUID derives the UUID of the k-th resource of a kind for a patient.
func newUUID(patientSeed uint64, kind, k int) uuid {
	a := mix64(patientSeed ^ mix64(uint64(kind)<<32|uint64(uint32(k))))
	b := mix64(a + golden)
	var u uuid
	for i := range 8 {
		u[i] = byte(a >> (56 - 8*i))
		u[8+i] = byte(b >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// append writes the canonical 8-4-4-4-12 lower-case form.
func (u uuid) append(dst []byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&0xf])
	}
	return dst
}

// String returns the canonical form.
func (u uuid) String() string { return string(u.append(make([]byte, 0, 36))) }
