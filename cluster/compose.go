package cluster

import (
	"fmt"
	"path/filepath"
	"strings"
)

// composePath is where a docker cluster's compose file is written.
func composePath(st *State) string { return filepath.Join(st.Dir, "docker-compose.yml") }

// composeFile describes a docker cluster for `docker compose`: the same
// network, addresses, names, capabilities and mounts as the containers
// Up makes, for users who prefer to drive it themselves, e.g.
// `docker compose -p faultline-NAME -f STATE/docker-compose.yml up -d` after
// `faultline cluster down` (the state folder must stay: copy it first).
func composeFile(st *State) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	var b strings.Builder
	fmt.Fprintf(&b, "# written by faultline for cluster %s (docker driver)\n", st.Name)
	// Format 2.4 reads in docker-compose 1.x and in docker compose v2.
	b.WriteString("version: \"2.4\"\n")
	b.WriteString("networks:\n")
	fmt.Fprintf(&b, "  cluster:\n    name: %s\n    driver: bridge\n", q(st.Docker.Network))
	fmt.Fprintf(&b, "    driver_opts:\n      com.docker.network.bridge.name: %s\n", q(st.Bridge))
	fmt.Fprintf(&b, "    labels:\n      %s: %s\n", labelCluster, q(st.Name))
	fmt.Fprintf(&b, "    ipam:\n      config:\n        - subnet: %s\n          gateway: %s\n", q(st.Subnet), q(st.HostAddr))
	b.WriteString("services:\n")
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "  %s:\n", n.Name)
		fmt.Fprintf(&b, "    image: %s\n", q(st.Docker.Image))
		fmt.Fprintf(&b, "    container_name: %s\n", q(n.Container))
		fmt.Fprintf(&b, "    hostname: %s\n", q(n.Name))
		b.WriteString("    init: true\n")
		b.WriteString("    cap_add: [\"NET_ADMIN\"]\n")
		b.WriteString("    sysctls:\n      net.ipv6.conf.all.disable_ipv6: \"1\"\n")
		fmt.Fprintf(&b, "    labels:\n      %s: %s\n      %s: %s\n", labelCluster, q(st.Name), labelNode, q(n.Name))
		fmt.Fprintf(&b, "    networks:\n      cluster:\n        ipv4_address: %s\n        aliases: [%s, %s]\n", q(n.Addr), q(n.Name), q(n.Name+"."+st.Name))
		fmt.Fprintf(&b, "    volumes:\n      - %s\n      - %s\n", q(n.Dir+":"+n.Dir), q(st.SSHD.Dir+":"+st.SSHD.Dir))
		fmt.Fprintf(&b, "    working_dir: %s\n", q(n.Dir))
		fmt.Fprintf(&b, "    environment:\n      FAULTLINE_CLUSTER: %s\n      FAULTLINE_NODE: %s\n      FAULTLINE_NODE_DIR: %s\n", q(st.Name), q(n.Name), q(n.Dir))
		cmd := []string{"sh", "-c", strings.ReplaceAll(nodeEntrypoint, "$", "$$"), "faultline-node", st.SSHD.config(n.Name), st.SSHD.Logfile(n.Name)}
		for i := range cmd {
			cmd[i] = q(cmd[i])
		}
		fmt.Fprintf(&b, "    command: [%s]\n", strings.Join(cmd, ", "))
	}
	return b.String()
}

func writeCompose(st *State) error {
	return writeIfChanged(composePath(st), composeFile(st), 0o644)
}
