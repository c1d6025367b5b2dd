package sim

import (
	"net/netip"
)

// Place is a city with coordinates and its standard-time UTC offset.
type Place struct {
	City, Region, Country, Postal string
	Lat, Lon                      float64
	// CC is the ISO 3166 country code (Entra's countryOrRegion).
	CC string
	// Offset is the UTC offset in minutes. Daylight saving time is left
	// out: a fixed offset keeps generation independent of tz data.
	Offset int
}

// NetKind classifies networks the way detectors weigh them.
type NetKind string

// Network kinds.
const (
	NetResidential NetKind = "residential" // home and hotel ISPs
	NetCorporate   NetKind = "corporate"   // the organization's own VPN egress
	NetHosting     NetKind = "hosting"     // cloud and VPS providers
	NetProxy       NetKind = "proxy"       // commercial anonymizing VPNs (flagged isProxy)
	NetCloud       NetKind = "cloud"       // AWS addresses of the organization's workloads
	NetPrivate     NetKind = "private"     // VPC-internal addresses (no ASN)
)

// Network is an address block with its owner and location: an ISP, the
// corporate VPN egress, a hosting provider or a VPC subnet.
type Network struct {
	ASN    uint32       `json:"asn,omitempty"`
	Org    string       `json:"as_org,omitempty"` // Okta's securityContext.asOrg
	ISP    string       `json:"isp,omitempty"`
	Domain string       `json:"domain,omitempty"`
	Prefix netip.Prefix `json:"prefix"`
	Kind   NetKind      `json:"kind"`
	// Zone is the Okta network zone / Entra named location the block is
	// in, if any.
	Zone  string `json:"zone,omitempty"`
	Place *Place `json:"-"`
	// City is Place.City, for org.json.
	City string `json:"city,omitempty"`
}

// Proxy reports whether vendors flag the network as an anonymizer.
func (n *Network) Proxy() bool { return n.Kind == NetProxy }

// Places.
var (
	lisbon       = &Place{"Lisbon", "Lisbon", "Portugal", "1000-001", 38.7223, -9.1393, "PT", 0}
	berlin       = &Place{"Berlin", "Berlin", "Germany", "10115", 52.5200, 13.4050, "DE", 60}
	london       = &Place{"London", "England", "United Kingdom", "EC1A", 51.5072, -0.1276, "GB", 0}
	dublin       = &Place{"Dublin", "Leinster", "Ireland", "D01", 53.3498, -6.2603, "IE", 0}
	madrid       = &Place{"Madrid", "Madrid", "Spain", "28001", 40.4168, -3.7038, "ES", 60}
	warsaw       = &Place{"Warsaw", "Mazowieckie", "Poland", "00-001", 52.2297, 21.0122, "PL", 60}
	amsterdam    = &Place{"Amsterdam", "North Holland", "Netherlands", "1012", 52.3676, 4.9041, "NL", 60}
	austin       = &Place{"Austin", "Texas", "United States", "78701", 30.2672, -97.7431, "US", -360}
	seattle      = &Place{"Seattle", "Washington", "United States", "98101", 47.6062, -122.3321, "US", -480}
	chicago      = &Place{"Chicago", "Illinois", "United States", "60601", 41.8781, -87.6298, "US", -360}
	newYork      = &Place{"New York", "New York", "United States", "10001", 40.7128, -74.0060, "US", -300}
	toronto      = &Place{"Toronto", "Ontario", "Canada", "M5H", 43.6532, -79.3832, "CA", -300}
	denver       = &Place{"Denver", "Colorado", "United States", "80202", 39.7392, -104.9903, "US", -420}
	boston       = &Place{"Boston", "Massachusetts", "United States", "02108", 42.3601, -71.0589, "US", -300}
	tokyo        = &Place{"Tokyo", "Tokyo", "Japan", "100-0001", 35.6762, 139.6503, "JP", 540}
	singapore    = &Place{"Singapore", "Singapore", "Singapore", "018989", 1.3521, 103.8198, "SG", 480}
	saoPaulo     = &Place{"Sao Paulo", "Sao Paulo", "Brazil", "01000-000", -23.5505, -46.6333, "BR", -180}
	sanFrancisco = &Place{"San Francisco", "California", "United States", "94103", 37.7749, -122.4194, "US", -480}
	paris        = &Place{"Paris", "Ile-de-France", "France", "75001", 48.8566, 2.3522, "FR", 60}
	frankfurt    = &Place{"Frankfurt am Main", "Hesse", "Germany", "60311", 50.1109, 8.6821, "DE", 60}
	ashburn      = &Place{"Ashburn", "Virginia", "United States", "20147", 39.0438, -77.4874, "US", -300}
	losAngeles   = &Place{"Los Angeles", "California", "United States", "90012", 34.0522, -118.2437, "US", -480}
	jakarta      = &Place{"Jakarta", "Jakarta", "Indonesia", "10110", -6.2088, 106.8456, "ID", 420}
	lagos        = &Place{"Lagos", "Lagos", "Nigeria", "100001", 6.5244, 3.3792, "NG", 60}
	bucharest    = &Place{"Bucharest", "Bucuresti", "Romania", "010011", 44.4268, 26.1025, "RO", 120}
	roubaix      = &Place{"Roubaix", "Hauts-de-France", "France", "59100", 50.6942, 3.1746, "FR", 60}
	clifton      = &Place{"Clifton", "New Jersey", "United States", "07014", 40.8584, -74.1638, "US", -300}
)

