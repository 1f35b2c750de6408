package kv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/kv/wire"
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
	puts := make([]wire.KV, len(t.Puts))
	for i, p := range t.Puts {
		puts[i] = wire.KV{Key: p.Key, Value: p.Value, Lease: int64(p.Lease)}
	}
	resp, err := t.C.change(wire.Request{Op: wire.OpTxn, Puts: puts})
	switch {
	case errors.Is(err, ErrExists) && resp.Key != "":
		return fmt.Errorf("%w: %s", ErrExists, resp.Key)
	case errors.Is(err, ErrExists):
		return ErrExists // gone again since: still, it existed
	case err != nil:
		for _, p := range t.Puts {
			if p.Lease != 0 {
				return leaseErr(err, p.Lease)
			}
		}
		return err
	}
	return nil
}

func (t CreateIfAbsent) ErrorPrefix() string {
	keys := make([]string, len(t.Puts))
	for i, p := range t.Puts {
		keys[i] = p.Key
	}
	return "etcd txn creating " + strings.Join(keys, " ")
}
