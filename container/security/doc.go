// Package security is mydocker's containment model (issue 11): a container
// may do what a docker container may do, and nothing more. It resolves
// docker's flags into one Config and gives the init small functions to
// apply it. It does not wire itself into anything.
//
// # Flow
//
// The parent (run, exec) calls Resolve before it creates anything. Resolve
// checks every input and fails with one clear line: an unknown capability or
// --security-opt, an unreadable or invalid seccomp profile, a user or group
// that the image does not know, a missing --device. The Config it returns is
// plain JSON and travels to the init in the init's spec. The seccomp filter
// is already compiled (Seccomp.Program holds the BPF bytes), so the init
// never parses a profile. What goes where:
//
//   - PathRules(c.MaskedPaths, c.ReadonlyPaths, nil) lists the mount steps
//     that mask and freeze paths. The init's mount code carries them out
//     after /proc and /sys are mounted.
//   - The parent calls ApplyDevicesV1 or ApplyDevicesV2 with c.DeviceRules
//     on the container's cgroup, and mknods c.Devices.
//   - Finalize(c) runs on the init's locked OS thread right before execve:
//     no_new_privs, seccomp, the bounding set, the user, and the
//     capabilities, in runc's order (see Finalize).
//
// # Docker's defaults, from docker's own sources
//
// The 14 capabilities come from moby's daemon/pkg/oci/caps.
// TweakCapabilities sets the precedence: --privileged gives every
// capability, --cap-add ALL gives every capability less the ones dropped,
// --cap-drop ALL keeps only the ones added, and otherwise an add wins over a
// drop. The seccomp profile is moby's, evaluated by moby's own code. The
// masked and read-only paths are moby's current lists (defaults.go). The
// device rules are moby's default spec followed by runc's AllowedDevices;
// the resulting devices.list is docker's, checked on the host's v1
// hierarchy in the tests. The user comes from the image's /etc/passwd and
// /etc/group, as docker and runc resolve it.
//
// # Dependencies, and why each
//
//   - github.com/moby/profiles/seccomp: docker's default profile itself,
//     and the code dockerd uses to evaluate its includes/excludes against
//     the container's capabilities, the architecture and the kernel. The
//     profile is exactly docker's, and a version bump updates it. It brings
//     github.com/opencontainers/runtime-spec for the profile's types.
//   - github.com/moby/sys/capability (runc's): the capability names and
//     numbers, and cap_last_cap. The Apply path uses golang.org/x/sys/unix
//     directly (prctl PR_CAPBSET_DROP, PR_CAP_AMBIENT_CLEAR_ALL, capset v3):
//     three plain system calls whose errors come back. The library's Apply
//     quietly skips the bounding-set drop when CAP_SETPCAP is missing, and
//     its constructor reads /proc/self/status.
//   - github.com/moby/sys/user (docker's and runc's): -u resolution with
//     their semantics. A name must exist; a number need not (then HOME=/);
//     supplementary groups come from /etc/group. The files are opened with
//     openat2 RESOLVE_IN_ROOT, so an image's symlink cannot reach the host's.
//   - github.com/opencontainers/cgroups/devices/config: runc's device Rule
//     type only. It has no dependencies and does nothing at init.
//
// # Seccomp compiler: written here, in Go
//
// Compile turns the resolved profile into classic BPF. The program has one
// section per listed ABI (docker's profile lists x86_64 with its x86 and x32
// sub-ABIs) and a binary search over syscall numbers, about 20 instructions
// per system call. A system call numbered above every one that the profile
// names gets ENOSYS, which is runc's patchbpf stub. Arguments are compared
// on all 64 bits. It follows runc's rule semantics (see Compile). Moby's
// default profile compiles to about 2,250 instructions. The two libraries
// were considered and left out:
//
//   - libseccomp-golang (cgo), the field's standard (runc, crun). It would
//     make libseccomp-dev (headers and libseccomp.a for the static link) a
//     build dependency of every developer machine and of CI. Debian 12's
//     libseccomp 2.5.4 also does not know 18 of the profile's system calls,
//     the ones its comments mark as needing libseccomp 2.5.5 or 2.6.0
//     (cachestat, fchmodat2, mseal, lsm_*, listmount, ...). It
//     drops them, so they would get EPERM instead of ENOSYS and glibc
//     would not fall back. runc repairs that by rewriting libseccomp's
//     output with its patchbpf ENOSYS stub, a second compiler.
//   - github.com/elastic/go-seccomp-bpf v1.6.0 (pure Go). It can express the
//     default profile's argument rules: personality and socket are Equal
//     and LessThan, and clone's masked-equal-zero is BitsNotSet. It falls
//     short elsewhere. It filters only the native ABI, so 32-bit x86
//     binaries, which docker's profile allows, would get EPERM on every
//     call. Policy.Validate rejects a default action that carries an errno,
//     and moby's default is ERRNO(EPERM). It cannot express
//     SCMP_CMP_MASKED_EQ with a non-zero value, which docker-format
//     profiles may use. Its syscall-name maps also cost 0.4 ms of package
//     init in every process that links it. Its syscall tables (generated
//     from the kernel's syscall.tbl) are still the best source. The tests
//     use them to generate and check zsyscalls.go, static sorted data, so
//     the binary does not link the library.
//
// # Device program for cgroup v2
//
// DeviceProgram emits the same program as runc's generator
// (opencontainers/cgroups/devices). ApplyDevicesV2 loads it and attaches it
// with raw bpf(2) calls, with BPF_F_ALLOW_MULTI and the old program
// detached, as runc does. That package is not imported: it brings systemd,
// D-Bus, cilium/ebpf and logrus, and their package initialisers (a statfs
// of the cgroup mount among them) cost every mydocker process 0.15-0.2 ms
// and the binary 0.9 MB. The budget for all of the containment is 1 ms.
//
// # Cost
//
// On this 2-core machine: resolving a default container, seccomp
// compilation included, takes about 0.3 ms on a quiet machine and up to
// 0.6-1 ms under load. Through the BuildSeccompCached cache (a file keyed by
// the profile's bytes, the bounding set, GOARCH, the kernel release and the
// compiler version) it takes 0.03 ms for the program and about 0.17 ms for
// the whole Resolve. Linking the package adds about 40 KB to the mydocker binary
// and about 0.03 ms of package init, which is within the noise (median of 150
// runs of GODEBUG=inittrace=1).
package security
