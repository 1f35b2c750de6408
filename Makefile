# mydocker: `sudo make demo` shows it working, `sudo make test` runs every test.
# Both install what they need on a fresh Debian machine (as root).

GO ?= go
OUT ?= mydocker
# A static binary without cgo's name lookups: every container start runs it
# two or three times (run, init, shim), and the dynamic loader costs ~3 ms
# each time. The tags drop code mydocker never uses (cgo DNS and user
# lookups, urfave/cli's man-page generator).
# TAGS adds build tags: `make build TAGS=crashtest` is the tests' binary,
# with the crash-injection switch (internal/kernel/crash_on.go); plain
# `make build` is the release build, without it.
TAGS ?=
comma := ,
BUILDFLAGS = -buildvcs=auto -tags netgo,osusergo,urfave_cli_no_docs$(if $(TAGS),$(comma)$(TAGS)) -ldflags "-linkmode external -extldflags -static -s -w"
# docker-registry (distribution 2.8) and skopeo: the registry and the image
# tool of the field, which test/registry_test.go pushes to, pulls from and
# exchanges archives with (libc6-dev's libcrypt makes its htpasswd hash).
# etcd-server and etcd-client (3.4): the etcd that overlay networks keep
# their state in, which internal/testetcd runs for the tests, and the
# etcdctl that replays the narrated etcd steps.
PKGS_TEST  = iproute2 iptables busybox-static util-linux procps tar conntrack docker-registry skopeo zsh fish etcd-server etcd-client
# iperf3: the overlay's throughput, container to container across hosts.
PKGS_BENCH = crun runc hyperfine containernetworking-plugins linux-perf iperf3
# test-cgroupv2's VM: qemu, and the tools run.sh packs into it (busybox's
# cpio, the host's iptables and its libraries, found with ldd).
PKGS_VM    = qemu-system-x86 busybox-static iptables libc-bin

.PHONY: all build deps deps-bench deps-vm test test-cgroupv2 unit demo bench install clean docs

all: build

build:
	$(GO) build $(BUILDFLAGS) -o $(OUT) .
	ln -sf $(notdir $(OUT)) $(dir $(OUT))netsetgo

# apt-get update once, then only the packages that are missing. Debian's
# docker-registry starts a service on :5000 for everyone, without auth, where
# systemd runs, and etcd-server one on localhost:2379: the tests start their
# own (in namespaces of their own), so a service this target just installed
# is stopped and disabled.
deps:
	@missing=$$(for p in $(PKGS_TEST); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	case " $$(echo $$missing) " in *" docker-registry "*) \
		if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry.service >/dev/null 2>&1 || true; fi;; \
	esac; \
	case " $$(echo $$missing) " in *" etcd-server "*) \
		if [ -d /run/systemd/system ]; then systemctl disable --now etcd.service >/dev/null 2>&1 || true; fi;; \
	esac

deps-bench: deps
	@missing=$$(for p in $(PKGS_BENCH); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

# The same, and apt's lists once, where they are missing: the VM's kernel
# is Debian's linux-image-amd64 of the day (apt-get download, cached).
deps-vm:
	@missing=$$(for p in $(PKGS_VM); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	elif ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then apt-get update -qq; fi

# Every test: unit tests, root integration tests and end-to-end tests. The
# root ones re-execute themselves in a fresh network and mount namespace.
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) test-cgroupv2

# cgroup v2 for real: Debian's stock kernel booted in qemu with the unified
# hierarchy only, running test/cgroupv2 (built static, with its build tag)
# against the release build of mydocker. The kernel and its modules are
# cached in VM_CACHE by package version. See doc/cgroups.md.
VM_CACHE ?= /var/cache/mydocker-vm
VM_BIN = $(VM_CACHE)/bin
test-cgroupv2: deps-vm
	mkdir -p $(VM_BIN)
	$(MAKE) build OUT=$(VM_BIN)/mydocker
	$(GO) vet -tags cgroupv2vm ./test/cgroupv2
	CGO_ENABLED=0 $(GO) test -c -tags cgroupv2vm -o $(VM_BIN)/cgroupv2.test ./test/cgroupv2
	CGO_ENABLED=0 $(GO) build -o $(VM_BIN)/probe ./test/probe
	VM_CACHE=$(VM_CACHE) test/cgroupv2/vm/run.sh $(VM_BIN)/mydocker $(VM_BIN)/cgroupv2.test $(VM_BIN)/probe

# Only what runs without root.
unit:
	$(GO) test -count=1 ./...

# The walkthrough's outputs, from real runs of its chapters (as root: each
# chapter runs in a fresh network and mount namespace with a temporary root).
docs: deps
	$(GO) run ./doc/gen

demo: deps build
	./demo.sh

bench: deps-bench build
	./bench/run.sh

install: build
	install -m 0755 mydocker /usr/local/bin/mydocker
	ln -sf mydocker /usr/local/bin/netsetgo

clean:
	rm -f mydocker netsetgo
