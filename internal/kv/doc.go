// Package kv is mydocker's connection to etcd, where overlay networks keep
// what every host must agree on (doc/overlay.md): the networks, their VNIs,
// the host subnets each host leases, and the cluster-wide names.
//
// Why etcd's own client (go.etcd.io/etcd/client/v3), as issue 17 asks:
// the overlay's correctness rests on etcd's transactions (create a key
// only if absent, several keys at once), its leases (a host's subnet and
// names vanish with the host) and its watches (resumable from a revision,
// told of compactions). The official client does each of these the way
// etcd's maintainers test them: gRPC with retries across endpoints, lease
// keep-alives that notice an expiry, watches that resume after a broken
// connection. A hand-made client over the JSON gateway would redo all of
// that, worse.
//
// Which version: the newest, v3.7, talks to the etcd the tests run,
// Debian bookworm's etcd-server 3.4.23: the v3 gRPC API (KV, Txn, Lease,
// Watch, Maintenance.Status) is stable since 3.0 and the calls used here
// exist in 3.4 as they are (the tests here prove it against the real 3.4
// server). Nothing here uses what is newer than 3.4.
//
// What it costs: Go runs every linked package's init in every process, and
// mydocker's binary is every process of a container start (run, the init,
// the shim). Linking this package (the client, gRPC, protobuf and etcd's
// API descriptors: 79 packages more) takes `mydocker --version` from 4.07
// to 7.80 million instructions (callgrind, median of 3; +92 %), its inits
// from 250 KB and 1,850 allocations to 868 KB and 4,914, and the static
// binary from 14.8 to 20.2 MB (2026-11-30, measured as bench/startcost.sh
// does). The largest: protobuf's descriptor registry (162 KB, 934
// allocations), etcdserverpb (119 KB), googleapis annotations, grpc. A
// command that never talks to etcd pays it too. The way out, if that is
// too dear, keeps this package's API: etcd's own JSON gateway to the same
// v3 API (/v3/kv/range, /v3/kv/txn, /v3/lease/..., /v3/watch; served by
// etcd since 3.4) over net/http, which mydocker links already.
//
// Reads (Get, List, Watch) change nothing and are not narrated. Changes
// are ops of the kernel seam (internal/kernel.Op): narrated as the exact
// etcdctl 3.4 command that does the same (`ETCDCTL_API=3 etcdctl
// --endpoints=URLS put KEY VALUE`, `del`, `lease grant TTL`, `lease
// revoke ID`, and `txn` with its compares, success and failure requests
// on stdin), planned by --dry-run, and replayable from the script log: a
// lease's id, known only once etcd grants it, is $LEASE there.
//
// Every call fails fast: Dial within 2 s when etcd cannot be reached, a
// change within opTimeout, so a command never hangs on a dead etcd.
package kv
