// Command mydocker-kv is mydocker's etcd client, in a process of its own:
// mydocker (internal/kv) execs it when a command needs etcd (overlay
// networks), and talks to it in JSON lines over its stdin and stdout
// (internal/kv/wire), as a container runtime execs a CNI plugin. Kept out
// of mydocker's binary, etcd's client (gRPC, protobuf) costs nothing to
// the processes that never talk to etcd: every container start runs
// mydocker two or three times. It ends when its stdin closes, so it never
// outlives the mydocker that started it. Not a command for users.
package main

import (
	"fmt"
	"os"

	"github.com/mydocker/mydocker/internal/kv/etcdclient"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "mydocker-kv: mydocker's etcd client, started by mydocker (it speaks JSON lines on stdin and stdout); it takes no arguments")
		os.Exit(125)
	}
	if err := etcdclient.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mydocker-kv:", err)
		os.Exit(125)
	}
}
