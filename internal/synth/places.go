package synth

// Places written for this project: real US cities with a plausible ZIP
// prefix, telephone area code and standard-time UTC offset, so that an
// address, its phone number and its timestamps agree. House numbers,
// streets and the last two ZIP digits are drawn at random, so the
// addresses are fictitious. Read-only.

// city is one place patients live in.
type city struct {
	weight int
	name   string
	state  string // USPS code
	fips   int    // state FIPS code, for the driver's licence system OID
	zip3   string // first three ZIP digits
	area   string // telephone area code
	tz     int    // UTC offset in minutes, standard time
}

const (
	tzEastern  = -300
	tzCentral  = -360
	tzMountain = -420
	tzPacific  = -480
	tzAlaska   = -540
	tzHawaii   = -600
)

var cities = []city{
	{30, "Boston", "MA", 25, "021", "617", tzEastern},
	{12, "Worcester", "MA", 25, "016", "508", tzEastern},
	{8, "Springfield", "MA", 25, "011", "413", tzEastern},
	{40, "New York", "NY", 36, "100", "212", tzEastern},
	{30, "Brooklyn", "NY", 36, "112", "718", tzEastern},
	{8, "Buffalo", "NY", 36, "142", "716", tzEastern},
	{20, "Philadelphia", "PA", 42, "191", "215", tzEastern},
	{8, "Pittsburgh", "PA", 42, "152", "412", tzEastern},
	{30, "Chicago", "IL", 17, "606", "312", tzCentral},
	{30, "Houston", "TX", 48, "770", "713", tzCentral},
	{15, "San Antonio", "TX", 48, "782", "210", tzCentral},
	{8, "El Paso", "TX", 48, "799", "915", tzMountain},
	{40, "Los Angeles", "CA", 6, "900", "213", tzPacific},
	{12, "San José", "CA", 6, "951", "408", tzPacific},
	{10, "San Francisco", "CA", 6, "941", "415", tzPacific},
	{6, "Fresno", "CA", 6, "937", "559", tzPacific},
	{10, "Seattle", "WA", 53, "981", "206", tzPacific},
	{4, "Spokane", "WA", 53, "992", "509", tzPacific},
	{10, "Miami", "FL", 12, "331", "305", tzEastern},
	{8, "Orlando", "FL", 12, "328", "407", tzEastern},
	{10, "Atlanta", "GA", 13, "303", "404", tzEastern},
	{10, "Denver", "CO", 8, "802", "303", tzMountain},
	{2, "Cañon City", "CO", 8, "812", "719", tzMountain},
	{2, "Española", "NM", 35, "875", "505", tzMountain},
	{6, "Albuquerque", "NM", 35, "871", "505", tzMountain},
	{16, "Phoenix", "AZ", 4, "850", "602", tzMountain},
	{6, "Tucson", "AZ", 4, "857", "520", tzMountain},
	{8, "Detroit", "MI", 26, "482", "313", tzEastern},
	{6, "Minneapolis", "MN", 27, "554", "612", tzCentral},
	{4, "St. Louis", "MO", 29, "631", "314", tzCentral},
	{5, "Kansas City", "MO", 29, "641", "816", tzCentral},
	{5, "New Orleans", "LA", 22, "701", "504", tzCentral},
	{7, "Nashville", "TN", 47, "372", "615", tzCentral},
	{8, "Charlotte", "NC", 37, "282", "704", tzEastern},
	{6, "Baltimore", "MD", 24, "212", "410", tzEastern},
	{4, "Honolulu", "HI", 15, "968", "808", tzHawaii},
	{3, "Anchorage", "AK", 2, "995", "907", tzAlaska},
	{6, "Portland", "OR", 41, "972", "503", tzPacific},
	{5, "Salt Lake City", "UT", 49, "841", "801", tzMountain},
	{3, "Boise", "ID", 16, "837", "208", tzMountain},
	{3, "Des Moines", "IA", 19, "503", "515", tzCentral},
	{4, "Omaha", "NE", 31, "681", "402", tzCentral},
	{5, "Louisville", "KY", 21, "402", "502", tzEastern},
	{8, "Columbus", "OH", 39, "432", "614", tzEastern},
	{8, "Indianapolis", "IN", 18, "462", "317", tzEastern},
	{5, "Milwaukee", "WI", 55, "532", "414", tzCentral},
	{2, "Burlington", "VT", 50, "054", "802", tzEastern},
	{2, "Portland", "ME", 23, "041", "207", tzEastern},
	{3, "Providence", "RI", 44, "029", "401", tzEastern},
	{3, "Hartford", "CT", 9, "061", "860", tzEastern},
	{5, "Newark", "NJ", 34, "071", "973", tzEastern},
	{4, "Richmond", "VA", 51, "232", "804", tzEastern},
	{8, "Las Vegas", "NV", 32, "891", "702", tzPacific},
}

var streetNames = []string{
	"Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine", "Walnut",
	"Sunset", "Highland", "Lincoln", "Jackson", "Franklin", "Chestnut", "Willow", "Church", "Spring",
	"Mill", "River", "Madison", "Jefferson", "Ridge", "Meadow", "Forest", "Harbor", "Prospect",
	"Dolores", "Alameda", "Peña", "Saint-Laurent", "Martin Luther King Jr.", "Kamehameha", "Ocotillo",
}

var streetSuffixes = []string{"St", "Ave", "Rd", "Ln", "Blvd", "Way", "Ct", "Dr", "Pl", "Ter"}
