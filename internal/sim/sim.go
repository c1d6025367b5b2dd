// Package sim generates realistic identity activity for tests, benchmarks
// and the demo: an organization of people with homes, networks, devices and
// habits, and the vendor log records their work produces. Generation is
// deterministic for a seed.
package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// Org is a simulated organization.
type Org struct {
	Domain string
	People []Person
	Apps   []App
	rng    *rand.Rand
}

// Person is a simulated employee.
type Person struct {
	Login    string // first.last@domain
	Name     string
	OktaID   string
	Home     Place
	Network  Network
	Device   Device
	Sessions int // sessions started so far, for session ids
}

// Place is a city with coordinates.
type Place struct {
	City, Region, Country, Postal string
	Lat, Lon                      float64
}

// Network is a home or office ISP.
type Network struct {
	ASN    uint32
	Org    string
	ISP    string
	Domain string
	Prefix netip.Prefix
}

// Device is a person's usual browser.
type Device struct {
	UA      string
	Browser string // Okta's own family name
	OS      string // Okta's own OS name
	DTHash  string
}

// App is an application people sign on to.
type App struct{ ID, Name, Label string }

var places = []Place{
	{"Lisbon", "Lisbon", "Portugal", "1000-001", 38.7223, -9.1393},
	{"Berlin", "Berlin", "Germany", "10115", 52.5200, 13.4050},
	{"Austin", "Texas", "United States", "78701", 30.2672, -97.7431},
	{"Toronto", "Ontario", "Canada", "M5H", 43.6532, -79.3832},
	{"London", "England", "United Kingdom", "EC1A", 51.5072, -0.1276},
	{"Seattle", "Washington", "United States", "98101", 47.6062, -122.3321},
	{"Madrid", "Madrid", "Spain", "28001", 40.4168, -3.7038},
	{"Dublin", "Leinster", "Ireland", "D01", 53.3498, -6.2603},
	{"Chicago", "Illinois", "United States", "60601", 41.8781, -87.6298},
	{"Warsaw", "Masovia", "Poland", "00-001", 52.2297, 21.0122},
}

var networks = []Network{
	{3243, "meo", "meo - servicos de comunicacoes e multimedia s.a.", "meo.pt", netip.MustParsePrefix("85.240.0.0/13")},
	{3320, "deutsche telekom ag", "deutsche telekom ag", "telekom.de", netip.MustParsePrefix("79.192.0.0/10")},
	{7922, "comcast cable communications, llc", "comcast cable", "comcast.net", netip.MustParsePrefix("73.0.0.0/8")},
	{812, "rogers communications canada inc.", "rogers", "rogers.com", netip.MustParsePrefix("99.224.0.0/11")},
	{2856, "british telecommunications plc", "bt", "bt.com", netip.MustParsePrefix("86.128.0.0/10")},
	{7018, "at&t services, inc.", "at&t", "att.net", netip.MustParsePrefix("99.0.0.0/11")},
	{3352, "telefonica de espana", "telefonica", "telefonica.es", netip.MustParsePrefix("83.32.0.0/11")},
	{5466, "eircom limited", "eir", "eir.ie", netip.MustParsePrefix("86.40.0.0/13")},
	{701, "verizon business", "verizon", "verizon.net", netip.MustParsePrefix("71.160.0.0/11")},
	{5617, "orange polska spolka akcyjna", "orange polska", "orange.pl", netip.MustParsePrefix("83.0.0.0/11")},
}

var firstNames = []string{"Dana", "Eli", "Maya", "Omar", "Lena", "Ravi", "Sofia", "Jonas", "Aiko", "Mateo",
	"Nora", "Kwame", "Ines", "Piotr", "Hana", "Luca", "Amara", "Felix", "Zoe", "Tariq"}
var lastNames = []string{"Reyes", "Novak", "Chen", "Haddad", "Fischer", "Iyer", "Costa", "Berg", "Sato", "Alvarez",
	"Murphy", "Mensah", "Silva", "Kowalski", "Kim", "Romano", "Okafor", "Weber", "Martin", "Aziz"}

var devices = []Device{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "CHROME", "Mac OS X", ""},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87", "EDGE_CHROMIUM", "Windows 10", ""},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0", "FIREFOX", "Windows 10", ""},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "SAFARI", "Mac OS X", ""},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "CHROME", "Linux", ""},
}

var apps = []App{
	{"0oa1slack0000000001", "slack", "Slack"},
	{"0oa1github000000001", "github_enterprise", "GitHub Enterprise"},
	{"0oa1aws00000000001", "amazon_aws_sso", "AWS IAM Identity Center"},
	{"0oa1jira0000000001", "atlassian_jira", "Jira Cloud"},
	{"0oa1gsuite00000001", "google", "Google Workspace"},
	{"0oa1sfdc0000000001", "salesforce", "Salesforce.com"},
	{"0oa1zoom0000000001", "zoom", "Zoom"},
}

// NewOrg returns an organization of n people, deterministic for seed.
func NewOrg(seed uint64, n int) *Org {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	o := &Org{Domain: "example.com", Apps: apps, rng: rng}
	seen := map[string]int{}
	for i := range n {
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		login := strings.ToLower(first + "." + last)
		seen[login]++
		if c := seen[login]; c > 1 {
			login = fmt.Sprintf("%s%d", login, c)
		}
		k := rng.IntN(len(places))
		dev := devices[rng.IntN(len(devices))]
		dev.DTHash = hexString(rng, 64)
		o.People = append(o.People, Person{
			Login:   login + "@" + o.Domain,
			Name:    first + " " + last,
			OktaID:  "00u" + alnum(rng, 17),
			Home:    places[k],
			Network: networks[k],
			Device:  dev,
		})
		_ = i
	}
	return o
}

// Addr returns a stable address for a person inside their ISP's prefix.
func (p *Person) Addr(salt uint64) netip.Addr {
	b := p.Network.Prefix.Addr().As4()
	h := fnv(p.Login) ^ salt
	bits := p.Network.Prefix.Bits()
	host := uint32(h) & (1<<(32-bits) - 1)
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= host
	if v&0xff == 0 || v&0xff == 255 {
		v = v&^0xff | 7
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

const alnumChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func alnum(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnumChars[rng.IntN(len(alnumChars))]
	}
	return string(b)
}

func hexString(rng *rand.Rand, n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[rng.IntN(16)]
	}
	return string(b)
}

func uuid(rng *rand.Rand) string {
	h := hexString(rng, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
