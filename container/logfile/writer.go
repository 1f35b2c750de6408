// Package logfile is a container's log, in docker's json-file format: one
// JSON object a line, {"log":"...\n","stream":"stdout","time":"RFC3339Nano"},
// with docker's field names and escaping, so that the tools that read
// docker's logs (jq, promtail, fluent-bit's docker parser) read ours.
//
// The format is an on-disk API, docker's: a line of output is one record,
// its newline kept in "log"; a line longer than 16 KiB is cut into
// records of 16 KiB without a newline (partial), all with the time of the
// first; what is left without a newline when the stream ends is a last
// record without one, as docker's copier does. stdout and stderr are
// records of their own stream in one file, in the order they were read.
//
// With a size cap (--log-opt max-size=10m --log-opt max-file=3), a write
// that finds the file at or past max-size first rotates, as docker's
// json-file driver: container.log.1 becomes .2 and so on, the oldest
// (.max-file-1) is dropped, container.log becomes .1 and a new one is
// started; with max-file=1 the file starts again empty. Readers read the
// rotated files oldest first (see Read).
//
// A log of an older mydocker is plain text, stdout and stderr merged (as
// is the log of a --log-format script's stand-in): its lines are read as
// stdout records without a time, which -t does not stamp and --since and
// --until, unable to place them, leave out.
package logfile

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// File is a container's log, open for writing by whoever holds the
// container's output (the shim, or the foreground run). Its streams may
// write from several goroutines.
type File struct {
	mu   sync.Mutex
	path string
	opts Options
	f    *os.File
	size int64
	buf  bytes.Buffer // one record's encoding, reused
}

// Open opens (or creates) the log at path, to append to it.
func Open(path string, o Options) (*File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open container log: %w", err)
	}
	return &File{path: path, opts: o, f: f, size: fi.Size()}, nil
}

// Close closes the log; a nil *File is a log that is not kept.
func (l *File) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// write appends one record; line ends with its newline, or is a partial.
func (l *File) write(stream string, line []byte, t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opts.MaxSize > 0 && l.size >= l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	l.buf.Reset()
	Encode(&l.buf, stream, line, t)
	n, err := l.f.Write(l.buf.Bytes())
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// rotate shifts the rotated files by one, as docker's json-file driver,
// and starts an empty container.log. Readers that hold the old file keep
// reading it to its end (it is renamed, or unlinked, never truncated).
func (l *File) rotate() error {
	if l.opts.MaxFiles > 1 {
		os.Remove(l.path + "." + strconv.Itoa(l.opts.MaxFiles-1))
		for i := l.opts.MaxFiles - 1; i > 1; i-- {
			os.Rename(l.path+"."+strconv.Itoa(i-1), l.path+"."+strconv.Itoa(i))
		}
		if err := os.Rename(l.path, l.path+".1"); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate container log: %w", err)
		}
	} else if err := os.Remove(l.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rotate container log: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("rotate container log: %w", err)
	}
	l.f.Close()
	l.f, l.size = f, 0
	return nil
}

// Encode writes one record as docker's jsonlog writes it: "log" (left out
// when empty), "stream", "time" in RFC 3339 with nanoseconds, UTC; strings
// escaped as docker's (", \, \n, \r by name; other control bytes, <, >, &
// as \u00XX; invalid UTF-8 as \ufffd; U+2028 and U+2029 escaped), then a
// newline.
func Encode(buf *bytes.Buffer, stream string, line []byte, t time.Time) {
	buf.WriteByte('{')
	if len(line) > 0 {
		buf.WriteString(`"log":`)
		writeString(buf, line)
		buf.WriteByte(',')
	}
	if stream != "" {
		buf.WriteString(`"stream":`)
		writeString(buf, []byte(stream))
		buf.WriteByte(',')
	}
	buf.WriteString(`"time":"`)
	buf.WriteString(t.UTC().Format(time.RFC3339Nano))
	buf.WriteString("\"}\n")
}

func writeString(buf *bytes.Buffer, s []byte) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	flush := func(i int) {
		buf.Write(s[start:i])
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			flush(i)
			switch b {
			case '\\', '"':
				buf.WriteByte('\\')
				buf.WriteByte(b)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[b>>4])
				buf.WriteByte(hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			flush(i)
			buf.WriteString(`\ufffd`)
		case c == '\u2028' || c == '\u2029':
			flush(i)
			buf.WriteString(`\u202`)
			buf.WriteByte(hex[c&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	flush(len(s))
	buf.WriteByte('"')
}

// maxLine is where a line without a newline is cut into a partial record:
// docker's copier's buffer.
const maxLine = 16 << 10

// Stream is one of a container's output streams (stdout or stderr) into
// its log: an io.Writer that cuts what it is given into lines. One
// goroutine writes a Stream; Flush ends it.
type Stream struct {
	log     *File
	name    string
	pending []byte    // the start of a line not yet ended
	partial time.Time // the time of the first partial record of the current line
}

// Stream is the writer of records of stream name ("stdout", "stderr"); a
// nil *File gives a nil *Stream, which keeps nothing.
func (l *File) Stream(name string) *Stream {
	if l == nil {
		return nil
	}
	return &Stream{log: l, name: name}
}

// Ended says whether every line written so far has been logged: none was
// begun without its newline (which only this Stream holds). A nil
// *Stream keeps nothing.
func (s *Stream) Ended() bool {
	return s == nil || (len(s.pending) == 0 && s.partial.IsZero())
}

// Write logs every line p ends; the rest waits for its newline (or for
// the 16 KiB of a partial record, or for Flush). A failure to log is not
// the container's: Write always takes all of p.
func (s *Stream) Write(p []byte) (int, error) {
	if s == nil {
		return len(p), nil
	}
	n := len(p)
	for len(p) > 0 {
		room := maxLine - len(s.pending)
		if i := bytes.IndexByte(p, '\n'); i < 0 || i >= room {
			// No newline in what the line may still take.
			if len(p) < room {
				s.pending = append(s.pending, p...)
				break
			}
			s.pending = append(s.pending, p[:room]...)
			p = p[room:]
			s.emitPartial()
			continue
		}
		i := bytes.IndexByte(p, '\n')
		line := p[:i+1]
		if len(s.pending) > 0 {
			s.pending = append(s.pending, line...)
			line = s.pending
		}
		s.emit(line)
		p = p[i+1:]
	}
	return n, nil
}

// emit logs a line that ends with its newline.
func (s *Stream) emit(line []byte) {
	t := time.Now()
	if !s.partial.IsZero() {
		t = s.partial // the rest of a cut line: the time of its start, as docker
	}
	s.log.write(s.name, line, t)
	s.pending, s.partial = s.pending[:0], time.Time{}
	if cap(s.pending) > maxLine {
		s.pending = nil // a long line's buffer is not kept
	}
}

// emitPartial logs what is pending as a record without a newline.
func (s *Stream) emitPartial() {
	if len(s.pending) == 0 {
		return
	}
	if s.partial.IsZero() {
		s.partial = time.Now()
	}
	s.log.write(s.name, s.pending, s.partial)
	s.pending = s.pending[:0]
}

// Flush logs what is left without a newline, at the end of the stream.
func (s *Stream) Flush() {
	if s == nil {
		return
	}
	s.emitPartial()
	s.partial = time.Time{}
}
