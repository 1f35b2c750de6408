package kv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mydocker/mydocker/internal/kernel"
)

// ErrExists is CreateIfAbsent's failure: one of its keys exists already
// (the error names which).
var ErrExists = errors.New("key exists")

// CreateIfAbsent puts every key of Puts only if none of them exists, in one
// transaction: two hosts racing for a subnet, or two networks for a VNI,
// get exactly one winner. Narrated as etcdctl 3.4's `txn`, which reads
// from stdin the compares, a blank line, the requests done when all hold,
// a blank line, those done otherwise (none here), and a blank line:
//
//	ETCDCTL_API=3 etcdctl --endpoints=URL txn <<'EOF'
//	version("/mydocker/v1/networks/ov1") = "0"
//	version("/mydocker/v1/vnis/42") = "0"
//
//	put "/mydocker/v1/networks/ov1" "{\"Name\":\"ov1\",...}"
//	put "/mydocker/v1/vnis/42" "ov1"
//
//
//	EOF
//
// (keys and values in Go's quoting, which etcdctl's txn reads back).
// Apply returns ErrExists, wrapped with the first key that exists, when a
// compare fails; etcdctl prints FAILURE then.
type CreateIfAbsent struct {
	C      *Client
	Puts   []Put // their C and Reason are not used
	Reason string
}

func (t CreateIfAbsent) Why() string { return t.Reason }
func (t CreateIfAbsent) Command() kernel.Command {
	var b strings.Builder
	for _, p := range t.Puts {
		fmt.Fprintf(&b, "version(%s) = \"0\"\n", strconv.Quote(p.Key))
	}
	b.WriteString("\n")
	for _, p := range t.Puts {
		b.WriteString("put ")
		if f := leaseFlag(p.Lease); f != nil {
			b.WriteString(f[0] + " ")
		}
		b.WriteString(strconv.Quote(p.Key) + " " + strconv.Quote(string(p.Value)) + "\n")
	}
	b.WriteString("\n\n") // no failure requests
	return kernel.Command{Argv: t.C.etcdctl("txn"), Stdin: b.String()}
}

func (t CreateIfAbsent) Apply(*kernel.Exec) error {
	if len(t.Puts) == 0 {
		return nil
	}
	cmps := make([]clientv3.Cmp, len(t.Puts))
	puts := make([]clientv3.Op, len(t.Puts))
	gets := make([]clientv3.Op, len(t.Puts)) // on failure: which exists
	for i, p := range t.Puts {
		cmps[i] = clientv3.Compare(clientv3.Version(p.Key), "=", 0)
		puts[i] = clientv3.OpPut(p.Key, string(p.Value), leaseOpts(p.Lease)...)
		gets[i] = clientv3.OpGet(p.Key, clientv3.WithCountOnly())
	}
	ctx, cancel := opCtx()
	defer cancel()
	resp, err := t.C.cli.Txn(ctx).If(cmps...).Then(puts...).Else(gets...).Commit()
	if err != nil {
		for _, p := range t.Puts {
			if p.Lease != 0 {
				return leaseErr(err, p.Lease)
			}
		}
		return err
	}
	if resp.Succeeded {
		return nil
	}
	for i, r := range resp.Responses {
		if g := r.GetResponseRange(); g != nil && g.Count > 0 {
			return fmt.Errorf("%w: %s", ErrExists, t.Puts[i].Key)
		}
	}
	return ErrExists // gone again since: still, it existed
}

func (t CreateIfAbsent) ErrorPrefix() string {
	keys := make([]string, len(t.Puts))
	for i, p := range t.Puts {
		keys[i] = p.Key
	}
	return "etcd txn creating " + strings.Join(keys, " ")
}