// homePlaces are where people live, with the weight of each.
var homePlaces = []struct {
	p *Place
	w int
}{
	{lisbon, 9}, {berlin, 9}, {london, 10}, {dublin, 5}, {madrid, 5}, {warsaw, 6}, {amsterdam, 6},
	{austin, 8}, {seattle, 8}, {chicago, 7}, {newYork, 10}, {toronto, 6}, {denver, 5}, {boston, 6},
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func isp(asn uint32, org, name, domain, prefix string, pl *Place) *Network {
	return &Network{ASN: asn, Org: org, ISP: name, Domain: domain, Prefix: pfx(prefix), Kind: NetResidential, Place: pl, City: pl.City}
}

// ISPs by city: two home ISPs for each home city, one hotel/local ISP for
// each travel destination, and residential blocks attackers borrow.
var ispsByCity = map[*Place][]*Network{
	lisbon: {
		isp(3243, "meo", "meo - servicos de comunicacoes e multimedia s.a.", "meo.pt", "85.240.0.0/13", lisbon),
		isp(2860, "nos comunicacoes", "nos comunicacoes, s.a.", "nos.pt", "188.80.0.0/13", lisbon),
	},
	berlin: {
		isp(3320, "deutsche telekom ag", "deutsche telekom ag", "telekom.de", "79.192.0.0/10", berlin),
		isp(3209, "vodafone gmbh", "vodafone gmbh", "vodafone.de", "88.64.0.0/12", berlin),
	},
	london: {
		isp(2856, "british telecommunications plc", "bt", "bt.com", "86.128.0.0/10", london),
		isp(5089, "virgin media limited", "virgin media", "virginmedia.com", "81.96.0.0/12", london),
	},
	dublin: {
		isp(5466, "eircom limited", "eir", "eir.ie", "86.40.0.0/13", dublin),
		isp(6830, "liberty global b.v.", "virgin media ireland", "virginmedia.ie", "89.100.0.0/14", dublin),
	},
	madrid: {
		isp(3352, "telefonica de espana", "telefonica", "telefonica.es", "83.32.0.0/11", madrid),
		isp(12479, "orange espagne sa", "orange espagne", "orange.es", "90.160.0.0/11", madrid),
	},
	warsaw: {
		isp(5617, "orange polska spolka akcyjna", "orange polska", "orange.pl", "83.0.0.0/11", warsaw),
		isp(12741, "netia sa", "netia", "netia.pl", "77.112.0.0/13", warsaw),
	},
	amsterdam: {
		isp(1136, "kpn b.v.", "kpn", "kpn.com", "77.160.0.0/12", amsterdam),
		isp(33915, "vodafone libertel b.v.", "ziggo", "ziggo.nl", "84.24.0.0/13", amsterdam),
	},
	austin: {
		isp(7018, "at&t services, inc.", "at&t", "att.net", "99.0.0.0/11", austin),
		isp(11427, "charter communications inc", "spectrum", "rr.com", "70.112.0.0/13", austin),
	},
	seattle: {
		isp(7922, "comcast cable communications, llc", "comcast cable", "comcast.net", "73.96.0.0/12", seattle),
		isp(209, "centurylink communications, llc", "centurylink", "centurylink.net", "75.160.0.0/13", seattle),
	},
	chicago: {
		isp(7922, "comcast cable communications, llc", "comcast cable", "comcast.net", "73.32.0.0/12", chicago),
		isp(7018, "at&t services, inc.", "at&t", "att.net", "99.32.0.0/12", chicago),
	},
	newYork: {
		isp(701, "verizon business", "verizon fios", "verizon.net", "71.160.0.0/12", newYork),
		isp(12271, "charter communications inc", "spectrum", "rr.com", "24.160.0.0/12", newYork),
	},
	toronto: {
		isp(812, "rogers communications canada inc.", "rogers", "rogers.com", "99.224.0.0/11", toronto),
		isp(577, "bell canada", "bell canada", "bell.ca", "70.48.0.0/13", toronto),
	},
	denver: {
		isp(7922, "comcast cable communications, llc", "comcast cable", "comcast.net", "73.160.0.0/12", denver),
		isp(209, "centurylink communications, llc", "centurylink", "centurylink.net", "75.168.0.0/13", denver),
	},
	boston: {
		isp(7922, "comcast cable communications, llc", "comcast cable", "comcast.net", "73.64.0.0/12", boston),
		isp(701, "verizon business", "verizon fios", "verizon.net", "71.176.0.0/12", boston),
	},
	tokyo:        {isp(4713, "ntt communications corporation", "ocn", "ocn.ne.jp", "60.32.0.0/12", tokyo)},
	singapore:    {isp(9506, "singtel fibre broadband", "singnet", "singnet.com.sg", "116.14.0.0/15", singapore)},
	saoPaulo:     {isp(26599, "telefonica brasil s.a", "vivo", "vivo.com.br", "177.32.0.0/12", saoPaulo)},
	sanFrancisco: {isp(7922, "comcast cable communications, llc", "comcast cable", "comcast.net", "73.192.0.0/12", sanFrancisco)},
	paris:        {isp(3215, "orange s.a.", "orange", "orange.fr", "90.0.0.0/12", paris)},
	jakarta:      {isp(7713, "pt telekomunikasi indonesia", "telkom indonesia", "telkom.net.id", "180.240.0.0/13", jakarta)},
	lagos:        {isp(29465, "mtn nigeria communication limited", "mtn nigeria", "mtnnigeria.net", "102.88.0.0/16", lagos)},
}

// travelPlaces are destinations of business trips (besides other home
// cities).
var travelPlaces = []*Place{tokyo, singapore, saoPaulo, sanFrancisco, paris, newYork, london, berlin, austin, amsterdam}

// The corporate VPN egress, in documentation address space and a
// documentation ASN so that nobody mistakes it for a real network.
var (
	corpUS = &Network{ASN: 64500, Org: "example corp", ISP: "example corp", Domain: "example.com",
		Prefix: pfx("192.0.2.0/25"), Kind: NetCorporate, Zone: "Corporate VPN", Place: ashburn, City: ashburn.City}
	corpEU = &Network{ASN: 64500, Org: "example corp", ISP: "example corp", Domain: "example.com",
		Prefix: pfx("192.0.2.128/25"), Kind: NetCorporate, Zone: "Corporate VPN", Place: frankfurt, City: frankfurt.City}
)

func hosting(asn uint32, org, domain, prefix string, pl *Place) *Network {
	return &Network{ASN: asn, Org: org, ISP: org, Domain: domain, Prefix: pfx(prefix), Kind: NetHosting, Place: pl, City: pl.City}
}

// Hosting providers attackers rent from, and a commercial VPN that Okta
// flags as a proxy.
var (
	doFRA   = hosting(14061, "digitalocean, llc", "digitalocean.com", "167.99.0.0/16", frankfurt)
	doNYC   = hosting(14061, "digitalocean, llc", "digitalocean.com", "159.89.0.0/16", clifton)
	vultr   = hosting(20473, "the constant company, llc", "vultr.com", "45.77.0.0/16", amsterdam)
	ovh     = hosting(16276, "ovh sas", "ovh.net", "51.75.0.0/16", roubaix)
	m247    = hosting(9009, "m247 europe srl", "m247.com", "185.156.172.0/22", bucharest)
	nordLA  = &Network{ASN: 60068, Org: "datacamp limited", ISP: "datacamp limited", Domain: "datacamp.co.uk", Prefix: pfx("212.102.32.0/20"), Kind: NetProxy, Place: losAngeles, City: losAngeles.City}
	nordAMS = &Network{ASN: 60068, Org: "datacamp limited", ISP: "datacamp limited", Domain: "datacamp.co.uk", Prefix: pfx("212.102.48.0/20"), Kind: NetProxy, Place: amsterdam, City: amsterdam.City}
)

// AWS address space of the organization's workloads and of a SaaS
// integration.
var (
	awsEUW1    = &Network{ASN: 16509, Org: "amazon.com, inc.", ISP: "amazon.com", Domain: "amazonaws.com", Prefix: pfx("52.16.0.0/15"), Kind: NetCloud, Place: dublin, City: dublin.City}
	awsUSE1    = &Network{ASN: 14618, Org: "amazon-aes", ISP: "amazon.com", Domain: "amazonaws.com", Prefix: pfx("3.208.0.0/12"), Kind: NetCloud, Place: ashburn, City: ashburn.City}
	vpcEUW1    = &Network{Prefix: pfx("10.20.0.0/16"), Kind: NetPrivate, Place: dublin, City: dublin.City}
	vpcUSE1    = &Network{Prefix: pfx("10.30.0.0/16"), Kind: NetPrivate, Place: ashburn, City: ashburn.City}
	saasUSE1   = &Network{ASN: 14618, Org: "amazon-aes", ISP: "amazon.com", Domain: "amazonaws.com", Prefix: pfx("3.233.144.0/20"), Kind: NetCloud, Place: ashburn, City: ashburn.City}
	awsService = &Network{Kind: NetCloud} // calls made by AWS services ("ec2.amazonaws.com")
)

// allNetworks lists every block the simulator draws addresses from, for
// org.json and the overlap test.
func allNetworks() []*Network {
	var out []*Network
	for _, hp := range homePlaces {
		out = append(out, ispsByCity[hp.p]...)
	}
	for _, pl := range []*Place{tokyo, singapore, saoPaulo, sanFrancisco, paris, jakarta, lagos} {
		out = append(out, ispsByCity[pl]...)
	}
	return append(out, corpUS, corpEU, doFRA, doNYC, vultr, ovh, m247, nordLA, nordAMS,
		awsEUW1, awsUSE1, saasUSE1, vpcEUW1, vpcUSE1)
}

// corpEgressFor returns the VPN concentrator nearest to a home.
func corpEgressFor(pl *Place) *Network {
	if pl.Lon < -30 {
		return corpUS
	}
	return corpEU
}

// Devices: user agents per OS and browser, with Okta's and Entra's own
// names for them. Browser versions change mid-simulation (an update
// changes the string, never the family).
type uaTemplate struct {
	os, browser         string // useragent families
	oktaOS, oktaBrowser string
	entraOS             string
	format              string // %d is the major version
	v0                  int
}

var uaTemplates = []uaTemplate{
	{"macOS", "Chrome", "Mac OS X", "CHROME", "MacOs", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 132},
	{"macOS", "Safari", "Mac OS X", "SAFARI", "MacOs", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.2 Safari/605.1.15", 18},
	{"macOS", "Firefox", "Mac OS X", "FIREFOX", "MacOs", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:%d.0) Gecko/20100101 Firefox/%d.0", 134},
	{"Windows", "Edge", "Windows 10", "EDGE_CHROMIUM", "Windows10", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.0.0", 132},
	{"Windows", "Chrome", "Windows 10", "CHROME", "Windows10", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 132},
	{"Windows", "Firefox", "Windows 10", "FIREFOX", "Windows10", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", 134},
	{"Linux", "Chrome", "Linux", "CHROME", "Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 132},
	{"Linux", "Firefox", "Linux", "FIREFOX", "Linux", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", 134},
}

// Indexes into uaTemplates by weight: mostly Macs with Chrome, then
// Windows with Edge.
var uaWeights = []int{30, 8, 5, 20, 12, 4, 4, 2}

// App is an application people sign on to through Okta.
type App struct {
	ID, Name, Label string
	// Who uses it: "" everyone, or a department/role tag.
	For string
}

var apps = []App{
	{"0oa1slack0000000001", "slack", "Slack", ""},
	{"0oa1github000000001", "github_enterprise", "GitHub Enterprise", "eng"},
	{"0oa1aws00000000001", "amazon_aws_sso", "AWS IAM Identity Center", "aws"},
	{"0oa1jira0000000001", "atlassian_jira", "Jira Cloud", ""},
	{"0oa1gsuite00000001", "google", "Google Workspace", ""},
	{"0oa1sfdc0000000001", "salesforce", "Salesforce.com", "sales"},
	{"0oa1zoom0000000001", "zoom", "Zoom", ""},
	{"0oa1o365000000001", "office365", "Microsoft Office 365", ""},
	{"0oa1workday0000001", "workday", "Workday", ""},
	{"0oa1datadog000001", "datadog", "Datadog", "eng"},
	{"0oa1zendesk000001", "zendesk", "Zendesk", "support"},
}

// adminApp is the Okta Admin Console, the privileged app of the
// recovery-takeover chain.
var adminApp = &App{"0oa1admin000000001", "saasure", "Okta Admin Console", "admin"}

var firstNames = []string{"Dana", "Eli", "Maya", "Omar", "Lena", "Ravi", "Sofia", "Jonas", "Aiko", "Mateo",
	"Nora", "Kwame", "Ines", "Piotr", "Hana", "Luca", "Amara", "Felix", "Zoe", "Tariq",
	"Clara", "Diego", "Freya", "Hugo", "Ingrid", "Jamal", "Keiko", "Liam", "Mira", "Nikolai",
	"Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tessa", "Umar", "Vera", "Wen", "Yusuf"}
var lastNames = []string{"Reyes", "Novak", "Chen", "Haddad", "Fischer", "Iyer", "Costa", "Berg", "Sato", "Alvarez",
	"Murphy", "Mensah", "Silva", "Kowalski", "Kim", "Romano", "Okafor", "Weber", "Martin", "Aziz",
	"Brennan", "Duarte", "Eriksen", "Garcia", "Horvat", "Jansen", "Kaur", "Lindqvist", "Moreau", "Nakamura",
	"O'Brien", "Petrov", "Rahman", "Schmidt", "Tanaka", "Varga", "Walsh", "Xu", "Yilmaz", "Zielinski"}

// Departments with their share of the organization and what their people
// do in AWS.
var departments = []struct {
	name string
	w    int
	tag  string // app tag
}{
	{"Engineering", 34, "eng"}, {"Data", 8, "data"}, {"Sales", 18, "sales"}, {"Marketing", 8, ""},
	{"Finance", 7, ""}, {"People", 5, ""}, {"IT", 6, "it"}, {"Support", 14, "support"},
}

// Okta groups that administrators add people to: none is an admin group.
var oktaGroups = []struct{ id, name string }{
	{"00g1engineering0001", "Engineering"}, {"00g1dataanalysts001", "Data-Analysts"},
	{"00g1salesemea000001", "Sales-EMEA"}, {"00g1allemployees001", "All-Employees"},
	{"00g1zoomusers000001", "Zoom-Users"}, {"00g1contractors0001", "Contractors"},
}
