// Package names checks the names users give things (containers, networks,
// images, hostnames) against the character sets docker allows. The checks
// are hand-written rather than regexps: compiling regexps at package init
// costs every mydocker process, and most never validate a name.
package names

import "strings"

// Valid reports whether s is non-empty, starts with a byte for which first
// holds, and continues with such bytes or bytes of rest.
func Valid(s string, first func(byte) bool, rest string) bool {
	if s == "" || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !first(s[i]) && strings.IndexByte(rest, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Alnum is [a-zA-Z0-9].
func Alnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' }

// LowerAlnum is [a-z0-9].
func LowerAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// Docker is docker's rule for container (and network) names:
// [a-zA-Z0-9][a-zA-Z0-9_.-]*.
func Docker(s string) bool { return Valid(s, Alnum, "_.-") }

// ShortID is the 12-character form of a 64-hex id that ps shows and that
// names things made for a container (its veth, its port chain).
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
