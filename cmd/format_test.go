package cmd

import "testing"

func TestRenderFormat(t *testing.T) {
	v := struct {
		State  struct{ Pid int }
		Config struct {
			Memory int64
			Env    []string
		}
	}{}
	v.State.Pid = 42
	v.Config.Memory = 64 << 20
	v.Config.Env = []string{"A=1", "B=2"}
	for format, want := range map[string]string{
		"{{.State.Pid}}":                  "42",
		"{{.Config.Memory}}":              "67108864", // not 6.7108864e+07
		"{{json .Config.Env}}":            `["A=1","B=2"]`,
		`{{join .Config.Env ";"}}`:        "A=1;B=2",
		"json":                            `{"Config":{"Env":["A=1","B=2"],"Memory":67108864},"State":{"Pid":42}}`,
		"{{upper (index .Config.Env 0)}}": "A=1",
	} {
		tmpl, err := parseFormat(format)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if got, err := render(tmpl, v); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", format, got, err, want)
		}
	}
	if _, err := parseFormat("{{.State"); err == nil || ExitCode(err) != ExitFailure {
		t.Errorf("a bad template: %v", err)
	}
}
