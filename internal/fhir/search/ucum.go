package search

// ucumSystem is the code system of UCUM units.
const ucumSystem = "http://unitsofmeasure.org"

// ucumFactor returns, for a UCUM unit code of mass, length, volume or
// time, its canonical unit (g, m, L, s) and the exact factor k × 10^e
// that converts a value into it. Other units (compound units such as
// mg/dL, mm[Hg], %, /min, and units of other dimensions) are left as
// they are: ok is false. Calendar units use UCUM's definitions: a year
// (a) is 365.25 days and a month (mo) a twelfth of that.
func ucumFactor(code string) (canon string, k int64, e int, ok bool) {
	switch code {
	// mass → g
	case "pg":
		return "g", 1, -12, true
	case "ng":
		return "g", 1, -9, true
	case "ug":
		return "g", 1, -6, true
	case "mg":
		return "g", 1, -3, true
	case "g":
		return "g", 1, 0, true
	case "kg":
		return "g", 1, 3, true
	case "[lb_av]":
		return "g", 45359237, -5, true // 453.59237 g
	case "[oz_av]":
		return "g", 28349523125, -9, true // 28.349523125 g
	// length → m
	case "nm":
		return "m", 1, -9, true
	case "um":
		return "m", 1, -6, true
	case "mm":
		return "m", 1, -3, true
	case "cm":
		return "m", 1, -2, true
	case "dm":
		return "m", 1, -1, true
	case "m":
		return "m", 1, 0, true
	case "km":
		return "m", 1, 3, true
	case "[in_i]":
		return "m", 254, -4, true // 0.0254 m
	case "[ft_i]":
		return "m", 3048, -4, true // 0.3048 m
	// volume → L
	case "uL":
		return "L", 1, -6, true
	case "mL":
		return "L", 1, -3, true
	case "dL":
		return "L", 1, -1, true
	case "L", "l":
		return "L", 1, 0, true
	// time → s
	case "ms":
		return "s", 1, -3, true
	case "s":
		return "s", 1, 0, true
	case "min":
		return "s", 60, 0, true
	case "h":
		return "s", 3600, 0, true
	case "d":
		return "s", 86400, 0, true
	case "wk":
		return "s", 604800, 0, true
	case "mo":
		return "s", 2629800, 0, true
	case "a":
		return "s", 31557600, 0, true
	}
	return "", 0, 0, false
}
