package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"

	"github.com/mydocker/mydocker/internal/names"
)

// IPAM errors callers branch on.
var (
	ErrNoAvailableIPs = errors.New("no available IP addresses")
	ErrIPInUse        = errors.New("address in use")
	ErrIPOutOfRange   = errors.New("address outside the subnet")
)

// Pool is the IPAM of one IPv4 subnet: a bitmap with a bit per address
// (bit i = network address + i). The network and broadcast addresses are set
// at creation and never given out; the gateway is reserved by the caller.
// Allocation scans 64 addresses per step (math/bits) from a next-free hint,
// so filling a subnet costs the same per address from the first to the last.
// A Pool does no I/O and is never stored: poolOf derives it from the
// network's file, where each address has its owner.
type Pool struct {
	subnet net.IPNet
	base   uint32   // network address
	size   uint64   // addresses in the subnet
	words  []uint64 // the bitmap
	hint   uint64   // where the next search starts
	owners map[uint64]string
}

// NewPool returns an empty pool for an IPv4 subnet of at most /30.
func NewPool(subnet *net.IPNet) (*Pool, error) {
	ip4 := subnet.IP.To4()
	ones, bitsLen := subnet.Mask.Size()
	if ip4 == nil || bitsLen != 32 {
		return nil, fmt.Errorf("subnet %s: only IPv4 is supported", subnet)
	}
	if ones > 30 {
		return nil, fmt.Errorf("subnet %s is too small: at most /30 (a gateway and one container)", subnet)
	}
	if ones < 8 {
		return nil, fmt.Errorf("subnet %s is too large: at least /8", subnet)
	}
	size := uint64(1) << (32 - ones)
	p := &Pool{
		subnet: net.IPNet{IP: ip4.Mask(subnet.Mask), Mask: subnet.Mask},
		base:   binary.BigEndian.Uint32(ip4.Mask(subnet.Mask)),
		size:   size,
		words:  make([]uint64, (size+63)/64),
		owners: map[uint64]string{},
	}
	p.set(0)        // network address
	p.set(size - 1) // broadcast address
	p.hint = 1
	return p, nil
}

func (p *Pool) set(i uint64)        { p.words[i/64] |= 1 << (i % 64) }
func (p *Pool) clear(i uint64)      { p.words[i/64] &^= 1 << (i % 64) }
func (p *Pool) isSet(i uint64) bool { return p.words[i/64]&(1<<(i%64)) != 0 }

// Subnet is the pool's subnet.
func (p *Pool) Subnet() *net.IPNet { s := p.subnet; return &s }

func (p *Pool) index(ip net.IP) (uint64, error) {
	ip4 := ip.To4()
	if ip4 == nil || !p.subnet.Contains(ip4) {
		return 0, fmt.Errorf("%s is not in subnet %s: %w", ip, &p.subnet, ErrIPOutOfRange)
	}
	return uint64(binary.BigEndian.Uint32(ip4) - p.base), nil
}

func (p *Pool) ip(i uint64) net.IP {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, p.base+uint32(i))
	return ip
}

// Reserve takes a specific address for owner (the gateway, or a container's
// --ip). The network and broadcast addresses and taken addresses are refused.
func (p *Pool) Reserve(ip net.IP, owner string) error {
	i, err := p.index(ip)
	if err != nil {
		return err
	}
	if i == 0 || i == p.size-1 {
		return fmt.Errorf("%s is the network or broadcast address of %s: %w", ip, &p.subnet, ErrIPInUse)
	}
	if p.isSet(i) {
		if o := p.owners[i]; o != "" {
			return fmt.Errorf("%s is in use by %s: %w", ip, o, ErrIPInUse)
		}
		return fmt.Errorf("%s: %w", ip, ErrIPInUse)
	}
	p.set(i)
	p.owners[i] = owner
	return nil
}

