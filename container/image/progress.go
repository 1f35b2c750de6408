package image

import (
	"fmt"
	"io"
	"time"
)

// progress shows a layer's download as docker does on a terminal: one
// line, rewritten at most ten times a second, then "Download complete".
type progress struct {
	io.ReadCloser
	w           io.Writer
	name        string
	total, done int64
	last        time.Time
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.done += int64(n)
	switch {
	case err == io.EOF:
		fmt.Fprintf(p.w, "\r%s: Download complete %s\033[K\n", p.name, humanSize(p.done))
	case time.Since(p.last) > 100*time.Millisecond:
		p.last = time.Now()
		fmt.Fprintf(p.w, "\r%s: Downloading %s/%s\033[K", p.name, humanSize(p.done), humanSize(p.total))
	}
	return n, err
}
