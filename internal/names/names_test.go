package names

import "testing"

func TestDocker(t *testing.T) {
	for s, ok := range map[string]bool{"web": true, "a1_b.c-d": true, "9": true, "": false, "-a": false, ".a": false, "a/b": false, "a b": false, "é": false} {
		if Docker(s) != ok {
			t.Errorf("Docker(%q) = %v, want %v", s, !ok, ok)
		}
	}
	if Valid("Abc", LowerAlnum, "") || !Valid("abc-1", LowerAlnum, "-") {
		t.Error("Valid with LowerAlnum")
	}
}
