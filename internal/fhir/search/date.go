package search

import "time"

// DateRange returns the instants a FHIR date, dateTime or instant covers
// at its precision, as [low, high) in UTC: `2013` is the whole year,
// `2013-01` the month, `2013-01-14` the day, `2013-01-14T10:00:00Z` the
// second and `2013-01-14T10:00:00.25Z` the hundredth of a second. Search
// values may also give minutes (`2013-01-14T10:00Z`). A value without a
// time zone is taken as UTC. ok is false when s is not such a value.
func DateRange(s string) (low, high time.Time, ok bool) {
	var d dateParts
	if !d.parse(s) {
		return time.Time{}, time.Time{}, false
	}
	low = time.Date(d.year, time.Month(d.month), d.day, d.hour, d.min, d.sec, d.nsec, time.UTC)
	switch d.prec {
	case precYear:
		high = low.AddDate(1, 0, 0)
	case precMonth:
		high = low.AddDate(0, 1, 0)
	case precDay:
		high = low.AddDate(0, 0, 1)
	case precMinute:
		high = low.Add(time.Minute)
	case precSecond:
		high = low.Add(time.Second)
	default: // fractional seconds: one unit of the last digit
		unit := time.Duration(1)
		for i := d.prec - precSecond; i < 9; i++ {
			unit *= 10
		}
		high = low.Add(unit)
	}
	// The offset shifts the range; dates without a time stay in UTC.
	off := time.Duration(d.offset) * time.Minute
	return low.Add(-off), high.Add(-off), true
}

// Precisions of a date; fractional seconds count their digits above
// precSecond (precSecond+3 is milliseconds).
const (
	precYear = iota + 1
	precMonth
	precDay
	precMinute
	precSecond
)

type dateParts struct {
	year, month, day, hour, min, sec, nsec int
	prec                                   int
	offset                                 int // minutes east of UTC
}

// parse reads YYYY[-MM[-DD[Thh:mm[:ss[.f+]][Z|±hh:mm]]]].
func (d *dateParts) parse(s string) bool {
	d.month, d.day = 1, 1
	i := 0
	num := func(n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		i += n
		return v, true
	}
	sep := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	var ok bool
	if d.year, ok = num(4); !ok {
		return false
	}
	d.prec = precYear
	if !sep('-') {
		return i == len(s)
	}
	if d.month, ok = num(2); !ok || d.month < 1 || d.month > 12 {
		return false
	}
	d.prec = precMonth
	if !sep('-') {
		return i == len(s)
	}
	if d.day, ok = num(2); !ok || d.day < 1 || d.day > daysIn(d.year, d.month) {
		return false
	}
	d.prec = precDay
	if !sep('T') {
		return i == len(s)
	}
	if d.hour, ok = num(2); !ok || d.hour > 23 || !sep(':') {
		return false
	}
	if d.min, ok = num(2); !ok || d.min > 59 {
		return false
	}
	d.prec = precMinute
	if sep(':') {
		if d.sec, ok = num(2); !ok || d.sec > 60 {
			return false
		}
		d.prec = precSecond
		if sep('.') {
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				if i-start < 9 {
					d.nsec = d.nsec*10 + int(s[i]-'0')
				}
				i++
			}
			digits := min(i-start, 9)
			if i == start {
				return false
			}
			for k := digits; k < 9; k++ {
				d.nsec *= 10
			}
			d.prec = precSecond + digits
		}
	}
	switch {
	case i == len(s):
		return true
	case sep('Z'):
		return i == len(s)
	case s[i] == '+' || s[i] == '-':
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		i++
		h, ok1 := num(2)
		ok2 := sep(':')
		m, ok3 := num(2)
		if !ok1 || !ok2 || !ok3 || h > 14 || m > 59 || i != len(s) {
			return false
		}
		d.offset = sign * (h*60 + m)
		return true
	}
	return false
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
