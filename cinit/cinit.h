// The program's format, shared by cinit.c and its encoder (cinit.go keeps
// the same numbers: TestConstantsMatch compares them).
#ifndef MYDOCKER_CINIT_H
#define MYDOCKER_CINIT_H

#define CINIT_MAGIC 0x4943444dU // "MDCI"
#define CINIT_MAX_PROGRAM 16777216U // 16 MB
#define CINIT_MAX_ARGS 65536
#define CINIT_MAX_GROUPS 65536
#define PATH_MAX_CINIT 4096

// Header flags.
#define CINIT_FLAG_NARRATED 1U // the parent narrates: wait for its 'a' before the exec

// Ops.
#define CINIT_OP_NOP 0
#define CINIT_OP_MOUNT 1
#define CINIT_OP_MOUNT_POINT 2
#define CINIT_OP_MKNOD 3
#define CINIT_OP_SYMLINK 4
#define CINIT_OP_PIVOT_ROOT 5
#define CINIT_OP_HOSTNAME 6
#define CINIT_OP_AWAIT 7
#define CINIT_OP_UNSHARE 8
#define CINIT_OP_CONSOLE 9
#define CINIT_OP_NO_NEW_PRIVS 10
#define CINIT_OP_SECCOMP 11
#define CINIT_OP_PRIVILEGES 12
#define CINIT_OP_PARENT 13
#define CINIT_OP_EXEC 14

// Reports (what).
#define CINIT_FAILED 1
#define CINIT_EXEC_NEXT 2
#define CINIT_PARENT_DO 3
#define CINIT_REACHED 4

// The bytes the parent sends after the program.
#define CINIT_SIGNALS "jgace\n"

// Failure details: which part of a step failed. A mkdir -p's failure
// (mount points, the working directory) has the length of the path that
// failed instead, always below these.
#define CINIT_BAD_PROGRAM 0x10000U
#define CINIT_PARENT_GONE 0x10001U
#define CINIT_UNEXPECTED 0x10002U
#define CINIT_OPEN 0x10003U
#define CINIT_MKNOD 0x10004U
#define CINIT_CHMOD 0x10005U
#define CINIT_CHOWN 0x10006U
#define CINIT_CHDIR 0x10007U
#define CINIT_PIVOT 0x10008U
#define CINIT_UMOUNT 0x10009U
#define CINIT_CHDIR_ROOT 0x1000aU
#define CINIT_PTMX 0x1000bU
#define CINIT_UNLOCKPT 0x1000cU
#define CINIT_PTN 0x1000dU
#define CINIT_SETSID 0x1000eU
#define CINIT_SCTTY 0x1000fU
#define CINIT_DUP 0x10010U
#define CINIT_SEND 0x10011U
#define CINIT_KEEPCAPS 0x10012U
#define CINIT_SETGROUPS 0x10013U
#define CINIT_SETRESGID 0x10014U
#define CINIT_SETRESUID 0x10015U
#define CINIT_KEEPCAPS_OFF 0x10016U
#define CINIT_AMBIENT 0x10017U
#define CINIT_CAPSET 0x10018U
#define CINIT_CHDIR_WD 0x10019U
#define CINIT_NOT_EXECUTABLE 0x1001aU
#define CINIT_NO_SUCH_FILE 0x1001bU
#define CINIT_NOT_IN_PATH 0x1001cU
#define CINIT_EXECVE 0x1001dU
// With a number in bits 24..31: the capability dropped, the pty opened (its
// low 8 bits).
#define CINIT_CAPBSET_DROP 0x1001eU
#define CINIT_SLAVE 0x1001fU

#endif
