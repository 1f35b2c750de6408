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
// Where it runs: in mydocker-kv (cmd/mydocker-kv, internal/kv/etcdclient),
// a helper process that Dial execs, as a container runtime execs a CNI
// plugin; this package talks to it in JSON lines over its stdin and stdout
// (internal/kv/wire) and links neither gRPC nor protobuf. Go runs every
// linked package's init in every process, and mydocker's binary is every
// process of a container start (run, the init, the shim): linked into
// mydocker, etcd's client (gRPC, protobuf's descriptor registry, etcd's
// API descriptors: 79 packages more) took `mydocker --version` from 3.97
// to 7.79 million instructions (+96 %), the init's start from 3.61 to
// 7.32, its package inits from 250 KB and 1,850 allocations to 868 KB and
// 4,914, and the static binary from 14.8 to 20.2 MB, in every command,
// bridge networks' too. Through mydocker-kv, with this package linked,
// mydocker is back where it was without it: --version 3.99 M instructions,
// the init 3.60 M, 250 KB and 1,850 allocations, 14.8 MB; mydocker-kv is
// a 14.4 MB static binary of its own (callgrind, median of 3, the
// Makefile's builds, 2026-11-30; bench/README.md, "etcd's client").
//
// The price is paid only by a command that talks to etcd, once per Dial:
// Dial takes 14 ms (exec of mydocker-kv, 8 ms of it on this loaded
// machine, then its connection and one read) where etcd's client in the
// process took 2.2 ms; Close 2.3 ms (it waits for mydocker-kv to exit);
// a Get 1.0 ms instead of 0.6 ms (one more pipe round trip). A command
// makes one Dial, the overlay's watcher one for its life.
//
// The helper's life is the Client's: Dial starts it, Close closes its
// stdin and it exits; it exits too when the mydocker that started it dies
// (its stdin closes), so nothing outlives mydocker. Killed under a client,
// every call after fails at once in one line ("mydocker-kv (pid N) ended:
// signal: killed"), a KeepAlive's lost channel and a Watch's channel
// close: the client is as closed. Dial finds mydocker-kv in
// $MYDOCKER_KV_HELPER, else beside the running mydocker (where `make
// build` and `make install` put it), else in $PATH, and says in one line
// where it looked when it is in none. Keys travel as JSON strings:
// mydocker's keys are text.
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
