#!/usr/bin/env bash
# Benchmarks `run` of a pulled multi-layer image against busybox's, side by
# side in one run: `run --rm --net none IMAGE true` from start to exit, the
# median of N runs each (hyperfine), then paired (the two alternate run by
# run, and the median of the differences is what the layers cost). The image
# has LAYERS layers (default 10), one of them holding 64 MB: a start that
# copied the image would pay for it every time; one that mounts the layers as
# lowerdirs pays only for a longer lowerdir option.
# It is served by Debian's docker-registry on 127.0.0.1, pulled once, and
# checked for copies: the container's upper directory stays empty, and the
# data root does not grow by a start.
# Runs in its own network and mount namespace with temporary roots.
#   sudo bench/images.sh [RUNS] [LAYERS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
layers=${2:-10}
if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/mydocker-bench-images-XXXXXX)
registry=
trap '[ -n "$registry" ] && kill "$registry" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
md="$PWD/mydocker --root $work/run --data-root $work/lib --log-level warn"

# The image: layer 1 the host's busybox, layer 2 64 MB of random bytes,
# then small layers of a file each (the last one also deletes one of the
# file before, a whiteout), as an OCI layout, fixed times.
oci=$work/oci
mkdir -p "$oci/blobs/sha256"
blob() { cat >"$oci/blob.tmp" && d=$(sha256sum <"$oci/blob.tmp" | cut -c1-64) && mv "$oci/blob.tmp" "$oci/blobs/sha256/$d" && echo "$d"; }
size() { stat -c %s "$oci/blobs/sha256/$1"; }
layer() { tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -c . | gzip -n -1 | blob; }
for i in $(seq "$layers"); do mkdir -p "$work/l$i/data"; done
mkdir -p "$work/l1/bin"
cp "$(command -v busybox)" "$work/l1/bin/busybox"
for a in sh true ls cat sleep; do ln -s busybox "$work/l1/bin/$a"; done
head -c 64M /dev/urandom >"$work/l2/data/big"
for i in $(seq 3 "$layers"); do echo "layer $i" >"$work/l$i/data/f$i"; done
[ "$layers" -ge 4 ] && : >"$work/l$layers/data/.wh.f3"
digests=() diffids=()
for i in $(seq "$layers"); do
	d=$(layer "$work/l$i")
	digests+=("$d")
	diffids+=("\"sha256:$(gzip -dc "$oci/blobs/sha256/$d" | sha256sum | cut -c1-64)\"")
done
ids=$(IFS=,; echo "${diffids[*]}")
cfg=$(printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
	"$(dpkg --print-architecture)" "$ids" | blob)
ls=()
for d in "${digests[@]}"; do
	ls+=("$(printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}' "$d" "$(size "$d")")")
done
man=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
	"$cfg" "$(size "$cfg")" "$(IFS=,; echo "${ls[*]}")" | blob)
printf '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"127.0.0.1:5000/bench:v1"}}]}' \
	"$man" "$(size "$man")" >"$oci/index.json"

# The registry, the push (from another data root), the pull.
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:5000\n  secret: bench\n' "$work" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry=$!
for _ in $(seq 100); do busybox wget -q -O /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && break; sleep 0.1; done
$PWD/mydocker --data-root "$work/builder" --log-level warn load -i "$oci" >/dev/null
$PWD/mydocker --data-root "$work/builder" --log-level warn push 127.0.0.1:5000/bench:v1 >/dev/null
$md pull -q 127.0.0.1:5000/bench:v1 >/dev/null
$md run --rm --net none busybox true # builds the busybox image
img=127.0.0.1:5000/bench:v1
echo "image: $layers layers, $(du -sh "$work/lib/image/layers" | cut -f1) unpacked; busybox: $(du -sh "$work/lib/images/busybox" | cut -f1)" >&2

# No copy per start: a container's upper directory holds nothing it did not
# write, and the data root grows by nothing once it is gone.
before=$(du -sb "$work/lib" | cut -f1)
$md run -d --name probe --net none "$img" sleep 1000 >/dev/null
upper=$(find "$work/lib/containers" -mindepth 2 -maxdepth 2 -name upper)
pid=$($md inspect probe | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
lower=$(grep -o 'lowerdir=[^,]*' "/proc/$pid/mountinfo" | head -1)
echo "a running container's upper directory: $(du -sh "$upper" | cut -f1), only the runtime's mount points: $(cd "$upper" && find . -mindepth 1 | sort | tr '\n' ' '); its root: ${lower:0:60}... ($(echo "$lower" | tr ':' '\n' | wc -l) layers)" >&2
$md rm -f probe >/dev/null
after=$(du -sb "$work/lib" | cut -f1)
echo "data root before and after a start: $before and $after bytes" >&2

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
	-n busybox "$md run --rm --net none busybox true" \
	-n layered "$md run --rm --net none $img true" >&2
python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["busybox"]["median"]
print("%-10s %10s %12s" % ("", "median ms", "x busybox"))
for k in ("busybox", "layered"):
    print("%-10s %10.1f %12.2f" % (k, r[k]["median"] * 1000, r[k]["median"] / base))
PY

# Paired: the machine drifts (2 shared cores); alternating cancels it. The
# CPU time (user + system, of mydocker and of the processes it waited for)
# is steadier than the wall time on a loaded machine: it is what a start
# costs, not how long it waited for a core.
python3 - "$runs" "$img" $md <<'PY'
import resource, statistics, subprocess, sys, time
runs, img, md = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def once(image):
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    subprocess.run(md + ["run", "--rm", "--net", "none", image, "true"], check=True)
    r1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    return (t1 - t0) * 1000, (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
pairs = [(once("busybox"), once(img)) for _ in range(runs)]
for i, what in ((0, "wall"), (1, "CPU")):
    b = statistics.median(p[0][i] for p in pairs)
    l = statistics.median(p[1][i] for p in pairs)
    d = statistics.median(p[1][i] - p[0][i] for p in pairs)
    print("paired, %d runs interleaved, %-4s: busybox %.1f ms, layered %.1f ms (x %.2f), median difference %+.2f ms" % (runs, what, b, l, l / b, d))
PY
