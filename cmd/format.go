package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/urfave/cli/v2"
)

// --format, as docker's: a Go template run over what the verb would print
// as JSON, by its JSON names ({{.State.Pid}}, {{.NetworkSettings.IPAddress}},
// {{json .Config.Env}}), with docker's functions.

var formatFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join": func(v any, sep string) string {
		var parts []string
		if list, ok := v.([]any); ok {
			for _, x := range list {
				parts = append(parts, fmt.Sprint(x))
			}
		}
		return strings.Join(parts, sep)
	},
	"split":   strings.Split,
	"lower":   strings.ToLower,
	"upper":   strings.ToUpper,
	"title":   func(s string) string { return strings.ToUpper(s[:min(1, len(s))]) + s[min(1, len(s)):] },
	"println": fmt.Sprintln,
	"pad":     func(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) },
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
}

// formatFlag is the verb's --format template, nil when not given.
func formatFlag(c *cli.Context) (*template.Template, error) {
	if !c.IsSet("format") {
		return nil, nil
	}
	return parseFormat(c.String("format"))
}

// parseFormat parses a --format template ("json" alone: the object as one
// line of JSON, as docker's).
func parseFormat(text string) (*template.Template, error) {
	if text == "json" {
		text = "{{json .}}"
	}
	// A \t or \n typed in the shell's quotes is a tab or a newline, as
	// docker's table formats expect.
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	t, err := template.New("format").Funcs(formatFuncs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, Usagef("invalid --format: %v", err)
	}
	return t, nil
}

// listFormat reads a list verb's --format: quiet (-q) is the template
// that replaces it, table the default ("table" alone is the default too).
// It gives the template of a row, and whether a header row comes first.
func listFormat(format, quiet, table string) (*template.Template, bool, error) {
	if quiet != "" {
		format = quiet
	}
	header := format == "" || format == "table" || strings.HasPrefix(format, "table ")
	if format == "" || format == "table" {
		format = table
	}
	tmpl, err := parseFormat(strings.TrimPrefix(strings.TrimPrefix(format, "table"), " "))
	return tmpl, header, err
}

// render runs t over v as its JSON reads: numbers stay as written (no
// 6.7108864e+07 for a memory limit), fields by their JSON names.
func render(t *template.Template, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return "", fmt.Errorf("--format: %w", err)
	}
	return out.String(), nil
}
