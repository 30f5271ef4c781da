package synth

import "time"

// Resources are written as compact JSON by appending to a byte slice:
// fixed key order, no reflection and no maps, so output is byte-stable
// and generation stays far from being the bottleneck of a load test.

// style says how a resource is written.
type style uint8

const (
	// styleREST carries the id and refers to others as Type/<id>.
	styleREST style = iota
	// styleBundle omits the id and refers to others as urn:uuid:<id>,
	// the fullUrl of their transaction entry.
	styleBundle
)

// appendHead opens a resource: resourceType, then the id in REST style.
func appendHead(dst []byte, typ string, id uuid, st style) []byte {
	dst = append(dst, `{"resourceType":"`...)
	dst = append(dst, typ...)
	dst = append(dst, '"')
	if st == styleREST {
		dst = append(dst, `,"id":"`...)
		dst = id.append(dst)
		dst = append(dst, '"')
	}
	return dst
}

// appendRef appends a Reference object to the resource typ/id.
func appendRef(dst []byte, typ string, id uuid, st style) []byte {
	dst = append(dst, `{"reference":"`...)
	if st == styleBundle {
		dst = append(dst, "urn:uuid:"...)
	} else {
		dst = append(dst, typ...)
		dst = append(dst, '/')
	}
	dst = id.append(dst)
	return append(dst, `"}`...)
}

// appendDisplayRef appends a Reference that only names its target, for
// people and organisations the data set does not hold as resources.
func appendDisplayRef(dst []byte, display string) []byte {
	dst = append(dst, `{"display":`...)
	dst = appendString(dst, display)
	return append(dst, '}')
}

// appendCoding appends a Coding object.
func appendCoding(dst []byte, system, code, display string) []byte {
	dst = append(dst, `{"system":"`...)
	dst = append(dst, system...)
	dst = append(dst, `","code":`...)
	dst = appendString(dst, code)
	if display != "" {
		dst = append(dst, `,"display":`...)
		dst = appendString(dst, display)
	}
	return append(dst, '}')
}

// appendConcept appends a CodeableConcept of one coding, with the
// display repeated as text when text is true.
func appendConcept(dst []byte, system, code, display string, text bool) []byte {
	dst = append(dst, `{"coding":[`...)
	dst = appendCoding(dst, system, code, display)
	dst = append(dst, ']')
	if text && display != "" {
		dst = append(dst, `,"text":`...)
		dst = appendString(dst, display)
	}
	return append(dst, '}')
}

// appendQuantity appends a UCUM Quantity whose value is v·10^-scale.
func appendQuantity(dst []byte, v, scale int, unit, code string) []byte {
	dst = append(dst, `{"value":`...)
	dst = appendScaled(dst, v, scale)
	dst = append(dst, `,"unit":`...)
	dst = appendString(dst, unit)
	dst = append(dst, `,"system":"`...)
	dst = append(dst, sysUCUM...)
	dst = append(dst, `","code":`...)
	dst = appendString(dst, code)
	return append(dst, '}')
}

// appendString appends s as a JSON string. Only what JSON requires is
// escaped; other characters, non-ASCII included, are written as UTF-8.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendScaled appends v·10^-scale as a decimal with scale digits after
// the point (814, 1 → 81.4; 5, 2 → 0.05).
func appendScaled(dst []byte, v, scale int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	if scale == 0 {
		return appendUint(dst, v, 1)
	}
	p := 1
	for range scale {
		p *= 10
	}
	dst = appendUint(dst, v/p, 1)
	dst = append(dst, '.')
	return appendUint(dst, v%p, scale)
}

// appendUint appends v ≥ 0 in decimal, zero-padded to width digits.
func appendUint(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// Times are kept as local wall-clock times in the UTC location and
// written with the patient's fixed offset (standard time; daylight
// saving is ignored), as an EHR in the patient's town would record them.

// appendDate appends YYYY-MM-DD.
func appendDate(dst []byte, t time.Time) []byte {
	y, m, d := t.Date()
	dst = appendUint(dst, y, 4)
	dst = append(dst, '-')
	dst = appendUint(dst, int(m), 2)
	dst = append(dst, '-')
	return appendUint(dst, d, 2)
}

// appendDateTime appends YYYY-MM-DDThh:mm:ss±hh:mm, valid as a FHIR
// dateTime and instant.
func appendDateTime(dst []byte, t time.Time, tz int) []byte {
	dst = appendDate(dst, t)
	h, m, s := t.Clock()
	dst = append(dst, 'T')
	dst = appendUint(dst, h, 2)
	dst = append(dst, ':')
	dst = appendUint(dst, m, 2)
	dst = append(dst, ':')
	dst = appendUint(dst, s, 2)
	sign := byte('+')
	if tz < 0 {
		sign, tz = '-', -tz
	}
	dst = append(dst, sign)
	dst = appendUint(dst, tz/60, 2)
	dst = append(dst, ':')
	return appendUint(dst, tz%60, 2)
}

// appendQDate appends a quoted date.
func appendQDate(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = appendDate(dst, t)
	return append(dst, '"')
}

// appendQDateTime appends a quoted dateTime.
func appendQDateTime(dst []byte, t time.Time, tz int) []byte {
	dst = append(dst, '"')
	dst = appendDateTime(dst, t, tz)
	return append(dst, '"')
}
