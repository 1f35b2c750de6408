package walkthrough

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Normalizer rewrites what varies from run to run into stable stand-ins, so
// that two runs of a chapter give the same text: temporary paths, container
// ids (and the short ids, veth names and chain names made from them; not
// image digests, see digestsIn), pids (and the temp files named by them),
// random MACs, times, and the log's pid= and source= fields.
type Normalizer struct {
	paths [][2]string // longest first
	// Known are container ids that may show only in their short form.
	Known []string
}

// NewNormalizer rewrites each key of paths (a temporary path) into its value.
func NewNormalizer(paths map[string]string) *Normalizer {
	n := &Normalizer{}
	for k, v := range paths {
		if k != "" {
			n.paths = append(n.paths, [2]string{k, v})
		}
	}
	sort.Slice(n.paths, func(i, j int) bool { return len(n.paths[i][0]) > len(n.paths[j][0]) })
	return n
}

var (
	logFields = regexp.MustCompile(`(?m)^((?:INFO|WARN|ERRO|DEBU|FATA) .*?)\s+pid=\d+(?: source="[^"]*")?\s*$`)
	fullID    = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	vethName  = regexp.MustCompile(`\bveth([0-9a-f]{7})([0-9a-f]{4})\b`)
	pidRef    = regexp.MustCompile(`(\bnsenter -t |\bnetns |\bpid |\bPID=|-pid[ =]|--pid[ =]|/proc/|/\.tmp-|\bkill -[A-Z]+ )(\d+)\b|\becho (\d+)( > \S*cgroup\.procs)`)
	// etcd's lease ids: the member's id and a clock in 16 hex digits.
	leaseID   = regexp.MustCompile(`(--lease=|\blease (?:revoke|keep-alive|timetolive) )([0-9a-f]{16})\b`)
	anyMAC    = regexp.MustCompile(`\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b`)
	linkLocal = regexp.MustCompile(`\bfe80::[0-9a-f:]+/64`)
	timestamp = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`)
	pingTime  = regexp.MustCompile(`time=[0-9.]+ ms`)
	rtt       = regexp.MustCompile(`(round-trip|rtt) min/avg/max(/mdev)? = [0-9./]+ ms`)
	ago       = regexp.MustCompile(`(Less than a second|About a minute|\d+ (seconds?|minutes?)) ago`)
	upFor     = regexp.MustCompile(`Up (Less than a second|About a minute|\d+ (seconds?|minutes?))`)
)

// fakeID is the k-th container id of a chapter (k from 0).
func fakeID(k int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("mydocker walkthrough container %d", k)))
	return hex.EncodeToString(sum[:])
}

// Normalize rewrites one chapter's output (all of it at once, so that the
// k-th container is the same everywhere in it).
func (n *Normalizer) Normalize(s string) string {
	for _, p := range n.paths {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	s = logFields.ReplaceAllString(s, "$1")
	s = strings.Join(dropShared(trimRight(strings.Split(s, "\n"))), "\n")

	digests := digestsIn(s)

	// Container ids, in the order their short form first appears; then
	// their short forms.
	s, listed := takeIDLines(s)
	seen := map[string]bool{}
	var order []string
	for _, id := range append(append(fullID.FindAllString(s, -1), listed...), n.Known...) {
		if !seen[id] && !digests[id] && strings.Contains(s, id[:12]) {
			seen[id] = true
			order = append(order, id)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		return strings.Index(s, order[i][:12]) < strings.Index(s, order[j][:12])
	})
	ids := map[string]string{}
	for k, id := range order {
		ids[id] = fakeID(k)
	}
	for _, id := range order {
		s = strings.ReplaceAll(s, id, ids[id])
	}
	// veth names: the id's 7 characters, and 4 hex digits hashed from the id.
	vs := map[string]string{}
	s = vethName.ReplaceAllStringFunc(s, func(v string) string {
		if f, ok := vs[v]; ok {
			return f
		}
		m := vethName.FindStringSubmatch(v)
		pre := m[1]
		for _, id := range order {
			if strings.HasPrefix(id, m[1]) {
				pre = ids[id][:7]
			}
		}
		sum := sha256.Sum256([]byte(pre + fmt.Sprint(len(vs))))
		f := "veth" + pre + hex.EncodeToString(sum[:])[:4]
		vs[v] = f
		return f
	})
	for _, id := range order {
		s = strings.ReplaceAll(s, id[:12], ids[id][:12])
	}

	// pids: the k-th distinct one becomes 4242+k; 1 (a container's init
	// as it sees itself) stays.
	pids := map[string]string{}
	s = pidRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := pidRef.FindStringSubmatch(m)
		pre, pid, post := sub[1], sub[2], ""
		if pid == "" {
			pre, pid, post = "echo ", sub[3], sub[4]
		}
		if v, _ := strconv.Atoi(pid); v <= 1 {
			return m
		}
		f, ok := pids[pid]
		if !ok {
			f = strconv.Itoa(4242 + len(pids))
			pids[pid] = f
		}
		return pre + f + post
	})

	// etcd lease ids: the k-th distinct one becomes 694d000000000001+k.
	leases := map[string]string{}
	s = leaseID.ReplaceAllStringFunc(s, func(m string) string {
		sub := leaseID.FindStringSubmatch(m)
		f, ok := leases[sub[2]]
		if !ok {
			f = fmt.Sprintf("%016x", 0x694d000000000001+len(leases))
			leases[sub[2]] = f
		}
		return sub[1] + f
	})

	// MACs: those mydocker derives from addresses (02:42:...) are stable;
	// the kernel's random ones (bridges, host ends of veths) are not.
	s = anyMAC.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "02:42:") || m == "00:00:00:00:00:00" || m == "ff:ff:ff:ff:ff:ff" {
			return m
		}
		return "xx:xx:xx:xx:xx:xx"
	})
	s = linkLocal.ReplaceAllString(s, "fe80::xxxx/64") // from the random MAC
	s = timestamp.ReplaceAllString(s, "2026-01-01T12:00:00.000000000Z")
	s = pingTime.ReplaceAllString(s, "time=0.100 ms")
	s = rtt.ReplaceAllString(s, "$1 min/avg/max$2 = 0.100/0.100/0.100 ms")
	s = ago.ReplaceAllString(s, "2 seconds ago")
	s = upFor.ReplaceAllString(s, "Up 2 seconds")
	return s
}

// shared are the narrated steps on the cgroup parent that all of the
// host's containers share (mydocker/): whether a run makes it, enables its
// controllers or removes it depends on the other containers of the host,
// not on the chapter.
var shared = regexp.MustCompile(`^(?:INFO )?\$ (?:cat /sys/fs/cgroup/cpuset/cpuset\.\w+ > /sys/fs/cgroup/cpuset/mydocker/cpuset\.\w+|rmdir /sys/fs/cgroup/(?:[\w,=]+/)?mydocker|echo .* > /sys/fs/cgroup/(?:mydocker/)?cgroup\.subtree_control)$`)

// SharedCgroupStep reports whether a narrated command acts on the cgroup
// parent all of the host's containers share (see shared).
func SharedCgroupStep(cmd string) bool { return shared.MatchString("$ " + cmd) }

// dropShared leaves out the shared steps, and a "// why" line when every
// "$" line it explains was left out.
func dropShared(lines []string) []string {
	isWhy := func(l string) bool { return strings.HasPrefix(l, "INFO // ") || strings.HasPrefix(l, "// ") }
	isCmd := func(l string) bool { return strings.HasPrefix(l, "INFO $ ") || strings.HasPrefix(l, "$ ") }
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if isWhy(l) {
			j := i + 1
			kept := 0
			for ; j < len(lines) && isCmd(lines[j]); j++ {
				if !shared.MatchString(lines[j]) {
					kept++
				}
			}
			if j > i+1 && kept == 0 {
				i = j - 1 // the why and all its commands
				continue
			}
			out = append(out, l)
			continue
		}
		if shared.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// idLine is a line the runner adds after each command: the ids of the
// containers that exist then (some never show in full in the output).
var idLine = regexp.MustCompile(`(?m)^` + marker + ` ids ([^\n]*)\n?`)

func takeIDLines(s string) (string, []string) {
	var ids []string
	for _, m := range idLine.FindAllStringSubmatch(s, -1) {
		for _, id := range strings.Fields(m[1]) {
			if fullID.MatchString(id) && len(id) == 64 {
				ids = append(ids, id)
			}
		}
	}
	return idLine.ReplaceAllString(s, ""), ids
}

func trimRight(lines []string) []string {
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return lines
}

// A content digest in the image store's narration: sha256:HEX, a blob's
// file (blobs/sha256/HEX, or its temp file .tmp-PID-N-HEX), a layer's
// directory named by its chain id (layers/HEX, .tmp-PID-HEX).
var digestRef = regexp.MustCompile(`(?:sha256[:/]|layers/)(?:\.tmp-\d+-(?:\d+-)?)?([0-9a-f]{64})\b`)

// digestsIn are the image digests of s (manifests, configs, layers, diff
// and chain ids): they are no container ids, and stay as they are. They
// need no stand-ins: a chapter builds its images with fixed times (and
// commits with SOURCE_DATE_EPOCH), so they are the same in every run on a
// host (a base layer holds the host's busybox: another Debian's differs).
func digestsIn(s string) map[string]bool {
	out := map[string]bool{}
	for _, m := range digestRef.FindAllStringSubmatch(s, -1) {
		out[m[1]] = true
	}
	return out
}
