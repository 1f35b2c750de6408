package kv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mydocker/mydocker/internal/kernel"
)

// LeaseID is an etcd lease, printed in hex as etcdctl prints and reads it.
type LeaseID int64

func (id LeaseID) String() string { return strconv.FormatInt(int64(id), 16) }

// StandInLease is the lease a plan (--dry-run) pretends etcd granted; its
// narration calls it $LEASE.
const StandInLease LeaseID = 0x5747d1e5ea5e

// ErrLeaseGone is the failure of a put bound to a lease etcd no longer has
// (expired, revoked), and of KeepAlive for one: the holder must lease
// again, and may find what it bound taken by then.
var ErrLeaseGone = errors.New("lease is gone (expired or revoked)")

// leaseErr says ErrLeaseGone for etcd's "requested lease not found".
func leaseErr(err error, lease LeaseID) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("%w: %s", ErrLeaseGone, lease)
	}
	return err
}

// LeaseVar is the variable a script names the lease by.
const LeaseVar = "LEASE"

// etcdctl is the command line of etcdctl 3.4 against c's endpoints.
func (c *Client) etcdctl(args ...string) []string {
	return append([]string{"ETCDCTL_API=3", "etcdctl", "--endpoints=" + strings.Join(c.endpoints, ",")}, args...)
}

// opCtx bounds one change.
func opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

// leaseOpts binds a put to lease (none for 0).
func leaseOpts(lease LeaseID) []clientv3.OpOption {
	if lease == 0 {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithLease(clientv3.LeaseID(lease))}
}

// leaseFlag is etcdctl's put flag for lease (none for 0).
func leaseFlag(lease LeaseID) []string {
	if lease == 0 {
		return nil
	}
	return []string{"--lease=" + lease.String()}
}

// Put is `etcdctl put [--lease=ID] KEY VALUE`.
type Put struct {
	C      *Client
	Key    string
	Value  []byte
	Lease  LeaseID // 0: none; the key vanishes with the lease
	Reason string
}

func (p Put) Why() string { return p.Reason }
func (p Put) Command() kernel.Command {
	args := append([]string{"put"}, leaseFlag(p.Lease)...)
	if strings.HasPrefix(p.Key, "-") || strings.HasPrefix(string(p.Value), "-") {
		args = append(args, "--") // not a flag, whatever it starts with
	}
	return kernel.Command{Argv: p.C.etcdctl(append(args, p.Key, string(p.Value))...)}
}
func (p Put) Apply(*kernel.Exec) error {
	ctx, cancel := opCtx()
	defer cancel()
	_, err := p.C.cli.Put(ctx, p.Key, string(p.Value), leaseOpts(p.Lease)...)
	return leaseErr(err, p.Lease)
}
func (p Put) ErrorPrefix() string { return "etcd put " + p.Key }

// Delete is `etcdctl del KEY [--prefix]`; a key already gone is no error,
// so teardown can be repeated.
type Delete struct {
	C      *Client
	Key    string
	Prefix bool // every key that starts with Key
	Reason string
}

func (d Delete) Why() string { return d.Reason }
func (d Delete) Command() kernel.Command {
	args := []string{"del", d.Key}
	if strings.HasPrefix(d.Key, "-") {
		args = []string{"del", "--", d.Key}
	}
	if d.Prefix {
		args = append(args[:1], append([]string{"--prefix"}, args[1:]...)...)
	}
	return kernel.Command{Argv: d.C.etcdctl(args...)}
}
func (d Delete) Apply(*kernel.Exec) error {
	ctx, cancel := opCtx()
	defer cancel()
	var opts []clientv3.OpOption
	if d.Prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	_, err := d.C.cli.Delete(ctx, d.Key, opts...)
	return err
}
func (d Delete) ErrorPrefix() string {
	if d.Prefix {
		return "etcd del --prefix " + d.Key
	}
	return "etcd del " + d.Key
}

// LeaseGrant is `etcdctl lease grant TTL`: a lease that etcd ends TTL
// after the last keep-alive. Its id, in *ID once done, is $LEASE in a
// script (which reads it from etcdctl's "lease 694d… granted with
// TTL(20s)") and in a plan. The ops that bind keys to it are built once
// Do has returned: a Put built beside the grant, in the same Do, would
// carry the id as it was before (0, no lease).
type LeaseGrant struct {
	C      *Client
	TTL    time.Duration // whole seconds, as etcd counts; at least 1 s
	Reason string
	ID     *LeaseID // set once granted
}

// seconds is the TTL as etcd takes it, rounded up.
func (g LeaseGrant) seconds() int64 {
	s := int64(math.Ceil(g.TTL.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

func (g LeaseGrant) Why() string { return g.Reason }
func (g LeaseGrant) Command() kernel.Command {
	argv := g.C.etcdctl("lease", "grant", strconv.FormatInt(g.seconds(), 10))
	return kernel.Command{
		Argv: argv,
		// etcdctl prints "lease 694d7a0d1b9c4a0b granted with TTL(20s)".
		Script: LeaseVar + "=$(" + kernel.Command{Argv: argv}.Text(nil) + " | cut -d' ' -f2)",
	}
}
func (g LeaseGrant) Apply(*kernel.Exec) error {
	if g.ID == nil {
		return errors.New("kv.LeaseGrant without a place for the id")
	}
	ctx, cancel := opCtx()
	defer cancel()
	resp, err := g.C.cli.Grant(ctx, g.seconds())
	if err != nil {
		return err
	}
	*g.ID = LeaseID(resp.ID)
	return nil
}

// Plan invents the lease: StandInLease, narrated as $LEASE.
func (g LeaseGrant) Plan(*kernel.Plan) error {
	if g.ID != nil {
		*g.ID = StandInLease
	}
	return nil
}

// Names implements kernel.Naming: later steps say $LEASE.
func (g LeaseGrant) Names() [][2]string {
	if g.ID == nil {
		return nil
	}
	return [][2]string{{LeaseVar, g.ID.String()}}
}
func (g LeaseGrant) ErrorPrefix() string {
	return fmt.Sprintf("etcd lease grant %d", g.seconds())
}

// LeaseRevoke is `etcdctl lease revoke ID`: the lease ends now, and every
// key bound to it goes. A lease already gone (expired) is no error.
type LeaseRevoke struct {
	C      *Client
	ID     LeaseID
	Reason string
}

func (r LeaseRevoke) Why() string { return r.Reason }
func (r LeaseRevoke) Command() kernel.Command {
	return kernel.Command{Argv: r.C.etcdctl("lease", "revoke", r.ID.String())}
}
func (r LeaseRevoke) Apply(*kernel.Exec) error {
	ctx, cancel := opCtx()
	defer cancel()
	_, err := r.C.cli.Revoke(ctx, clientv3.LeaseID(r.ID))
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return nil
	}
	return err
}
func (r LeaseRevoke) ErrorPrefix() string { return "etcd lease revoke " + r.ID.String() }
