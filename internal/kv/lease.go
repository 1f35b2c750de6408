package kv

import (
	"context"
	"errors"
	"fmt"

	"github.com/mydocker/mydocker/internal/kv/wire"
)

// KeepAlive keeps lease alive until ctx ends. The channel it returns is
// closed when the lease is lost: etcd says it expired or was revoked, or
// etcd has not answered a keep-alive for the lease's TTL (so, as far as
// this host can tell, etcd has let it expire): the holder then stops
// using what it bound to the lease (a subnet another host may lease
// now). It is closed too once ctx ends, and when mydocker-kv dies (no one
// keeps the lease alive any more). A lease that is gone already is
// ErrLeaseGone at once.
func (c *Client) KeepAlive(ctx context.Context, lease LeaseID) (lost <-chan struct{}, err error) {
	b, err := c.h.open(wire.Request{Op: wire.OpKeepAlive, Lease: int64(lease)})
	if err != nil {
		return nil, fmt.Errorf("etcd lease keep-alive %s: %w", lease, err)
	}
	// The first answer: kept alive, or why not.
	first, ok := b.get(ctx)
	switch {
	case !ok && ctx.Err() != nil:
		c.h.cancel(b.id)
		return nil, fmt.Errorf("etcd lease keep-alive %s: %w", lease, ctx.Err())
	case !ok:
		return nil, fmt.Errorf("etcd lease keep-alive %s: %w", lease, c.h.err())
	}
	if err := remoteErr(first); err != nil {
		if errors.Is(err, errLeaseNotFound) {
			return nil, fmt.Errorf("etcd lease keep-alive: %w: %s", ErrLeaseGone, lease)
		}
		return nil, fmt.Errorf("etcd lease keep-alive %s: %w", lease, err)
	}
	out := make(chan struct{})
	go func() {
		defer close(out)
		// The next answer is the end (lost); or the helper died; or ctx
		// ended, and the helper is told to stop keeping it alive.
		if _, ok := b.get(ctx); !ok && ctx.Err() != nil {
			c.h.cancel(b.id)
		}
	}()
	return out, nil
}

// LeaseOf is the lease key is bound to (0: none), for a holder that
// restarts and finds its key: is it still bound to the lease it keeps
// alive?
func (c *Client) LeaseOf(ctx context.Context, key string) (lease LeaseID, found bool, err error) {
	resp, err := c.h.call(ctx, wire.Request{Op: wire.OpLeaseOf, Key: key})
	if err != nil {
		return 0, false, fmt.Errorf("etcd get %s: %w", key, err)
	}
	return LeaseID(resp.Lease), resp.Found, nil
}
