package logfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"time"
)

// Record is one record of a log: what was written (with its newline,
// unless a partial), its stream, and when. A line of an older plain-text
// log is a stdout record with no time.
type Record struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// Parse reads one line of a log file.
func Parse(line []byte) Record {
	var r Record
	if bytes.HasPrefix(line, []byte(`{`)) && json.Unmarshal(line, &r) == nil && !r.Time.IsZero() {
		if r.Stream == "" {
			r.Stream = "stdout"
		}
		return r
	}
	return Record{Log: string(line), Stream: "stdout"}
}

// ReadOptions select what Read writes, as docker logs' flags.
type ReadOptions struct {
	Since, Until time.Time // zero: no bound; a record without a time is then left out
	Tail         int       // the last Tail records of the files (before Since and Until); -1: all
	Timestamps   bool      // prefix each record with its time (RFC3339Nano, fixed width) and a space
	// Details prefixes each record with its attributes and a space, as
	// docker's --details: records here have none (no labels, env or tag
	// log options), so a space.
	Details bool
	// Follow, if set, keeps reading what is written after the end, across
	// rotations, until it returns true (the writer has stopped); then what
	// is left is read and Read returns.
	Follow func() bool
}

// RFC3339NanoFixed is docker's format of logs -t: nanoseconds always nine digits.
const RFC3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// Files are the files of the log at path that exist, oldest first:
// path.N ... path.1, path.
func Files(path string) []string {
	files := []string{path}
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		files = append([]string{p}, files...)
	}
	return files
}

// Read writes the records of the log at path (with its rotated files)
// that o selects, each to its stream: stdout records to out, stderr ones
// to errOut. A log that does not exist has no records.
func Read(path string, o ReadOptions, out, errOut io.Writer) error {
	files := Files(path)
	first, offset := 0, int64(0)
	if o.Tail >= 0 {
		var err error
		if first, offset, err = tailStart(files, o.Tail); err != nil {
			return err
		}
	}
	rd := &reader{o: o, out: out, errOut: errOut}
	for i := first; i < len(files); i++ {
		f, err := os.Open(files[i])
		if errors.Is(err, os.ErrNotExist) {
			continue // rotated away meanwhile
		}
		if err != nil {
			return err
		}
		if i == first {
			f.Seek(offset, io.SeekStart)
		}
		if i < len(files)-1 {
			err = rd.copy(f, true)
			f.Close()
			if err != nil {
				return err
			}
			continue
		}
		if o.Follow != nil {
			return rd.follow(path, f)
		}
		err = rd.copy(f, true)
		f.Close()
		return err
	}
	return nil
}

// reader writes records out, keeping an unfinished last line for later.
type reader struct {
	o           ReadOptions
	out, errOut io.Writer
	rest        []byte // the start of a line whose newline has not been written yet
	done        bool   // past Until
}

// copy writes the records of f from where it is to its end. A last line
// without its newline is written if final (a plain log's last line, or a
// file nobody writes any more), else kept until the rest of it comes.
func (rd *reader) copy(f *os.File, final bool) error {
	br := bufio.NewReaderSize(f, 32<<10)
	for !rd.done {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			rd.rest = append(rd.rest, line...)
			continue
		}
		if len(rd.rest) > 0 {
			line = append(rd.rest, line...)
			rd.rest = rd.rest[:0]
		}
		if err == io.EOF {
			if len(line) > 0 && final {
				return rd.write(line)
			}
			rd.rest = append(rd.rest, line...)
			return nil
		}
		if err != nil {
			return err
		}
		if err := rd.write(line); err != nil {
			return err
		}
	}
	return nil
}

func (rd *reader) write(line []byte) error {
	r := Parse(line)
	if !rd.o.Since.IsZero() || !rd.o.Until.IsZero() {
		if r.Time.IsZero() || r.Time.Before(rd.o.Since) {
			return nil
		}
		if !rd.o.Until.IsZero() && r.Time.After(rd.o.Until) {
			rd.done = true
			return nil
		}
	}
	w := rd.out
	if r.Stream == "stderr" {
		w = rd.errOut
	}
	out := r.Log
	if rd.o.Details {
		out = " " + out
	}
	if rd.o.Timestamps && !r.Time.IsZero() {
		out = r.Time.UTC().Format(RFC3339NanoFixed) + " " + out
	}
	_, err := io.WriteString(w, out)
	return err
}

// follow keeps reading f, the log's current file, as it grows; when the
// writer rotates it (path names another file), f is read to its end and
// the new file followed. It returns once Follow says the writer stopped
// (what was written before is read first), or the records pass Until.
// It closes the file it reads.
func (rd *reader) follow(path string, f *os.File) error {
	defer func() { f.Close() }()
	for !rd.done {
		stopped := rd.o.Follow()
		if err := rd.copy(f, false); err != nil {
			return err
		}
		if cur, err := os.Stat(path); err == nil {
			if fi, err := f.Stat(); err == nil && !os.SameFile(fi, cur) {
				nf, err := os.Open(path)
				if err == nil {
					rd.copy(f, true)
					f.Close()
					f = nf
					continue // read the new file before deciding to stop
				}
			}
		}
		if stopped {
			if len(rd.rest) > 0 {
				return rd.write(rd.rest)
			}
			return nil
		}
		if !rd.o.Until.IsZero() && time.Now().After(rd.o.Until) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// tailStart finds where the last n lines of files begin: the index of the
// file and the offset in it, reading each backwards a chunk at a time.
func tailStart(files []string, n int) (int, int64, error) {
	for i := len(files) - 1; i >= 0; i-- {
		f, err := os.Open(files[i])
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		off, found, err := seekLines(f, &n)
		f.Close()
		if err != nil || found {
			return i, off, err
		}
	}
	return 0, 0, nil
}

// seekLines counts *n lines back from the end of f: found with the offset
// where they start, or not found with *n lessened by the lines f has. A
// last line without its newline counts.
func seekLines(f *os.File, n *int) (int64, bool, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, false, err
	}
	if *n == 0 {
		return end, true, nil
	}
	pos := end
	buf := make([]byte, 32<<10)
	for pos > 0 {
		size := min(int64(len(buf)), pos)
		pos -= size
		if _, err := f.ReadAt(buf[:size], pos); err != nil {
			return 0, false, err
		}
		for i := size - 1; i >= 0; i-- {
			if buf[i] != '\n' {
				continue
			}
			if pos+i == end-1 {
				continue // the file's last newline ends its last line
			}
			if *n--; *n == 0 {
				return pos + i + 1, true, nil
			}
		}
	}
	// The file's first line.
	if end > 0 {
		if *n--; *n == 0 {
			return 0, true, nil
		}
	}
	return 0, false, nil
}
