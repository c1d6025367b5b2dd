package sim

import (
	"math"
	"math/rand/v2"
	"net/netip"
)

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

// uuid returns a random (version 4) UUID.
func uuid(rng *rand.Rand) string {
	var b [36]byte
	return string(appendUUID(b[:0], rng))
}

func appendUUID(b []byte, rng *rand.Rand) []byte {
	const hex = "0123456789abcdef"
	x, y := rng.Uint64(), rng.Uint64()
	for i := range 32 {
		switch i {
		case 8, 12, 16, 20:
			b = append(b, '-')
		}
		var nib uint64
		if i < 16 {
			nib = x >> (60 - 4*i) & 15
		} else {
			nib = y >> (60 - 4*(i-16)) & 15
		}
		switch i {
		case 12:
			nib = 4
		case 16:
			nib = 8 | nib&3
		}
		b = append(b, hex[nib])
	}
	return b
}

// guid is a UUID as Microsoft writes them (the same form).
func guid(rng *rand.Rand) string { return uuid(rng) }

// appendUUIDv1 appends a time-based (version 1) UUID for time ms, as Okta's
// event uuids are.
func appendUUIDv1(b []byte, ms int64, rng *rand.Rand) []byte {
	const hex = "0123456789abcdef"
	// 100-ns intervals since 1582-10-15.
	ts := uint64(ms)*10_000 + 0x01b21dd213814000 + uint64(rng.IntN(10_000))
	low := ts & 0xffffffff
	mid := ts >> 32 & 0xffff
	hi := ts>>48&0x0fff | 0x1000
	node := rng.Uint64()
	put := func(v uint64, digits int) {
		for i := digits - 1; i >= 0; i-- {
			b = append(b, hex[v>>(4*i)&15])
		}
	}
	put(low, 8)
	b = append(b, '-')
	put(mid, 4)
	b = append(b, '-')
	put(hi, 4)
	b = append(b, '-')
	put(0x8000|node>>48&0x3fff, 4)
	b = append(b, '-')
	put(node&0xffffffffffff, 12)
	return b
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// hostIn returns a stable host address inside prefix for a key: never the
// network or broadcast address of a /24.
func hostIn(prefix netip.Prefix, key uint64) netip.Addr {
	b := prefix.Addr().As4()
	bits := prefix.Bits()
	host := uint32(mix(key))
	if bits < 32 {
		host &= 1<<(32-bits) - 1
	} else {
		host = 0
	}
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= host
	if bits <= 30 && (v&0xff == 0 || v&0xff == 255) {
		v = v&^0xff | 7
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Addr returns a stable address for a person inside their home ISP's
// prefix; salt picks another lease.
func (p *Person) Addr(salt uint64) netip.Addr {
	return hostIn(p.Network.Prefix, fnv(p.Login)^salt)
}

// distanceKm is the great-circle distance.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
