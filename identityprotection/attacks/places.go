package attacks

type city struct {
	name, state, country string
	lat, lon             float64
}

// knownCities are cities bench/gen never uses, in countries it does: travel there is
// unlikely because of its speed, never because the tenant has not seen the country.
var knownCities = []city{
	{"Miami", "Florida", "US", 25.7617, -80.1918},
	{"Los Angeles", "California", "US", 34.0522, -118.2437},
	{"Perth", "Western Australia", "AU", -31.9505, 115.8605},
	{"Osaka", "Osaka", "JP", 34.6937, 135.5023},
	{"Rio de Janeiro", "Rio de Janeiro", "BR", -22.9068, -43.1729},
	{"Mumbai", "Maharashtra", "IN", 19.0760, 72.8777},
	{"Edinburgh", "Scotland", "GB", 55.9533, -3.1883},
	{"Monterrey", "Nuevo Leon", "MX", 25.6866, -100.3161},
	{"Hamburg", "Hamburg", "DE", 53.5511, 9.9937},
	{"Montreal", "Quebec", "CA", 45.5019, -73.5674},
}

// newCities are in countries bench/gen never uses.
var newCities = []city{
	{"Reykjavik", "Capital Region", "IS", 64.1466, -21.9426},
	{"Nairobi", "Nairobi", "KE", -1.2921, 36.8219},
	{"Cairo", "Cairo", "EG", 30.0444, 31.2357},
	{"Lima", "Lima", "PE", -12.0464, -77.0428},
	{"Bogota", "Bogota", "CO", 4.7110, -74.0721},
	{"Buenos Aires", "Buenos Aires", "AR", -34.6037, -58.3816},
	{"Santiago", "Santiago Metropolitan", "CL", -33.4489, -70.6693},
	{"Athens", "Attica", "GR", 37.9838, 23.7275},
	{"Lisbon", "Lisboa", "PT", 38.7223, -9.1393},
	{"Vienna", "Wien", "AT", 48.2082, 16.3738},
	{"Prague", "Praha", "CZ", 50.0755, 14.4378},
	{"Helsinki", "Uusimaa", "FI", 60.1699, 24.9384},
	{"Oslo", "Oslo", "NO", 59.9139, 10.7522},
	{"Copenhagen", "Hovedstaden", "DK", 55.6761, 12.5683},
	{"Brussels", "Brussels", "BE", 50.8503, 4.3517},
	{"Budapest", "Budapest", "HU", 47.4979, 19.0402},
	{"Istanbul", "Istanbul", "TR", 41.0082, 28.9784},
	{"Dubai", "Dubai", "AE", 25.2048, 55.2708},
	{"Seoul", "Seoul", "KR", 37.5665, 126.9780},
	{"Manila", "Metro Manila", "PH", 14.5995, 120.9842},
	{"Bangkok", "Bangkok", "TH", 13.7563, 100.5018},
	{"Auckland", "Auckland", "NZ", -36.8485, 174.7633},
	{"Cape Town", "Western Cape", "ZA", -33.9249, 18.4241},
	{"Casablanca", "Casablanca-Settat", "MA", 33.5731, -7.5898},
}

// hostingASNs are cloud and VPS networks no generated user signs in from; each
// unfamiliar-properties scenario uses its own, as distinct attackers would.
var hostingASNs = []int{13335, 16509, 14061, 24940, 63949, 20473, 9009, 60068, 51167, 212238, 8075, 15169, 396982, 45102, 31898, 49981, 44477, 57043, 62240, 136787}
