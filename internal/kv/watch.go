package kv

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Event is one change under a watched prefix, or a Resync.
type Event struct {
	// Resync: changes may have been missed (a compaction, a broken
	// watch); All is the whole current set under the prefix, which
	// replaces whatever the receiver knew. Key, Value and Deleted are
	// then unset.
	Resync bool
	Key    string
	Value  []byte
	// Deleted: Key was deleted (or its lease ended); Value is nil.
	Deleted bool
	All     map[string][]byte
}

// resyncRetry is the wait between two tries to re-list after a broken
// watch, while etcd is unreachable.
const resyncRetry = time.Second

// Watch delivers every change under prefix after revision rev, in order.
// When etcd has compacted away revisions the watch still needed, or the
// watch breaks (etcd lost its leader), it lists the prefix afresh, delivers
// a Resync event with the whole current set, and watches on from that
// list's revision. rev 0 starts with a Resync of the current set. The
// channel is closed when ctx ends or the client is closed, and only then.
func (c *Client) Watch(ctx context.Context, prefix string, rev int64) <-chan Event {
	out := make(chan Event)
	go func() {
		defer close(out)
		send := func(e Event) bool {
			select {
			case out <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		wait := func(d time.Duration) {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		next := rev + 1 // the first revision not yet delivered
		resync := rev <= 0
		// until ctx ends, or the client is closed under it
		for ctx.Err() == nil && c.cli.Ctx().Err() == nil {
			if resync {
				kvs, r, err := c.List(ctx, prefix)
				if err != nil {
					wait(resyncRetry)
					continue
				}
				if !send(Event{Resync: true, All: kvs}) {
					return
				}
				next, resync = r+1, false
			}
			// Require a leader: a member cut off from the others ends the
			// watch (and we resync) instead of going quiet.
			wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
			started := time.Now()
			wch := c.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(next))
			compacted := false
			for resp := range wch {
				if resp.CompactRevision != 0 || resp.Canceled || resp.Err() != nil {
					compacted = resp.CompactRevision != 0
					break
				}
				for _, ev := range resp.Events {
					e := Event{Key: string(ev.Kv.Key)}
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
	}()
	return out
}
