package logfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEncodeAsDocker(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 120000000, time.FixedZone("x", 3600))
	for _, c := range []struct{ in, want string }{
		{"hello\n", `{"log":"hello\n","stream":"stdout","time":"2024-05-06T06:08:09.12Z"}`},
		{"a\"b\\c\r\t<&>\x01\n", `{"log":"a\"b\\c\r\u0009\u003c\u0026\u003e\u0001\n","stream":"stdout","time":"2024-05-06T06:08:09.12Z"}`},
		{"\xff\u2028é", `{"log":"\ufffd\u2028é","stream":"stdout","time":"2024-05-06T06:08:09.12Z"}`},
		{"", `{"stream":"stdout","time":"2024-05-06T06:08:09.12Z"}`},
	} {
		var buf bytes.Buffer
		Encode(&buf, "stdout", []byte(c.in), at)
		if got := buf.String(); got != c.want+"\n" {
			t.Errorf("Encode(%q) = %s, want %s", c.in, got, c.want)
		}
		var r Record
		if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
			t.Errorf("Encode(%q): not JSON: %v", c.in, err)
		}
	}
}

func readAll(t *testing.T, path string, o ReadOptions) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Read(path, o, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

func TestStreamsLinesAndPartials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	l, err := Open(path, Options{MaxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, errs := l.Stream("stdout"), l.Stream("stderr")
	out.Write([]byte("one\ntw"))
	errs.Write([]byte("oops\n"))
	out.Write([]byte("o\nthree"))
	long := strings.Repeat("x", maxLine+10) + "\n"
	errs.Write([]byte(long))
	out.Flush()
	errs.Flush()
	l.Close()

	b, _ := os.ReadFile(path)
	var recs []Record
	for _, line := range strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	want := []Record{{Log: "one\n", Stream: "stdout"}, {Log: "oops\n", Stream: "stderr"}, {Log: "two\n", Stream: "stdout"},
		{Log: strings.Repeat("x", maxLine), Stream: "stderr"}, {Log: strings.Repeat("x", 10) + "\n", Stream: "stderr"},
		{Log: "three", Stream: "stdout"}}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i := range want {
		if recs[i].Log != want[i].Log || recs[i].Stream != want[i].Stream || recs[i].Time.IsZero() {
			t.Errorf("record %d: %.40q in %s, want %.40q in %s", i, recs[i].Log, recs[i].Stream, want[i].Log, want[i].Stream)
		}
	}
	if !recs[3].Time.Equal(recs[4].Time) {
		t.Errorf("a cut line's records have the time of its start: %v, %v", recs[3].Time, recs[4].Time)
	}
	o, e := readAll(t, path, ReadOptions{Tail: -1})
	if o != "one\ntwo\nthree" || e != "oops\n"+long {
		t.Errorf("Read: stdout %q, stderr of %d bytes", o, len(e))
	}
}

func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	l, _ := Open(path, Options{MaxSize: 200, MaxFiles: 3})
	s := l.Stream("stdout")
	var all strings.Builder
	for i := 0; i < 30; i++ {
		line := strings.Repeat(string(rune('a'+i%26)), 20) + "\n"
		s.Write([]byte(line))
		all.WriteString(line)
	}
	l.Close()
	files := Files(path)
	if len(files) != 3 || files[0] != path+".2" || files[2] != path {
		t.Fatalf("files: %v", files)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Size() > 200+100 {
			t.Errorf("%s: %d bytes", f, fi.Size())
		}
	}
	got, _ := readAll(t, path, ReadOptions{Tail: -1})
	if !strings.HasSuffix(all.String(), got) || len(got) < 100 {
		t.Fatalf("Read: %q is not the end of what was written", got)
	}
	// --tail across the files.
	lines := strings.SplitAfter(got, "\n")
	n := len(lines) - 1 // (the last is empty)
	if tail, _ := readAll(t, path, ReadOptions{Tail: n - 1}); tail != strings.Join(lines[1:], "") {
		t.Errorf("tail %d: %q", n-1, tail)
	}
	if tail, _ := readAll(t, path, ReadOptions{Tail: 2}); tail != strings.Join(lines[n-2:], "") {
		t.Errorf("tail 2: %q", tail)
	}
	if tail, _ := readAll(t, path, ReadOptions{Tail: 100}); tail != got {
		t.Errorf("tail 100: %q", tail)
	}
	if tail, _ := readAll(t, path, ReadOptions{Tail: 0}); tail != "" {
		t.Errorf("tail 0: %q", tail)
	}

	// max-file=1: the file starts again.
	path1 := filepath.Join(t.TempDir(), "container.log")
	l, _ = Open(path1, Options{MaxSize: 100, MaxFiles: 1})
	for i := 0; i < 10; i++ {
		l.Stream("stdout").Write([]byte("0123456789012345678901234567890123456789\n"))
	}
	l.Close()
	if files := Files(path1); len(files) != 1 {
		t.Errorf("max-file 1: %v", files)
	}
}

func TestPlainAndTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	buf.WriteString("an older mydocker's line\n")
	Encode(&buf, "stdout", []byte("at ten\n"), t0)
	Encode(&buf, "stderr", []byte("at eleven\n"), t0.Add(time.Hour))
	Encode(&buf, "stdout", []byte("at noon\n"), t0.Add(2*time.Hour))
	os.WriteFile(path, buf.Bytes(), 0o600)

	if o, e := readAll(t, path, ReadOptions{Tail: -1}); o != "an older mydocker's line\nat ten\nat noon\n" || e != "at eleven\n" {
		t.Errorf("all: %q %q", o, e)
	}
	if o, e := readAll(t, path, ReadOptions{Tail: -1, Since: t0.Add(time.Hour)}); o != "at noon\n" || e != "at eleven\n" {
		t.Errorf("since 11: %q %q", o, e)
	}
	if o, e := readAll(t, path, ReadOptions{Tail: -1, Until: t0.Add(time.Hour - 1)}); o != "at ten\n" || e != "" {
		t.Errorf("until 10:59: %q %q", o, e)
	}
	if o, _ := readAll(t, path, ReadOptions{Tail: -1, Timestamps: true}); o != "an older mydocker's line\n2024-01-01T10:00:00.000000000Z at ten\n2024-01-01T12:00:00.000000000Z at noon\n" {
		t.Errorf("timestamps: %q", o)
	}
	if o, _ := readAll(t, path, ReadOptions{Tail: 1, Timestamps: true, Details: true}); o != "2024-01-01T12:00:00.000000000Z  at noon\n" {
		t.Errorf("timestamps and details: %q", o)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"10m":                       now.Add(-10 * time.Minute),
		"1h30m":                     now.Add(-90 * time.Minute),
		"2024-03-04T05:00:00Z":      time.Date(2024, 3, 4, 5, 0, 0, 0, time.UTC),
		"2024-03-04T05:00:00+01:00": time.Date(2024, 3, 4, 4, 0, 0, 0, time.UTC),
		"2024-03-04T05:00:00.5Z":    time.Date(2024, 3, 4, 5, 0, 0, 5e8, time.UTC),
		"2024-03-04":                time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC),
		"2024-03-04T05:06":          time.Date(2024, 3, 4, 5, 6, 0, 0, time.UTC),
		"1709528767":                time.Unix(1709528767, 0).UTC(),
		"1709528767.25":             time.Unix(1709528767, 25e7).UTC(),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2024-13-01", "12.x"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	_, o, err := ParseOptions([]string{"max-size=10m", "max-file=3"})
	if err != nil || o.MaxSize != 10e6 || o.MaxFiles != 3 {
		t.Errorf("10m, 3: %+v %v", o, err)
	}
	for _, bad := range [][]string{{"max-size=x"}, {"max-size=0"}, {"max-file=0", "max-size=1k"}, {"max-file=2"}, {"colour=red"}, {"max-size"}} {
		if _, _, err := ParseOptions(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// --tail N starts at the last N lines, whether or not the last one has
// its newline (a plain log's).
func TestTailPlain(t *testing.T) {
	for _, tc := range []struct {
		content string
		n       int
		want    string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 0, ""},
		{"a\nb\nc\n", 10, "a\nb\nc\n"},
		{"", 3, ""},
		{strings.Repeat("x\n", 100000) + "last\n", 1, "last\n"},
		{"\n\n", 1, "\n"},
	} {
		path := filepath.Join(t.TempDir(), "container.log")
		os.WriteFile(path, []byte(tc.content), 0o600)
		if got, _ := readAll(t, path, ReadOptions{Tail: tc.n}); got != tc.want {
			t.Errorf("tail %d of %.20q = %.20q, want %.20q", tc.n, tc.content, got, tc.want)
		}
	}
}

// Follow reads what is written meanwhile, across rotations, and ends once
// the writer has stopped, with everything the writer wrote (a file of 600
// bytes takes the writer about 600 ms, six of Follow's polls).
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	l, _ := Open(path, Options{MaxSize: 600, MaxFiles: 3})
	s := l.Stream("stdout")
	s.Write([]byte("before\n"))
	var stopped atomic.Bool
	var want strings.Builder
	want.WriteString("before\n")
	go func() {
		for i := 0; i < 40; i++ {
			line := fmt.Sprintf("line %02d\n", i)
			s.Write([]byte(line))
			want.WriteString(line)
			time.Sleep(30 * time.Millisecond)
		}
		s.Write([]byte("last"))
		s.Flush()
		want.WriteString("last")
		l.Close()
		stopped.Store(true)
	}()
	var out bytes.Buffer
	if err := Read(path, ReadOptions{Tail: -1, Follow: stopped.Load}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("followed %.60q..., want %.60q...", out.String(), want.String())
	}
}
