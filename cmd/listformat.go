package cmd

import (
	"fmt"
	"io"
	"text/tabwriter"
	"text/template"
)

// listOutput is a list verb's --format (ps, images, network ls, stats),
// as listFormat reads it: "table TEMPLATE" prints a header (the template
// run over the row of column names) and a row per item, aligned in
// columns; "json" prints each item as one line of JSON; any other
// template prints a line per item as typed.
type listOutput struct {
	tmpl  *template.Template
	table bool
}

// newListOutput reads format, or quiet (-q's template) when given, with
// defaultTable for "" and "table".
func newListOutput(format, quiet, defaultTable string) (*listOutput, error) {
	tmpl, table, err := listFormat(format, quiet, defaultTable)
	if err != nil {
		return nil, err
	}
	return &listOutput{tmpl: tmpl, table: table}, nil
}

// write prints rows, after the header for a table; header is a row whose
// fields hold their column names (ps's "CONTAINER ID" for .ID).
func writeList[T any](w io.Writer, f *listOutput, header T, rows []T) error {
	out := w
	var tw *tabwriter.Writer
	if f.table {
		tw = tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
		out = tw
		line, err := render(f.tmpl, header)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, line)
	}
	for _, r := range rows {
		line, err := render(f.tmpl, r)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, line)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// writeInspect prints an inspect verb's items: as one indented JSON array,
// as docker's, or through tmpl (--format) one line per item.
func writeInspect[T any](w io.Writer, tmpl *template.Template, items []T) error {
	if tmpl == nil {
		return printJSON(items)
	}
	for _, it := range items {
		s, err := render(tmpl, it)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, s)
	}
	return nil
}
