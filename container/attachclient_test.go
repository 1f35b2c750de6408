package container

import "testing"

func TestParseDetachKeys(t *testing.T) {
	for in, want := range map[string]string{
		"ctrl-p,ctrl-q":  "\x10\x11",
		"ctrl-a,x":       "\x01x",
		"ctrl-@,ctrl-[":  "\x00\x1b",
		"ctrl-\\,ctrl-_": "\x1c\x1f",
		"CTRL-Z":         "\x1a",
	} {
		got, err := ParseDetachKeys(in)
		if err != nil || string(got) != want {
			t.Errorf("ParseDetachKeys(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q"} {
		if _, err := ParseDetachKeys(bad); err == nil {
			t.Errorf("ParseDetachKeys(%q): no error", bad)
		}
	}
}

// The detach keys are held until the sequence is complete; keys that
// only begin it were typed, and are passed on.
func TestEscaper(t *testing.T) {
	for _, tc := range []struct {
		reads  []string
		out    string
		detach bool
	}{
		{[]string{"ls\r"}, "ls\r", false},
		{[]string{"a\x10\x11b"}, "a", true},
		{[]string{"a\x10", "\x11"}, "a", true},
		{[]string{"\x10x"}, "\x10x", false},
		{[]string{"\x10\x10\x11"}, "\x10", true},
		{[]string{"\x10", "y"}, "\x10y", false},
	} {
		e := &escaper{keys: []byte{0x10, 0x11}}
		var out []byte
		detach := false
		for _, r := range tc.reads {
			out, detach = e.feed([]byte(r), out)
			if detach {
				break
			}
		}
		if string(out) != tc.out || detach != tc.detach {
			t.Errorf("%q: %q, %v; want %q, %v", tc.reads, out, detach, tc.out, tc.detach)
		}
	}
}
