package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// A blob is read as gzip, zstd or plain by its magic number, and the read
// ahead gives back every byte, in order, then EOF.
func TestUncompressedReadAhead(t *testing.T) {
	data := make([]byte, 1<<20+12345)
	rand.Read(data)
	var gz, zs bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(data)
	zw.Close()
	for name, blob := range map[string][]byte{"gzip": gz.Bytes(), "zstd": zs.Bytes(), "plain": data} {
		rc, err := uncompressed(bufio.NewReader(bytes.NewReader(blob)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := readAhead(rc)
		got, err := io.ReadAll(r)
		r.Close()
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes, %v; want the %d bytes written", name, len(got), err, len(data))
		}
	}
	// A read error reaches the reader after the bytes before it.
	boom := errors.New("boom")
	r := readAhead(io.MultiReader(bytes.NewReader([]byte("abc")), errReader{boom}))
	if got, err := io.ReadAll(r); string(got) != "abc" || !errors.Is(err, boom) {
		t.Errorf("ReadAll = %q, %v; want abc, boom", got, err)
	}
	// Closed half way, the goroutine stops (the race detector and the
	// leak of a blocked send would show otherwise).
	r = readAhead(bytes.NewReader(data))
	r.Read(make([]byte, 10))
	r.Close()
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
