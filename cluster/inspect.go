package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// runNetns is where ip netns keeps its namespace mounts.
const runNetns = "/run/netns"

// link is one network interface as `ip -j link/addr show` reports it.
type link struct {
	Name     string   `json:"ifname"`
	Flags    []string `json:"flags"`
	Master   string   `json:"master"`
	LinkKind string   `json:"link_type"`
	AddrInfo []struct {
		Family string `json:"family"`
		Local  string `json:"local"`
		Prefix int    `json:"prefixlen"`
	} `json:"addr_info"`
}

func (l link) up() bool { return slices.Contains(l.Flags, "UP") }

// hasAddr reports whether l has the IPv4 address addr/bits.
func (l link) hasAddr(addr string, bits int) bool {
	for _, a := range l.AddrInfo {
		if a.Family == "inet" && a.Local == addr && a.Prefix == bits {
			return true
		}
	}
	return false
}

func (l link) hasIPv6() bool {
	for _, a := range l.AddrInfo {
		if a.Family == "inet6" {
			return true
		}
	}
	return false
}

// hostLinks lists the host's interfaces with their addresses.
func (t *tools) hostLinks(ctx context.Context) (map[string]link, error) {
	out, err := t.run(ctx, nil, t.ip, "-j", "addr", "show")
	if err != nil {
		return nil, err
	}
	return parseLinks(out)
}

// nsLinks lists the interfaces inside namespace ns.
func (t *tools) nsLinks(ctx context.Context, ns string) (map[string]link, error) {
	out, err := t.run(ctx, nil, t.ip, "-n", ns, "-j", "addr", "show")
	if err != nil {
		return nil, err
	}
	return parseLinks(out)
}

func parseLinks(out string) (map[string]link, error) {
	var ls []link
	if err := json.Unmarshal([]byte(out), &ls); err != nil {
		return nil, fmt.Errorf("reading ip -j output: %w", err)
	}
	m := make(map[string]link, len(ls))
	for _, l := range ls {
		m[l.Name] = l
	}
	return m, nil
}

// nsExists reports whether the named network namespace exists.
func (t *tools) nsExists(ns string) bool {
	_, err := os.Stat(filepath.Join(t.netnsDir, ns))
	return err == nil
}

// listNetns lists the names of the namespaces ip netns knows.
func (t *tools) listNetns() ([]string, error) {
	ents, err := os.ReadDir(t.netnsDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, nil
}

// hostPrefixes lists the IPv4 prefixes the host routes or owns, with the
// device they are on.
func (t *tools) hostPrefixes(ctx context.Context) (map[netip.Prefix]string, error) {
	out, err := t.run(ctx, nil, t.ip, "-j", "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Dst  string `json:"dst"`
		Dev  string `json:"dev"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return nil, fmt.Errorf("reading ip -j route output: %w", err)
	}
	m := map[netip.Prefix]string{}
	for _, r := range routes {
		if r.Dst == "" || r.Dst == "default" || r.Type == "broadcast" {
			continue
		}
		if !strings.Contains(r.Dst, "/") {
			r.Dst += "/32"
		}
		if p, err := netip.ParsePrefix(r.Dst); err == nil {
			m[p.Masked()] = r.Dev
		}
	}
	links, err := t.hostLinks(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		for _, a := range l.AddrInfo {
			if a.Family != "inet" {
				continue
			}
			if p, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", a.Local, a.Prefix)); err == nil {
				m[p.Masked()] = l.Name
			}
		}
	}
	return m, nil
}
