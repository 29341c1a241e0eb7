package gen

// Name lists for user principal names and display names. They are ASCII so
// UPNs stay valid; apostrophes exercise string handling downstream.
var firstNames = []string{
	"Avery", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Sofia", "Lucas", "Amara", "Ethan",
	"Mia", "Arjun", "Priya", "Chen", "Wei", "Yuki", "Hiro", "Fatima", "Omar", "Lena",
	"Jonas", "Elena", "Marco", "Giulia", "Pierre", "Camille", "Sven", "Ingrid", "Diego", "Lucia",
	"Kwame", "Ama", "Tariq", "Leila", "Nikhil", "Ananya", "Hannah", "Jacob", "Grace", "Daniel",
	"Chloe", "Samuel", "Zoe", "Isaac", "Nora", "Felix", "Maya", "Oscar", "Aisha", "Tomas",
	"Adele", "Alex", "Megan", "Nestor", "Patti", "Lynne", "Isaiah", "Johanna", "Lidia", "Pradeep",
}

var lastNames = []string{
	"Chen", "Smith", "Johnson", "Garcia", "Muller", "Rossi", "Dubois", "Kowalski", "Nakamura", "Kim",
	"Patel", "Singh", "Okafor", "Mensah", "Haddad", "Novak", "Larsen", "Andersson", "Silva", "Santos",
	"Williams", "Brown", "Jones", "Miller", "Davis", "Martinez", "Lopez", "Wilson", "Anderson", "Taylor",
	"Thomas", "Moore", "Martin", "Lee", "Walker", "Hall", "Young", "Allen", "King", "Wright",
	"O'Brien", "Fischer", "Weber", "Schneider", "Bernard", "Petit", "Moreau", "Ivanova", "Tanaka", "Sato",
	"Vance", "Wilber", "Bowen", "Diaz", "Fernandes", "Lambert", "Sanchez", "Hughes", "Kapoor", "Nguyen",
}

// city is a sign-in location with real coordinates; isp indexes the
// country's residential ISPs used for home IP pools.
type city struct {
	name, state, country string
	lat, long            float64
}

