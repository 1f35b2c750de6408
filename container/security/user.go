package security

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// User is the identity the container's process runs as.
type User struct {
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// AdditionalGids are docker's: the primary group, then the user's
	// supplementary groups from /etc/group.
	AdditionalGids []uint32 `json:"additional_gids,omitempty"`
	Home           string   `json:"home,omitempty"`
}

// NonRoot reports whether the process is not uid 0 (docker then gives it no
// effective or permitted capabilities).
func (u User) NonRoot() bool { return u.UID != 0 }

// ResolveUser resolves docker's -u/--user (uid, uid:gid, name, name:group,
// and mixes) against the image's /etc/passwd and /etc/group under rootfs,
// with moby/sys/user as docker and runc do: a name the files do not know is
// an error; a numeric uid or gid that they do not know is used as it is, with
// HOME=/. An empty spec is root. The files are opened with
// RESOLVE_IN_ROOT, so an image's symlink cannot point them at the host's.
func ResolveUser(rootfs, spec string) (User, error) {
	if spec == "" {
		spec = "0"
	}
	passwd, perr := openInRoot(rootfs, "/etc/passwd")
	if perr == nil {
		defer passwd.Close()
	}
	group, gerr := openInRoot(rootfs, "/etc/group")
	if gerr == nil {
		defer group.Close()
	}
	var pr, gr io.Reader
	if perr == nil {
		pr = passwd
	}
	if gerr == nil {
		gr = group
	}
	eu, err := user.GetExecUser(spec, &user.ExecUser{Home: "/"}, pr, gr)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", spec, err)
	}
	u := User{UID: uint32(eu.Uid), GID: uint32(eu.Gid), Home: eu.Home, AdditionalGids: []uint32{uint32(eu.Gid)}}
	for _, g := range eu.Sgids {
		if uint32(g) != u.GID {
			u.AdditionalGids = append(u.AdditionalGids, uint32(g))
		}
	}
	return u, nil
}

func openInRoot(root, path string) (*os.File, error) {
	if root == "" {
		root = "/"
	}
	dfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat2(dfd, strings.TrimPrefix(path, "/"), &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}
