//go:build !amd64 && !arm64

package cluster

// sysSetns is 0 where its number is not written down here: IPv6 is then
// turned off through `ip netns exec`.
const sysSetns = 0