// Allocate gives owner the next free address in [first, last] (nil bounds:
// the whole subnet), searching from the hint and wrapping around once.
func (p *Pool) Allocate(owner string, within *net.IPNet) (net.IP, error) {
	lo, hi := uint64(1), p.size-2
	if within != nil {
		a, err := p.index(within.IP.Mask(within.Mask))
		if err != nil {
			return nil, err
		}
		ones, _ := within.Mask.Size()
		b := a + (uint64(1) << (32 - ones)) - 1
		lo, hi = max(lo, a), min(hi, b)
	}
	start := p.hint
	if start < lo || start > hi {
		start = lo
	}
	i, ok := p.findFree(start, hi)
	if !ok && start > lo {
		i, ok = p.findFree(lo, start-1)
	}
	if !ok {
		return nil, fmt.Errorf("subnet %s: %w", &p.subnet, ErrNoAvailableIPs)
	}
	p.set(i)
	p.owners[i] = owner
	p.hint = i + 1
	return p.ip(i), nil
}

// findFree returns the first clear bit in [from, to], 64 bits at a time.
func (p *Pool) findFree(from, to uint64) (uint64, bool) {
	for w := from / 64; w <= to/64; w++ {
		free := ^p.words[w]
		if w == from/64 {
			free &= ^uint64(0) << (from % 64)
		}
		if free == 0 {
			continue
		}
		i := w*64 + uint64(bits.TrailingZeros64(free))
		if i > to {
			return 0, false
		}
		return i, true
	}
	return 0, false
}

// Release frees an address. Releasing a free address, or one outside the
// subnet, is not an error: teardown paths may run twice.
func (p *Pool) Release(ip net.IP) {
	i, err := p.index(ip)
	if err != nil || i == 0 || i == p.size-1 {
		return
	}
	p.clear(i)
	delete(p.owners, i)
}

// Owner returns who holds an address ("" when free or unknown).
func (p *Pool) Owner(ip net.IP) string {
	i, err := p.index(ip)
	if err != nil {
		return ""
	}
	return p.owners[i]
}

// InUse reports whether an address is taken.
func (p *Pool) InUse(ip net.IP) bool {
	i, err := p.index(ip)
	return err == nil && p.isSet(i)
}

// Allocated lists the taken addresses, network and broadcast excluded.
func (p *Pool) Allocated() []net.IP {
	var out []net.IP
	for w, word := range p.words {
		for word != 0 {
			b := uint64(bits.TrailingZeros64(word))
			word &^= 1 << b
			i := uint64(w)*64 + b
			if i != 0 && i != p.size-1 {
				out = append(out, p.ip(i))
			}
		}
	}
	return out
}

// poolOf is the pool of a network, derived from its file, the one record
// of who holds which address: the gateway, and each endpoint's IP. A file
// where two owners claim one address, or an address that is the network's,
// its broadcast or outside its subnet, is corrupt. The hint starts after the
// highest address in use, so addresses freed recently are not handed out
// again at once.
func poolOf(nw *Network) (*Pool, error) {
	_, subnet, err := net.ParseCIDR(nw.Subnet)
	if err != nil {
		return nil, fmt.Errorf("subnet %q: %w", nw.Subnet, err)
	}
	p, err := NewPool(subnet)
	if err != nil {
		return nil, err
	}
	if err := p.Reserve(net.ParseIP(nw.Gateway), "the gateway of "+nw.Name); err != nil {
		return nil, fmt.Errorf("gateway %q: %w", nw.Gateway, err)
	}
	for _, id := range byAddress(nw.Containers) {
		ep := nw.Containers[id]
		if err := p.Reserve(net.ParseIP(ep.IP), "container "+names.ShortID(id)); err != nil {
			return nil, fmt.Errorf("endpoint of %s: address %q: %w", names.ShortID(id), ep.IP, err)
		}
	}
	p.hint = 1
	for w := len(p.words) - 1; w >= 0; w-- {
		word := p.words[w]
		if w == len(p.words)-1 {
			word &^= 1 << ((p.size - 1) % 64) // ignore the broadcast bit
		}
		if word != 0 {
			p.hint = uint64(w)*64 + uint64(64-bits.LeadingZeros64(word))
			break
		}
	}
	return p, nil
}
