package kv

import (
	"context"

	"github.com/mydocker/mydocker/internal/kv/wire"
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

// Watch delivers every change under prefix after revision rev, in order.
// When etcd has compacted away revisions the watch still needed, or the
// watch breaks (etcd lost its leader), it lists the prefix afresh, delivers
// a Resync event with the whole current set, and watches on from that
// list's revision. rev 0 starts with a Resync of the current set. The
// channel is closed when ctx ends or the client is closed (mydocker-kv
// exited: closed, or killed), and only then. The watch runs in
// mydocker-kv; its events wait here, in order, for the receiver.
func (c *Client) Watch(ctx context.Context, prefix string, rev int64) <-chan Event {
	out := make(chan Event)
	b, err := c.h.open(wire.Request{Op: wire.OpWatch, Key: prefix, Rev: rev})
	if err != nil { // mydocker-kv is gone: as a closed client
		close(out)
		return out
	}
	go func() {
		defer close(out)
		for {
			r, ok := b.get(ctx)
			if !ok {
				if ctx.Err() != nil {
					c.h.cancel(b.id)
				}
				return
			}
			if r.Event == nil {
				continue // the end, or an error: the next get says which
			}
			e := Event{Resync: r.Event.Resync, Key: r.Event.Key, Value: r.Event.Value, Deleted: r.Event.Deleted, All: r.Event.All}
			if e.Resync && e.All == nil {
				e.All = map[string][]byte{}
			}
			select {
			case out <- e:
			case <-ctx.Done():
				c.h.cancel(b.id)
				return
			}
		}
	}()
	return out
}
