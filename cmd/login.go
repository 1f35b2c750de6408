package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mydocker/mydocker/container/image"
)

// Login is `mydocker login`, as docker's: the credentials are checked with
// the registry, then kept in docker's config file for pull and push.
var Login = &cli.Command{
	Name:      "login",
	Usage:     "log in to a registry (Docker Hub by default); credentials go to $DOCKER_CONFIG/config.json or ~/.docker/config.json",
	ArgsUsage: "[SERVER]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "the user name"},
		&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "the password (visible to other users in ps: prefer --password-stdin)"},
		&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 1 {
			return Usagef("\"login\" takes at most 1 argument, got %d: see 'mydocker login --help'", c.NArg())
		}
		server := c.Args().First()
		user, password := c.String("username"), c.String("password")
		switch {
		case c.IsSet("username") && user == "":
			return Usagef("login: username is empty")
		case c.IsSet("password") && password == "":
			return Usagef("login: password is empty")
		case c.Bool("password-stdin") && c.IsSet("password"):
			return Usagef("login: give --password or --password-stdin, not both")
		case c.Bool("password-stdin") && user == "":
			return Usagef("login: --password-stdin needs --username")
		}
		if password != "" {
			fmt.Fprintln(os.Stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		}
		if c.Bool("password-stdin") {
			b, err := io.ReadAll(os.Stdin)
			if err != nil {
				return fmt.Errorf("login: read the password from stdin: %w", err)
			}
			// The line's end only: the rest of a password is its own.
			for _, eol := range []string{"\r\n", "\n", "\r"} {
				var ok bool
				if b, ok = bytes.CutSuffix(b, []byte(eol)); ok {
					break
				}
			}
			if password = string(b); strings.TrimSpace(password) == "" {
				return Usagef("login: password is empty")
			}
		}

		// No credentials given: those stored, if the registry still takes
		// them (as docker's login does).
		if user == "" && password == "" {
			if u, p, ok := image.StoredLogin(server); ok {
				fmt.Fprintf(os.Stderr, "Authenticating with existing credentials... [Username: %s]\n", u)
				if key, err := image.CheckLogin(c.Context, server, u, p); err == nil {
					if err := image.SaveLogin(key, u, p); err != nil {
						return err
					}
					fmt.Println("Login Succeeded")
					return nil
				}
			}
		}
		if user == "" || password == "" {
			var err error
			if user, password, err = prompt(user); err != nil {
				return err
			}
		}
		key, err := image.CheckLogin(c.Context, server, user, password)
		if err != nil {
			return err
		}
		if err := image.SaveLogin(key, user, password); err != nil {
			return err
		}
		fmt.Println("Login Succeeded")
		return nil
	},
}

// prompt asks the terminal for what is missing: the user name, then the
// password without echo.
func prompt(user string) (string, string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", "", Usagef("login: no terminal to ask for credentials: give -u USER and -p PASSWORD or --password-stdin")
	}
	if user == "" {
		fmt.Fprint(os.Stderr, "Username: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", "", fmt.Errorf("login: read the username: %w", err)
		}
		if user = strings.TrimSpace(line); user == "" {
			return "", "", Usagef("login: username is empty")
		}
	}
	fmt.Fprint(os.Stderr, "Password: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", "", fmt.Errorf("login: read the password: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", "", Usagef("login: password is empty")
	}
	return user, string(b), nil
}

// Logout is `mydocker logout`.
var Logout = &cli.Command{
	Name:      "logout",
	Usage:     "forget the credentials of a registry (Docker Hub by default)",
	ArgsUsage: "[SERVER]",
	Action: func(c *cli.Context) error {
		if c.NArg() > 1 {
			return Usagef("\"logout\" takes at most 1 argument, got %d: see 'mydocker logout --help'", c.NArg())
		}
		shown, removed, err := image.Logout(c.Args().First())
		if err != nil {
			return err
		}
		if !removed {
			fmt.Printf("Not logged in to %s\n", shown)
			return nil
		}
		fmt.Printf("Removing login credentials for %s\n", shown)
		return nil
	},
}
