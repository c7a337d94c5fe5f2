package cluster

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ImageRepository is the repository of the node images Faultline builds.
const ImageRepository = "faultline-node"

// imageRecipe is what goes into a node image; any change to it (or to the
// build steps: bump the version) gives a new tag.
var imagePackages = []string{"iproute2", "nftables", "iptables", "openssh-server", "procps"}

const imageRecipeVersion = "1"

// DefaultMirror is the Debian mirror used when apt's sources name none.
const DefaultMirror = "http://deb.debian.org/debian"

// ImageSpec says which node image to build.
type ImageSpec struct {
	// Suite is the Debian release, e.g. "bookworm".
	Suite string
	// Mirror is the Debian mirror (not part of the tag: any mirror gives
	// the same image).
	Mirror string
	// Packages are installed on top of debootstrap's minbase.
	Packages []string
}

// Tag is the image's name: faultline-node:<12 hex digits of the recipe's
// hash>.
func (s ImageSpec) Tag() string {
	h := sha256.New()
	fmt.Fprintf(h, "faultline node image v%s\n%s\n%s\n%s\n", imageRecipeVersion, runtime.GOARCH, s.Suite, strings.Join(s.Packages, ","))
	return ImageRepository + ":" + hex.EncodeToString(h.Sum(nil))[:12]
}

// DefaultImageSpec is the image for this machine: its Debian release (or
// bookworm), with the mirror apt uses.
func DefaultImageSpec(mirror string) ImageSpec {
	suite := "bookworm"
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		var id, code string
		for _, l := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(l, "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "ID":
				id = v
			case "VERSION_CODENAME":
				code = v
			}
		}
		if id == "debian" && code != "" {
			suite = code
		}
	}
	if mirror == "" {
		mirror = aptMirror(suite)
	}
	return ImageSpec{Suite: suite, Mirror: mirror, Packages: append([]string(nil), imagePackages...)}
}

// aptMirror finds the Debian mirror in apt's sources that serves suite's
// main component, or DefaultMirror.
func aptMirror(suite string) string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, para := range strings.Split(string(b), "\n\n") {
			fields := map[string]string{}
			for _, l := range strings.Split(para, "\n") {
				if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, " ") {
					fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
				}
			}
			if fields["enabled"] == "no" || !strings.Contains(" "+fields["types"]+" ", " deb ") {
				continue
			}
			if hasWord(fields["suites"], suite) && hasWord(fields["components"], "main") {
				if uris := strings.Fields(fields["uris"]); len(uris) > 0 {
					return uris[0]
				}
			}
		}
	}
	if b, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			// deb [options] URI SUITE COMPONENTS...
			if len(f) > 0 && f[0] == "deb" {
				f = f[1:]
				if len(f) > 0 && strings.HasPrefix(f[0], "[") {
					for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
						f = f[1:]
					}
					if len(f) > 0 {
						f = f[1:]
					}
				}
				if len(f) >= 3 && f[1] == suite && hasWord(strings.Join(f[2:], " "), "main") {
					return f[0]
				}
			}
		}
	}
	return DefaultMirror
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// ImageBuilt reports whether the docker engine has image tag.
func ImageBuilt(ctx context.Context, tag string) bool {
	d, err := lookPath("docker")
	return err == nil && imageExists(ctx, d, tag)
}

// imageExists reports whether the docker engine has image tag.
func imageExists(ctx context.Context, docker, tag string) bool {
	_, err := run(ctx, nil, docker, "image", "inspect", "--format", "{{.Id}}", tag)
	return err == nil
}

// EnsureImage returns the tag of the node image for spec, building it when
// the engine lacks it: a Debian root filesystem made with debootstrap from
// spec.Mirror (no registry is involved), imported with docker import. The
// first build takes a few minutes (2.5 min measured); later calls return at
// once.
func EnsureImage(ctx context.Context, spec ImageSpec, look func(string) (string, error), log *slog.Logger) (string, error) {
	if look == nil {
		look = lookPath
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	docker, err := look("docker")
	if err != nil {
		return "", fmt.Errorf("cluster: command docker not found: install Docker (Debian package docker.io)")
	}
	tag := spec.Tag()
	if imageExists(ctx, docker, tag) {
		return tag, nil
	}
	debootstrap, err := look("debootstrap")
	if err != nil {
		return "", fmt.Errorf("cluster: command debootstrap not found: install the Debian package debootstrap (needed once, to build the node image %s)", tag)
	}
	if !isRoot() {
		return "", fmt.Errorf("cluster: building the node image %s needs root (debootstrap): run `sudo faultline cluster up --driver docker` once", tag)
	}
	start := time.Now()
	log.Info("building the docker node image (once; takes a few minutes)", "image", tag, "suite", spec.Suite, "mirror", spec.Mirror)
	tmp := "/var/tmp"
	if st, err := os.Stat(tmp); err != nil || !st.IsDir() {
		tmp = ""
	}
	dir, err := os.MkdirTemp(tmp, "faultline-rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	rootfs := filepath.Join(dir, "rootfs")
	logf := filepath.Join(dir, "debootstrap.log")
	out, err := os.Create(logf)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, debootstrap, "--variant=minbase", "--include="+strings.Join(spec.Packages, ","), spec.Suite, rootfs, spec.Mirror)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	err = cmd.Run()
	out.Close()
	if err != nil {
		return "", fmt.Errorf("building the node image %s: debootstrap %s from %s failed (%v): %s", tag, spec.Suite, spec.Mirror, err, lastLine(logf))
	}
	// Smaller, and no host keys baked in: each cluster brings its own.
	for _, pat := range []string{"var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "etc/ssh/ssh_host_*", "var/log/*.log"} {
		matches, _ := filepath.Glob(filepath.Join(rootfs, pat))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "run", "sshd"), 0o755); err != nil {
		return "", err
	}
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "-C", rootfs, "-c", ".")
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var tarErr strings.Builder
	tarCmd.Stderr = &tarErr
	if err := tarCmd.Start(); err != nil {
		return "", fmt.Errorf("building the node image %s: tar: %w", tag, err)
	}
	_, ierr := run(ctx, pipe, docker, "import",
		"--change", `CMD ["/bin/bash"]`,
		"--change", "LABEL org.faultline.image="+tag,
		"--message", "faultline node image ("+spec.Suite+" minbase + "+strings.Join(spec.Packages, " ")+")",
		"-", tag)
	terr := tarCmd.Wait()
	if ierr != nil {
		return "", fmt.Errorf("building the node image %s: docker import: %s", tag, exitErr(ierr))
	}
	if terr != nil {
		return "", fmt.Errorf("building the node image %s: tar: %v %s", tag, terr, tarErr.String())
	}
	log.Info("built the docker node image", "image", tag, "elapsed", time.Since(start).Round(time.Second))
	return tag, nil
}

// lastLine is the last non-empty line of a file, for error messages.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	return last
}
