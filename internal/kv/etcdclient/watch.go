package etcdclient

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mydocker/mydocker/internal/kv/wire"
)

// resyncRetry is the wait between two tries to re-list after a broken
// watch, while etcd is unreachable.
const resyncRetry = time.Second

// watch sends every change under r.Key after revision r.Rev, in order.
// When etcd has compacted away revisions the watch still needed, or the
// watch breaks (etcd lost its leader), it lists the prefix afresh, sends a
// Resync event with the whole current set, and watches on from that
// list's revision. Rev 0 starts with a Resync of the current set. It ends
// (End) when the request is cancelled or the helper ends.
func (s *server) watch(ctx context.Context, r wire.Request) {
	defer s.send(wire.Response{ID: r.ID, End: true})
	prefix := r.Key
	send := func(e wire.Event) bool { return ctx.Err() == nil && s.send(wire.Response{ID: r.ID, Event: &e}) }
	wait := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	next := r.Rev + 1 // the first revision not yet sent
	resync := r.Rev <= 0
	for ctx.Err() == nil && s.cli.Ctx().Err() == nil {
		if resync {
			lctx, cancel := context.WithTimeout(ctx, opTimeout)
			resp, err := s.cli.Get(lctx, prefix, clientv3.WithPrefix())
			cancel()
			if err != nil {
				wait(resyncRetry)
				continue
			}
			all := make(map[string][]byte, len(resp.Kvs))
			for _, kv := range resp.Kvs {
				all[string(kv.Key)] = kv.Value
			}
			if !send(wire.Event{Resync: true, All: all}) {
				return
			}
			next, resync = resp.Header.Revision+1, false
		}
		// Require a leader: a member cut off from the others ends the
		// watch (and we resync) instead of going quiet.
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		started := time.Now()
		wch := s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(next))
		compacted := false
		for resp := range wch {
			if resp.CompactRevision != 0 || resp.Canceled || resp.Err() != nil {
				compacted = resp.CompactRevision != 0
				break
			}
			for _, ev := range resp.Events {
				e := wire.Event{Key: string(ev.Kv.Key)}
				if ev.Type == clientv3.EventTypeDelete {
					e.Deleted = true
				} else {
					e.Value = ev.Kv.Value
				}
				if !send(e) {
					cancel()
					return
				}
				next = ev.Kv.ModRevision + 1
			}
		}
		cancel()
		resync = true // the watch ended: closed by etcd, or ctx ended
		// A watch that etcd ends at once, again and again (no leader
		// yet), is retried at most once a second, not in a busy loop;
		// after a compaction, the list is due at once.
		if !compacted {
			wait(resyncRetry - time.Since(started))
		}
	}
}
