package htpasswd

import (
	"regexp"
	"testing"
)

// A line is user:$2b$04$<22 salt chars><31 hash chars>, salted afresh each
// time (the registry's check of it is in test/registry_test.go).
func TestLine(t *testing.T) {
	re := regexp.MustCompile(`^alice:\$2b\$04\$[./A-Za-z0-9]{53}$`)
	a, err := Line("alice", "s3cret pw")
	if err != nil || !re.MatchString(a) {
		t.Fatalf("Line: %q %v", a, err)
	}
	if b, _ := Line("alice", "s3cret pw"); b == a {
		t.Errorf("two lines share a salt: %q", a)
	}
}
