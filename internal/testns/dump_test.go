package testns

import "testing"

// Two dumps of the same setup, one taken before the kernel's linkwatch
// dropped the emptied bridge's carrier and one after, compare equal; a
// different address does not.
func TestNormalizeDumpIgnoresWhatSettlesLate(t *testing.T) {
	early := "7: cn1: <BROADCAST,MULTICAST,UP> mtu 1500 state UP mode DEFAULT\n10.71.0.0/24 dev cn1 proto kernel scope link src 10.71.0.1"
	late := "9: cn1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN mode DEFAULT\n10.71.0.0/24 dev cn1 proto kernel scope link src 10.71.0.1 linkdown"
	if a, b := NormalizeDump(early), NormalizeDump(late); a != b {
		t.Errorf("carrier and index should not count:\n%s\n%s", a, b)
	}
	other := "9: cn1: <BROADCAST,MULTICAST,UP> mtu 1500\n10.72.0.0/24 dev cn1 proto kernel scope link src 10.72.0.1"
	if NormalizeDump(early) == NormalizeDump(other) {
		t.Error("a different subnet compared equal")
	}
}
