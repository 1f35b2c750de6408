package network

import (
	"github.com/coreos/go-iptables/iptables"
)

// iptables returns the go-iptables handle, made on first use (it execs
// iptables --version, so commands that never touch rules never pay for it).
func (k *kernel) iptables() (*iptables.IPTables, error) {
	k.iptOnce.Do(func() { k.ipt, k.iptErr = iptables.New() })
	return k.ipt, k.iptErr
}

// IptNewChain: iptables -t TABLE -N CHAIN
func (k *kernel) IptNewChain(table, chain, why string) error {
	return k.do(why, []string{"iptables", "-t", table, "-N", chain}, func() error {
		ipt, err := k.iptables()
		if err != nil {
			return err
		}
		return ipt.NewChain(table, chain)
	})
}

// IptAppend: iptables -t TABLE -A CHAIN RULE...
func (k *kernel) IptAppend(r rule, why string) error {
	return k.do(why, append([]string{"iptables", "-t", r.Table, "-A", r.Chain}, r.Args...), func() error {
		ipt, err := k.iptables()
		if err != nil {
			return err
		}
		return ipt.Append(r.Table, r.Chain, r.Args...)
	})
}

// IptInsert: iptables -t TABLE -I CHAIN 1 RULE...
func (k *kernel) IptInsert(r rule, why string) error {
	return k.do(why, append([]string{"iptables", "-t", r.Table, "-I", r.Chain, "1"}, r.Args...), func() error {
		ipt, err := k.iptables()
		if err != nil {
			return err
		}
		return ipt.Insert(r.Table, r.Chain, 1, r.Args...)
	})
}

// IptDelete: iptables -t TABLE -D CHAIN RULE... (a rule already gone is skipped)
func (k *kernel) IptDelete(r rule, why string) error {
	if ok, err := k.IptExists(r); err == nil && !ok {
		return nil
	}
	return k.do(why, append([]string{"iptables", "-t", r.Table, "-D", r.Chain}, r.Args...), func() error {
		ipt, err := k.iptables()
		if err != nil {
			return err
		}
		err = ipt.Delete(r.Table, r.Chain, r.Args...)
		if err != nil {
			if ok, xerr := k.IptExists(r); xerr == nil && !ok {
				return nil // deleted meanwhile by a concurrent teardown
			}
		}
		return err
	})
}

// IptDeleteChain: iptables -t TABLE -F CHAIN; iptables -t TABLE -X CHAIN
// (a chain already gone is skipped).
func (k *kernel) IptDeleteChain(table, chain, why string) error {
	if ok, err := k.IptChainExists(table, chain); err == nil && !ok {
		return nil
	}
	ipt, err := k.iptables()
	if err != nil {
		return err
	}
	// A concurrent teardown may delete the chain between our steps: a
	// chain that is gone afterwards is success.
	gone := func(err error) error {
		if err != nil {
			if ok, xerr := k.IptChainExists(table, chain); xerr == nil && !ok {
				return nil
			}
		}
		return err
	}
	if err := k.do(why, []string{"iptables", "-t", table, "-F", chain}, func() error { return gone(ipt.ClearChain(table, chain)) }); err != nil {
		return err
	}
	return k.do("", []string{"iptables", "-t", table, "-X", chain}, func() error { return gone(ipt.DeleteChain(table, chain)) })
}

// IptExists reports whether a rule is present (a read, not narrated).
func (k *kernel) IptExists(r rule) (bool, error) {
	ipt, err := k.iptables()
	if err != nil {
		return false, err
	}
	if ok, err := ipt.ChainExists(r.Table, r.Chain); err != nil || !ok {
		return false, err
	}
	return ipt.Exists(r.Table, r.Chain, r.Args...)
}

// IptChainExists reports whether a chain is present (a read, not narrated).
func (k *kernel) IptChainExists(table, chain string) (bool, error) {
	ipt, err := k.iptables()
	if err != nil {
		return false, err
	}
	return ipt.ChainExists(table, chain)
}

// IptChainEmpty reports whether a chain holds no rules (false if missing).
func (k *kernel) IptChainEmpty(table, chain string) (bool, error) {
	ipt, err := k.iptables()
	if err != nil {
		return false, err
	}
	rules, err := ipt.List(table, chain)
	if err != nil {
		return false, err
	}
	return len(rules) <= 1, nil // the first line is "-N CHAIN"
}
