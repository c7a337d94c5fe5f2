package cluster

import (
	"fmt"
	"net/netip"
	"sort"
)

// parseSubnet reads an IPv4 subnet that holds count nodes.
func parseSubnet(s string, count int) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("subnet %q: %w", s, err)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("subnet %q: want an IPv4 subnet", s)
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return netip.Prefix{}, fmt.Errorf("subnet %q: want a prefix length from /16 to /28", s)
	}
	p = p.Masked()
	size := 1 << (32 - p.Bits())
	// Node nI is at firstNodeHost+I; the last address is the broadcast.
	if max := size - 2 - firstNodeHost; count > max {
		return netip.Prefix{}, fmt.Errorf("subnet %s holds at most %d nodes, not %d", p, max, count)
	}
	return p, nil
}

// hostAddr is the i-th address of p.
func hostAddr(p netip.Prefix, i int) netip.Addr {
	a := p.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// taken is a subnet in use and who uses it.
type taken struct {
	prefix netip.Prefix
	by     string
}

// clash returns who uses a subnet overlapping p, or "".
func clash(p netip.Prefix, used []taken) string {
	for _, u := range used {
		if u.prefix.Overlaps(p) {
			return fmt.Sprintf("%s of %s", u.prefix, u.by)
		}
	}
	return ""
}

// usedSubnets lists the host's routes and addresses and the subnets of the
// other clusters' states.
func usedSubnets(host map[netip.Prefix]string, others []*State, self string) []taken {
	var used []taken
	for p, dev := range host {
		used = append(used, taken{p, "host device " + dev})
	}
	for _, st := range others {
		if st.Name == self {
			continue
		}
		if p, err := netip.ParsePrefix(st.Subnet); err == nil {
			used = append(used, taken{p, "cluster " + st.Name})
		}
	}
	sort.Slice(used, func(i, j int) bool { return used[i].prefix.String() < used[j].prefix.String() })
	return used
}

// pickSubnet returns the first 10.213.K.0/24 that clashes with nothing.
func pickSubnet(used []taken) (netip.Prefix, error) {
	base := netip.MustParsePrefix(DefaultSubnetBase)
	for k := range 256 {
		p := netip.PrefixFrom(hostAddr(base, k<<8), 24)
		if clash(p, used) == "" {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 left in %s: give a subnet", base)
}
