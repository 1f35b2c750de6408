// Package wire is the protocol between mydocker (internal/kv) and its etcd
// helper, mydocker-kv (cmd/mydocker-kv, internal/kv/etcdclient): JSON
// lines over the helper's stdin and stdout, as a container runtime talks
// to a CNI plugin, so that only the helper links etcd's client (gRPC,
// protobuf: +92 % of every mydocker process's start, see internal/kv).
//
// mydocker writes Requests, one JSON object a line, each with an ID of its
// choosing; the helper answers each with one Response of the same ID
// marked End, or, for the streams (OpWatch, OpKeepAlive), with any number
// of Responses and then one marked End. OpCancel ends the request it
// names (a stream, or a call whose caller gave up). The first request is
// OpDial; the helper ends, closing its connection to etcd, when its stdin
// closes, so it never outlives mydocker.
//
// It imports nothing beyond the standard library: mydocker links it.
package wire

// The operations.
const (
	OpDial      = "dial"      // Endpoints
	OpGet       = "get"       // Key → Value, Found, Rev
	OpList      = "list"      // Key (a prefix) → KVs, Rev
	OpLeaseOf   = "leaseof"   // Key → Lease, Found
	OpPut       = "put"       // Key, Value, Lease
	OpDelete    = "delete"    // Key, Prefix
	OpGrant     = "grant"     // TTL → Lease
	OpRevoke    = "revoke"    // Lease
	OpTxn       = "txn"       // Puts, created only if none exists → Code CodeExists and Key when one does
	OpKeepAlive = "keepalive" // Lease → one Response once kept alive, End once lost
	OpWatch     = "watch"     // Key (a prefix), Rev → Events, End once ended
	OpCancel    = "cancel"    // Cancel: the ID to end; no answer of its own
)

// Codes say which failure an error is, for errors.Is in mydocker.
const (
	CodeExists        = "exists"          // OpTxn: a key exists (Key says which)
	CodeLeaseNotFound = "lease_not_found" // etcd has no such lease (expired, revoked)
	CodeDeadline      = "deadline"        // context deadline exceeded
	CodeCanceled      = "canceled"        // context canceled
)

// Request is one line mydocker writes.
type Request struct {
	ID        uint64   `json:"id"`
	Op        string   `json:"op"`
	Endpoints []string `json:"endpoints,omitempty"`
	Key       string   `json:"key,omitempty"`
	Value     []byte   `json:"value,omitempty"`
	Prefix    bool     `json:"prefix,omitempty"`
	Lease     int64    `json:"lease,omitempty"`
	TTL       int64    `json:"ttl,omitempty"` // seconds
	Puts      []KV     `json:"puts,omitempty"`
	Rev       int64    `json:"rev,omitempty"`
	Cancel    uint64   `json:"cancel,omitempty"`
	// TimeoutMS bounds the call in the helper (0: no bound but
	// OpCancel); mydocker's context deadline, carried over.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// KV is one put of an OpTxn.
type KV struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
	Lease int64  `json:"lease,omitempty"`
}

// Response is one line the helper writes.
type Response struct {
	ID    uint64            `json:"id"`
	End   bool              `json:"end,omitempty"` // the last for ID
	Err   string            `json:"err,omitempty"`
	Code  string            `json:"code,omitempty"`
	Key   string            `json:"key,omitempty"`
	Value []byte            `json:"value,omitempty"`
	Found bool              `json:"found,omitempty"`
	Rev   int64             `json:"rev,omitempty"`
	KVs   map[string][]byte `json:"kvs,omitempty"`
	Lease int64             `json:"lease,omitempty"`
	Event *Event            `json:"event,omitempty"`
}

// Event is one change of an OpWatch, as internal/kv.Event.
type Event struct {
	Resync  bool              `json:"resync,omitempty"`
	Key     string            `json:"key,omitempty"`
	Value   []byte            `json:"value,omitempty"`
	Deleted bool              `json:"deleted,omitempty"`
	All     map[string][]byte `json:"all,omitempty"`
}