var cities = []city{
	{"Redmond", "Washington", "US", 47.6805, -122.1209},
	{"Seattle", "Washington", "US", 47.6062, -122.3321},
	{"New York", "New York", "US", 40.7128, -74.0060},
	{"Chicago", "Illinois", "US", 41.8781, -87.6298},
	{"Austin", "Texas", "US", 30.2672, -97.7431},
	{"San Francisco", "California", "US", 37.7749, -122.4194},
	{"Atlanta", "Georgia", "US", 33.7490, -84.3880},
	{"Boston", "Massachusetts", "US", 42.3601, -71.0589},
	{"Toronto", "Ontario", "CA", 43.6532, -79.3832},
	{"Vancouver", "British Columbia", "CA", 49.2827, -123.1207},
	{"London", "England", "GB", 51.5074, -0.1278},
	{"Manchester", "England", "GB", 53.4808, -2.2426},
	{"Dublin", "Dublin", "IE", 53.3498, -6.2603},
	{"Paris", "Ile-de-France", "FR", 48.8566, 2.3522},
	{"Lyon", "Auvergne-Rhone-Alpes", "FR", 45.7640, 4.8357},
	{"Berlin", "Berlin", "DE", 52.5200, 13.4050},
	{"München", "Bayern", "DE", 48.1351, 11.5820},
	{"Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041},
	{"Zürich", "Zurich", "CH", 47.3769, 8.5417},
	{"Madrid", "Madrid", "ES", 40.4168, -3.7038},
	{"Milan", "Lombardia", "IT", 45.4642, 9.1900},
	{"Stockholm", "Stockholm", "SE", 59.3293, 18.0686},
	{"Warsaw", "Mazowieckie", "PL", 52.2297, 21.0122},
	{"Bengaluru", "Karnataka", "IN", 12.9716, 77.5946},
	{"Hyderabad", "Telangana", "IN", 17.3850, 78.4867},
	{"Singapore", "Singapore", "SG", 1.3521, 103.8198},
	{"Tokyo", "Tokyo", "JP", 35.6762, 139.6503},
	{"Sydney", "New South Wales", "AU", -33.8688, 151.2093},
	{"São Paulo", "Sao Paulo", "BR", -23.5505, -46.6333},
	{"Mexico City", "Distrito Federal", "MX", 19.4326, -99.1332},
}

// foreignCities are locations outside the tenant's allowed countries; sign-ins
// from them trip the "Block access outside allowed countries" policy.
var foreignCities = []city{
	{"Lagos", "Lagos", "NG", 6.5244, 3.3792},
	{"Moscow", "Moscow", "RU", 55.7558, 37.6173},
	{"Ho Chi Minh City", "Ho Chi Minh", "VN", 10.8231, 106.6297},
	{"Bucharest", "Bucuresti", "RO", 44.4268, 26.1025},
	{"Jakarta", "Jakarta", "ID", -6.2088, 106.8456},
}

// isp is a residential/mobile network: a plausible IPv4 first octet block,
// an IPv6 /32-ish prefix and its autonomous system number.
type isp struct {
	country string
	v4      [2]byte
	v6      string
	asn     int32
}

var isps = []isp{
	{"US", [2]byte{73, 0}, "2601:", 7922},
	{"US", [2]byte{71, 0}, "2600:1700:", 7018},
	{"US", [2]byte{174, 0}, "2600:1001:", 22394},
	{"CA", [2]byte{99, 224}, "2607:fea8:", 812},
	{"GB", [2]byte{86, 128}, "2a00:23c5:", 2856},
	{"IE", [2]byte{89, 100}, "2a02:8084:", 6830},
	{"FR", [2]byte{90, 0}, "2a01:cb00:", 3215},
	{"DE", [2]byte{79, 192}, "2003:e6:", 3320},
	{"NL", [2]byte{84, 80}, "2001:1c00:", 33915},
	{"CH", [2]byte{178, 192}, "2a02:1210:", 3303},
	{"ES", [2]byte{88, 0}, "2a0c:5a80:", 3352},
	{"IT", [2]byte{93, 32}, "2001:b07:", 3269},
	{"SE", [2]byte{90, 224}, "2001:9b1:", 3301},
	{"PL", [2]byte{83, 0}, "2a01:110f:", 5617},
	{"IN", [2]byte{122, 160}, "2401:4900:", 24560},
	{"SG", [2]byte{116, 86}, "2406:3003:", 9506},
	{"JP", [2]byte{126, 0}, "2400:4050:", 4713},
	{"AU", [2]byte{120, 144}, "2001:8003:", 1221},
	{"BR", [2]byte{177, 0}, "2804:14c:", 28573},
	{"MX", [2]byte{187, 128}, "2806:2f0:", 8151},
	{"NG", [2]byte{105, 112}, "2c0f:f5c0:", 29465},
	{"RU", [2]byte{95, 24}, "2a00:1fa0:", 12389},
	{"VN", [2]byte{113, 160}, "2402:800:", 7552},
	{"RO", [2]byte{86, 120}, "2a02:2f0c:", 8708},
	{"ID", [2]byte{114, 120}, "2001:448a:", 7713},
}

// ispsByCountry is built once from isps; indexes are stable because isps is
// a slice literal.
var ispsByCountry = func() map[string][]int {
	m := make(map[string][]int)
	for i, p := range isps {
		m[p.country] = append(m[p.country], i)
	}
	return m
}()

// Guest home tenants: cross-tenant (B2B) users come from these directories.
var guestDomains = []string{"fabrikam.com", "northwindtraders.com", "adatum.com", "tailspintoys.com", "wingtiptoys.com", "litware.com"}
